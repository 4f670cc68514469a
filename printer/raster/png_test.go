package raster

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"testing"

	"printdock/printer"
)

// pngConverter converts PNGs only; it never starts the PDF engine.
var pngConverter = New(Limits{})

func TestPNGSameSizeIsCopiedDotForDot(t *testing.T) {
	src := labelPNG(t, 812, 1218, 2)
	res, err := pngConverter.Convert(context.Background(), src, "png", Target{Language: printer.LangZPL})
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	b := printedBitmap(t, printer.LangZPL, 203, res.Data, 0)
	if d := sameDots(img, b); d != "" {
		t.Errorf("printed dots differ from the PNG: %s", d)
	}
	if c128, qr := decodeBarcodes(t, b); c128 != testTracking || qr != testQR {
		t.Errorf("decoded %q, %q", c128, qr)
	}
}

func TestPNGScaledAndTurned(t *testing.T) {
	tests := []struct {
		name        string
		w, h, mod   int
		t           Target
		wantRotated bool
	}{
		{"203 dpi png to 300 dpi tspl", 812, 1218, 2, Target{Language: printer.LangTSPL, DPI: 300}, false},
		{"300 dpi png to 203 dpi zpl", 1200, 1800, 3, Target{Language: printer.LangZPL, DPI: 203}, false},
		{"landscape png to portrait label", 1218, 812, 2, Target{Language: printer.LangEPL, DPI: 203}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := pngConverter.Convert(context.Background(), labelPNG(t, tt.w, tt.h, tt.mod), "png", tt.t)
			if err != nil {
				t.Fatal(err)
			}
			if res.Rotated != tt.wantRotated {
				t.Errorf("rotated = %v", res.Rotated)
			}
			b := printedBitmap(t, tt.t.Language, tt.t.DPI, res.Data, 0)
			if res.Rotated {
				b = turnBack(b)
			}
			if c128, qr := decodeBarcodes(t, b); c128 != testTracking || qr != testQR {
				t.Errorf("decoded %q, %q", c128, qr)
			}
		})
	}
}

func TestPNGTransparentIsWhite(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 80, 120)) // all transparent black
	for y := range 120 {
		for x := 20; x < 30; x++ {
			img.Set(x, y, color.NRGBA{A: 0xff}) // an opaque black bar
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	res, err := pngConverter.Convert(context.Background(), buf.Bytes(), "png", Target{Language: printer.LangZPL, WidthMM: 10, HeightMM: 15, DPI: 203})
	if err != nil {
		t.Fatal(err)
	}
	b := printedBitmap(t, printer.LangZPL, 203, res.Data, 0)
	black := 0
	for y := range b.H {
		for x := range b.W {
			if b.Black(x, y) {
				black++
			}
		}
	}
	// 80×120 scaled to 80×120 dots (10 × 15 mm at 203 dpi): only the 10-dot bar is black.
	if want := 10 * 120; black < want*9/10 || black > want*11/10 {
		t.Errorf("%d black dots, want about %d", black, want)
	}
}

// pngWithSize returns a 1×1 PNG whose header claims w×h pixels.
func pngWithSize(w, h uint32) []byte {
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1)))
	b := buf.Bytes()
	// signature (8), length (4), "IHDR" (4), width, height, …; the CRC covers type and data (17 bytes).
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func TestPNGErrors(t *testing.T) {
	good := labelPNG(t, 200, 300, 1)
	zpl := Target{Language: printer.LangZPL}
	tests := []struct {
		name    string
		content []byte
		t       Target
		want    error
	}{
		{"not a png", []byte("GIF89a"), zpl, ErrBadDocument},
		{"truncated", good[:len(good)/2], zpl, ErrBadDocument},
		{"header claims 100000×100000", pngWithSize(100000, 100000), zpl, ErrTooLarge},
		{"header claims 0×5", pngWithSize(0, 5), zpl, ErrBadDocument},
		{"second page", good, Target{Language: printer.LangZPL, Pages: []int{2}}, ErrBadTarget},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pngConverter.Convert(context.Background(), tt.content, "png", tt.t)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	small := New(Limits{MaxInputBytes: 100})
	if _, err := small.Convert(context.Background(), good, "png", zpl); !errors.Is(err, ErrTooLarge) {
		t.Errorf("input over MaxInputBytes: err = %v", err)
	}
}

// TestFlatten checks the direct conversions against image/draw's general one.
func TestFlatten(t *testing.T) {
	pal := color.Palette{color.NRGBA{0, 0, 0, 0}, color.NRGBA{200, 30, 60, 255}, color.NRGBA{10, 250, 90, 128}, color.Gray{Y: 77}}
	p := image.NewPaletted(image.Rect(3, 2, 40, 30), pal)
	n := image.NewNRGBA(image.Rect(-5, 1, 30, 20))
	g := image.NewGray(image.Rect(1, 1, 20, 9))
	for i := range p.Pix {
		p.Pix[i] = uint8(i % len(pal))
	}
	for i := range n.Pix {
		n.Pix[i] = uint8(i * 37)
	}
	for i := range g.Pix {
		g.Pix[i] = uint8(i * 11)
	}
	r := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := 0; i < len(r.Pix); i += 4 {
		a := uint8(i * 7)
		r.Pix[i], r.Pix[i+1], r.Pix[i+2], r.Pix[i+3] = a/3, a/2, a, a // premultiplied: components ≤ alpha
	}
	for _, img := range []image.Image{p, n, g, r} {
		got := flatten(img)
		want := image.NewGray(got.Rect)
		draw.Draw(want, want.Rect, image.White, image.Point{}, draw.Src)
		draw.Draw(want, want.Rect, img, img.Bounds().Min, draw.Over)
		for i := range want.Pix {
			if d := int(got.Pix[i]) - int(want.Pix[i]); d < -1 || d > 1 {
				t.Fatalf("%T: pixel %d is %d, image/draw gives %d", img, i, got.Pix[i], want.Pix[i])
			}
		}
	}
}

func TestShrink(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 7, 4)) // 3×2 blocks of 2×2, the last column dropped
	for i := range g.Pix {
		g.Pix[i] = uint8(10 * (i % 7))
	}
	got := shrink(g, 2)
	if got.Rect.Dx() != 3 || got.Rect.Dy() != 2 || got.Pix[0] != 5 || got.Pix[1] != 25 || got.Pix[5] != 45 {
		t.Errorf("shrink = %v %v", got.Rect, got.Pix)
	}
}

func TestBilinear(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 2, 1))
	g.Pix[0], g.Pix[1] = 0, 200
	got := bilinear(g, 4, 2) // the edge lands between dots 1 and 2, as in the source
	for y := range 2 {
		if row := got.Pix[y*got.Stride : y*got.Stride+4]; !bytes.Equal(row, []byte{0, 50, 150, 200}) {
			t.Errorf("row %d = %v", y, row)
		}
	}
}
