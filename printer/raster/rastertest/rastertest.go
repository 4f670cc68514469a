// Package rastertest holds test fixtures for PDF and PNG labels, shared by printer/raster's own tests and
// the end-to-end tests that print a carrier's label through a real server and agent: a carrier-style
// 4×6 PDF with a Code 128 and a QR code, and a reader that decodes both from a printed image.
package rastertest

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/code128"
	"github.com/boombuler/barcode/qr"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"

	"printdock/printer"
	"printdock/printer/zpl"
)

// The barcodes of the carrier-style test label.
const (
	Tracking = "1Z999AA10123456784"
	QRText   = "https://track.example.com/1Z999AA10123456784?carrier=ups&svc=ground"
)

// PDFDoc writes a minimal, valid PDF: objects numbered from 1 in order, a cross-reference table with
// the real offsets, and a trailer. Object 1 must be the catalog.
type PDFDoc struct {
	buf  bytes.Buffer
	offs []int
}

func (d *PDFDoc) Obj(body string) int {
	if d.buf.Len() == 0 {
		d.buf.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	}
	d.offs = append(d.offs, d.buf.Len())
	fmt.Fprintf(&d.buf, "%d 0 obj\n%s\nendobj\n", len(d.offs), body)
	return len(d.offs)
}

func (d *PDFDoc) Stream(dict string, data []byte) int {
	return d.Obj(fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(data), data))
}

func (d *PDFDoc) Bytes() []byte {
	xref := d.buf.Len()
	fmt.Fprintf(&d.buf, "xref\n0 %d\n0000000000 65535 f \n", len(d.offs)+1)
	for _, o := range d.offs {
		fmt.Fprintf(&d.buf, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&d.buf, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(d.offs)+1, xref)
	return d.buf.Bytes()
}

// CarrierPDF makes a carrier-style shipping label of wPt×hPt points (288×432 is 4×6 in): a frame, text in
// Helvetica, the tracking number as a Code 128 drawn with vector bars, and a QR code as an 8-bit gray
// image XObject (one pixel per module, scaled up by the page, as label generators embed them).
func CarrierPDF(t testing.TB, wPt, hPt float64) []byte {
	t.Helper()
	bc, err := code128.Encode(Tracking)
	if err != nil {
		t.Fatal(err)
	}
	qrc, err := qr.Encode(QRText, qr.M, qr.Auto)
	if err != nil {
		t.Fatal(err)
	}
	var c strings.Builder
	c.WriteString("q 0 g 0 G 2 w 8 8 " + pt(wPt-16) + " " + pt(hPt-16) + " re S\n")
	fmt.Fprintf(&c, "BT /F1 18 Tf 20 %s Td (UPS GROUND) Tj ET\n", pt(hPt-40))
	fmt.Fprintf(&c, "BT /F1 10 Tf 20 %s Td (SHIP TO: JANE DOE, 1 MAIN ST, SPRINGFIELD) Tj ET\n", pt(hPt-60))
	fmt.Fprintf(&c, "BT /F1 10 Tf 20 %s Td (TRACKING #: %s) Tj ET\n", pt(hPt-76), Tracking)
	c.WriteString("8 " + pt(hPt-90) + " m " + pt(wPt-8) + " " + pt(hPt-90) + " l S\n")
	// Code 128: modules of mod points, 72 pt high, quiet zone of 10 modules included in the margins.
	// Portrait: the QR code below the bars; landscape: beside them.
	side := 115.2 // 1.6 in
	barW, qx, qy := wPt-40, (wPt-side)/2, hPt-220-side
	if wPt > hPt {
		barW, qx, qy = wPt-side-60, wPt-side-20, 24.0
	}
	modules := bc.Bounds().Dx()
	mod := min(1.0, barW/float64(modules))
	x0, y0 := 20+(barW-mod*float64(modules))/2, hPt-180
	for x := 0; x < modules; {
		if !IsDark(bc, x) {
			x++
			continue
		}
		n := 1
		for x+n < modules && IsDark(bc, x+n) {
			n++
		}
		fmt.Fprintf(&c, "%s %s %s 72 re f\n", pt(x0+float64(x)*mod), pt(y0), pt(float64(n)*mod))
		x += n
	}
	fmt.Fprintf(&c, "q %s 0 0 %s %s %s cm /Im1 Do Q\nQ\n", pt(side), pt(side), pt(qx), pt(qy))

	qb := qrc.Bounds()
	pix := make([]byte, 0, qb.Dx()*qb.Dy())
	for y := qb.Min.Y; y < qb.Max.Y; y++ {
		for x := qb.Min.X; x < qb.Max.X; x++ {
			r, _, _, _ := qrc.At(x, y).RGBA()
			pix = append(pix, byte(r>>8))
		}
	}
	var d PDFDoc
	d.Obj("<< /Type /Catalog /Pages 2 0 R >>")
	d.Obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	d.Obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] /Resources << /Font << /F1 5 0 R >> /XObject << /Im1 6 0 R >> >> /Contents 4 0 R >>", pt(wPt), pt(hPt)))
	d.Stream("", []byte(c.String()))
	d.Obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	d.Stream(fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode", qb.Dx(), qb.Dy()), Deflate(pix))
	return d.Bytes()
}

func IsDark(b barcode.Barcode, x int) bool {
	r, _, _, _ := b.At(x, 0).RGBA()
	return r < 0x8000
}

func pt(v float64) string { return fmt.Sprintf("%.3f", v) }

func Deflate(b []byte) []byte {
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// DecodeBarcodes reads the Code 128 and the QR code of a label image; a code it cannot read fails t.
func DecodeBarcodes(t testing.TB, img image.Image) (code128, qr string) {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	hints := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	if r, err := oned.NewCode128Reader().Decode(bmp, hints); err != nil {
		t.Errorf("Code 128 not decoded: %v", err)
	} else {
		code128 = r.GetText()
	}
	if r, err := qrcode.NewQRCodeReader().Decode(bmp, hints); err != nil {
		t.Errorf("QR code not decoded: %v", err)
	} else {
		qr = r.GetText()
	}
	return code128, qr
}

var bitmapCommand = regexp.MustCompile(`(?:GW0,0,|BITMAP 0,0,)(\d+),(\d+),(?:0,)?`)

// PrintedImage recovers what a printer would print from a job's bytes: ZPL through printer/zpl's renderer
// (a renderer warning or skipped command fails t), EPL and TSPL by reading their GW / BITMAP data back
// (0 bits are black). label picks the label of a job with several (0 = the first).
func PrintedImage(t testing.TB, lang printer.Language, dpi int, data []byte, label int) image.Image {
	t.Helper()
	if lang == printer.LangZPL {
		res, err := zpl.RenderLabel(data, zpl.RenderOptions{DotsPerMM: (dpi + 12) / 25, Label: label})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Warnings) > 0 || len(res.Skipped) > 0 {
			t.Errorf("zpl renderer: warnings %q, skipped %q", res.Warnings, res.Skipped)
		}
		return res.Image
	}
	locs := bitmapCommand.FindAllSubmatchIndex(data, -1)
	if len(locs) <= label {
		t.Fatalf("%s job has %d graphics, want label %d", lang, len(locs), label)
	}
	m := locs[label]
	stride, _ := strconv.Atoi(string(data[m[2]:m[3]]))
	h, _ := strconv.Atoi(string(data[m[4]:m[5]]))
	bits := data[m[1]:]
	if len(bits) < stride*h {
		t.Fatalf("%s graphic has %d of %d bytes", lang, len(bits), stride*h)
	}
	img := image.NewGray(image.Rect(0, 0, stride*8, h))
	for y := range h {
		for x := range stride * 8 {
			if bits[y*stride+x/8]&(0x80>>(x%8)) != 0 {
				img.Pix[y*img.Stride+x] = 0xff
			}
		}
	}
	return img
}
