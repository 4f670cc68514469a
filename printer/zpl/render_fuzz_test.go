package zpl

import (
	"errors"
	"image"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRender feeds the renderer arbitrary input: it must return an image within the limits or an
// error, and never panic. Run it with go test ./printer/zpl/ -run '^$' -fuzz FuzzRender -fuzztime 30s.
func FuzzRender(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.zpl"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"^XA^FO10,10^A0R,30,30^FB100,3,2,J^FR^FDa b c\\&d^FS^XZ",
		"^XA^FO5,5^GFA,16,16,2,gF,:!,GH^FS^XZ",
		"^XA^FO5,5^GFA,8,8,1,:Z64:eJwLTS0qys8DAAtHAzs=:0000^FS^XZ",
		"^XA^FO5,5^GFB,4,4,1,^^^^^FS^XZ",
		"^XA^BY1,2.5,10^FO1,1^B3R,Y,,Y,Y^FD12^FS^FO1,1^BCI,5,Y,Y,Y,D^FD(00)1^FS^XZ",
		"^XA^FO1,1^BQN,2,10^FDMM,B9999x^FS^FO1,1^BXB,2,200^FDx^FS^XZ",
		"^XA^LH-5,-5^LS9999^FT^FD^FS^FT^A@N,,,E:X.TTF^FDz^FS^XA",
		"^XA^PW1^LL1^FO0,0^GB32000,32000,32000^FS^POI^PMY^XZ",
		"~DGR:X.GRF,4,1,FF^XA^XGR:X.GRF^FS^XZ",
	} {
		f.Add([]byte(s))
	}
	opts := RenderOptions{Width: 200, Height: 200, MaxPixels: 1 << 18}
	f.Fuzz(func(t *testing.T, zpl []byte) {
		res, err := RenderLabel(zpl, opts)
		if err != nil {
			if !errors.Is(err, ErrNoLabel) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unexpected error: %v", err)
			}
			return
		}
		b := res.Image.Rect
		if b.Min != (image.Point{}) || b.Dx() <= 0 || b.Dy() <= 0 || b.Dx()*b.Dy() > opts.MaxPixels {
			t.Fatalf("image %v outside the limits", b)
		}
		for _, p := range res.Image.Pix {
			if p > 1 {
				t.Fatalf("palette index %d", p)
			}
		}
	})
}
