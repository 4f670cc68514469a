package raster

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"sync"
	"testing"
	"time"

	"printdock/printer"
)

// fuzzConverter has a short timeout so that a slow input is reported as ErrTimeout, not as a hang.
var fuzzConverter = sync.OnceValue(func() *Converter {
	c := New(Limits{Timeout: 5 * time.Second, CacheDir: testCacheDir(), Workers: 1})
	if err := c.Start(context.Background()); err != nil {
		panic(err)
	}
	return c
})

// FuzzConvert feeds arbitrary PDFs and PNGs to Convert: it must return a result or one of the package's
// errors, never panic or hang, and a result must be a printable label with a readable preview.
//
//	go test -run XXX -fuzz FuzzConvert -fuzztime 2m -parallel 1 ./printer/raster/
func FuzzConvert(f *testing.F) {
	f.Add(labelPDF(f, 288, 432), false)
	f.Add(emptyPDF(), false)
	f.Add(nestedFormsPDF(2), false)
	f.Add(bigImagePDF(300), false)
	f.Add([]byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF"), false)
	f.Add(labelPNG(f, 100, 150, 1), true)
	f.Add(pngWithSize(3, 3), true)
	f.Fuzz(func(t *testing.T, content []byte, isPNG bool) {
		kind := "pdf"
		if isPNG {
			kind = "png"
		}
		res, err := fuzzConverter().Convert(context.Background(), content, kind,
			Target{Language: printer.LangZPL, WidthMM: 50, HeightMM: 30, Pages: []int{1}})
		if err != nil {
			for _, want := range []error{ErrBadDocument, ErrTooLarge, ErrTimeout, ErrBadTarget} {
				if errors.Is(err, want) {
					return
				}
			}
			t.Fatalf("untyped error: %v", err)
		}
		if res.Width != 400 || res.Height != 240 || !bytes.HasPrefix(res.Data, []byte("^XA")) {
			t.Fatalf("result %d×%d, data %.20q", res.Width, res.Height, res.Data)
		}
		if _, err := png.Decode(bytes.NewReader(res.Preview)); err != nil {
			t.Fatalf("preview: %v", err)
		}
	})
}
