package raster

import (
	"bytes"
	"image"
	"image/png"
	"testing"

	"github.com/boombuler/barcode/code128"
	"github.com/boombuler/barcode/qr"

	"printdock/printer/raster/rastertest"
)

// The carrier-style test label (printer/raster/rastertest).
const (
	testTracking = rastertest.Tracking
	testQR       = rastertest.QRText
)

type pdfDoc = rastertest.PDFDoc

func labelPDF(t testing.TB, wPt, hPt float64) []byte { return rastertest.CarrierPDF(t, wPt, hPt) }

var (
	isDark  = rastertest.IsDark
	deflate = rastertest.Deflate
)

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
