package raster

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"image/png"
	"strings"
	"testing"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/code128"
	"github.com/boombuler/barcode/qr"
)

// The barcodes of the carrier-style test label.
const (
	testTracking = "1Z999AA10123456784"
	testQR       = "https://track.example.com/1Z999AA10123456784?carrier=ups&svc=ground"
)

// pdfDoc writes a minimal, valid PDF: objects numbered from 1 in order, a cross-reference table with
// the real offsets, and a trailer. Object 1 must be the catalog.
type pdfDoc struct {
	buf  bytes.Buffer
	offs []int
}

func (d *pdfDoc) obj(body string) int {
	if d.buf.Len() == 0 {
		d.buf.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	}
	d.offs = append(d.offs, d.buf.Len())
	fmt.Fprintf(&d.buf, "%d 0 obj\n%s\nendobj\n", len(d.offs), body)
	return len(d.offs)
}

func (d *pdfDoc) stream(dict string, data []byte) int {
	return d.obj(fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(data), data))
}

func (d *pdfDoc) bytes() []byte {
	xref := d.buf.Len()
	fmt.Fprintf(&d.buf, "xref\n0 %d\n0000000000 65535 f \n", len(d.offs)+1)
	for _, o := range d.offs {
		fmt.Fprintf(&d.buf, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&d.buf, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(d.offs)+1, xref)
	return d.buf.Bytes()
}

// labelPDF makes a carrier-style shipping label of wPt×hPt points (288×432 is 4×6 in): a frame, text in
// Helvetica, the tracking number as a Code 128 drawn with vector bars, and a QR code as an 8-bit gray
// image XObject (one pixel per module, scaled up by the page, as label generators embed them).
func labelPDF(t testing.TB, wPt, hPt float64) []byte {
	t.Helper()
	bc, err := code128.Encode(testTracking)
	if err != nil {
		t.Fatal(err)
	}
	qrc, err := qr.Encode(testQR, qr.M, qr.Auto)
	if err != nil {
		t.Fatal(err)
	}
	var c strings.Builder
	c.WriteString("q 0 g 0 G 2 w 8 8 " + pt(wPt-16) + " " + pt(hPt-16) + " re S\n")
	fmt.Fprintf(&c, "BT /F1 18 Tf 20 %s Td (UPS GROUND) Tj ET\n", pt(hPt-40))
	fmt.Fprintf(&c, "BT /F1 10 Tf 20 %s Td (SHIP TO: JANE DOE, 1 MAIN ST, SPRINGFIELD) Tj ET\n", pt(hPt-60))
	fmt.Fprintf(&c, "BT /F1 10 Tf 20 %s Td (TRACKING #: %s) Tj ET\n", pt(hPt-76), testTracking)
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
		if !isDark(bc, x) {
			x++
			continue
		}
		n := 1
		for x+n < modules && isDark(bc, x+n) {
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
	var d pdfDoc
	d.obj("<< /Type /Catalog /Pages 2 0 R >>")
	d.obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	d.obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] /Resources << /Font << /F1 5 0 R >> /XObject << /Im1 6 0 R >> >> /Contents 4 0 R >>", pt(wPt), pt(hPt)))
	d.stream("", []byte(c.String()))
	d.obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	d.stream(fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode", qb.Dx(), qb.Dy()), deflate(pix))
	return d.bytes()
}

func isDark(b barcode.Barcode, x int) bool {
	r, _, _, _ := b.At(x, 0).RGBA()
	return r < 0x8000
}

func pt(v float64) string { return fmt.Sprintf("%.3f", v) }

func deflate(b []byte) []byte {
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// labelPNG draws the same kind of label as a PNG of w×h pixels: a frame, the Code 128 with modules of
// mod pixels and the QR code with modules of 4·mod pixels.
func labelPNG(t testing.TB, w, h, mod int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	fill := func(x0, y0, x1, y1 int) {
		for y := max(y0, 0); y < min(y1, h); y++ {
			for x := max(x0, 0); x < min(x1, w); x++ {
				img.Pix[y*img.Stride+x] = 0
			}
		}
	}
	fill(8, 8, w-8, 12)
	fill(8, h-12, w-8, h-8)
	fill(8, 8, 12, h-8)
	fill(w-12, 8, w-8, h-8)
	bc, err := code128.Encode(testTracking)
	if err != nil {
		t.Fatal(err)
	}
	x0 := (w - bc.Bounds().Dx()*mod) / 2
	for x := range bc.Bounds().Dx() {
		if isDark(bc, x) {
			fill(x0+x*mod, 60, x0+(x+1)*mod, 60+40*mod)
		}
	}
	qrc, err := qr.Encode(testQR, qr.M, qr.Auto)
	if err != nil {
		t.Fatal(err)
	}
	q := 4 * mod
	qx, qy := (w-qrc.Bounds().Dx()*q)/2, 60+40*mod+20*mod
	for y := range qrc.Bounds().Dy() {
		for x := range qrc.Bounds().Dx() {
			if r, _, _, _ := qrc.At(x, y).RGBA(); r < 0x8000 {
				fill(qx+x*q, qy+y*q, qx+(x+1)*q, qy+(y+1)*q)
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
