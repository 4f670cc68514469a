package raster

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"printdock/printer"
	"printdock/printer/raster/rastertest"
)

// testConverter is shared by the tests: starting the PDF engine takes seconds (minutes under the race
// detector on a busy machine), so it keeps its compiled code in a cache directory across test runs.
var testConverter = sync.OnceValue(func() *Converter {
	c := New(Limits{CacheDir: testCacheDir()})
	if err := c.Start(context.Background()); err != nil {
		panic(err)
	}
	return c
})

// testCacheDir is where the tests keep the engine's compiled code between runs.
func testCacheDir() string { return filepath.Join(os.TempDir(), "printdock-raster-wazero-cache") }

// decodeBarcodes reads the Code 128 and the QR code of a label image.
func decodeBarcodes(t *testing.T, img image.Image) (code128, qr string) {
	return rastertest.DecodeBarcodes(t, img)
}

// printedBitmap recovers the dots a printer would print from a job (rastertest.PrintedImage).
func printedBitmap(t *testing.T, lang printer.Language, dpi int, data []byte, label int) *Bitmap {
	t.Helper()
	img := rastertest.PrintedImage(t, lang, dpi, data, label)
	r := img.Bounds()
	b := NewBitmap(r.Dx(), r.Dy())
	for y := range b.H {
		for x := range b.W {
			v, _, _, _ := img.At(r.Min.X+x, r.Min.Y+y).RGBA()
			b.Set(x, y, v < 0x8000)
		}
	}
	return b
}

func TestCarrierLabelPDF(t *testing.T) {
	pdf := labelPDF(t, 288, 432)
	tests := []struct {
		lang       printer.Language
		dpi        int
		wantW, wth int
	}{
		{printer.LangZPL, 203, 812, 1218},
		{printer.LangTSPL, 300, 1200, 1800},
		{printer.LangEPL, 203, 812, 1218},
		{printer.LangZPL, 300, 1200, 1800},
	}
	for _, tt := range tests {
		t.Run(string(tt.lang)+"-"+strconv.Itoa(tt.dpi), func(t *testing.T) {
			res, err := testConverter().Convert(context.Background(), pdf, "pdf", Target{Language: tt.lang, DPI: tt.dpi})
			if err != nil {
				t.Fatal(err)
			}
			if res.Width != tt.wantW || res.Height != tt.wth || res.Pages != 1 || res.DocumentPages != 1 || res.Rotated {
				t.Errorf("result %d×%d, %d of %d pages, rotated %v", res.Width, res.Height, res.Pages, res.DocumentPages, res.Rotated)
			}
			b := printedBitmap(t, tt.lang, tt.dpi, res.Data, 0)
			if b.H != tt.wth || b.W < tt.wantW || b.W > tt.wantW+7 {
				t.Fatalf("printed %d×%d dots", b.W, b.H)
			}
			prev, err := png.Decode(bytes.NewReader(res.Preview))
			if err != nil {
				t.Fatal(err)
			}
			if d := sameDots(prev, b); d != "" {
				t.Errorf("preview differs from the printed dots: %s", d)
			}
			c128, qr := decodeBarcodes(t, b)
			if c128 != testTracking || qr != testQR {
				t.Errorf("decoded %q and %q, want %q and %q", c128, qr, testTracking, testQR)
			}
		})
	}
}

// sameDots compares an image (dark = black) with a bitmap over the image's area; the bitmap may be
// wider by its padding.
func sameDots(img image.Image, b *Bitmap) string {
	r := img.Bounds()
	if r.Dy() != b.H || r.Dx() > b.W {
		return "size " + r.Size().String()
	}
	for y := range r.Dy() {
		for x := range r.Dx() {
			c, _, _, _ := img.At(r.Min.X+x, r.Min.Y+y).RGBA()
			if (c < 0x8000) != b.Black(x, y) {
				return "dot " + image.Pt(x, y).String()
			}
		}
	}
	return ""
}

func TestPDFLandscapeIsTurned(t *testing.T) {
	res, err := testConverter().Convert(context.Background(), labelPDF(t, 432, 288), "pdf", Target{Language: printer.LangZPL})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Rotated || res.Width != 812 || res.Height != 1218 {
		t.Fatalf("rotated %v, %d×%d", res.Rotated, res.Width, res.Height)
	}
	b := printedBitmap(t, printer.LangZPL, 203, res.Data, 0)
	c128, qr := decodeBarcodes(t, turnBack(b))
	if c128 != testTracking || qr != testQR {
		t.Errorf("decoded %q and %q", c128, qr)
	}
}

// turnBack turns a bitmap 90° counter-clockwise, undoing place's turn.
func turnBack(b *Bitmap) *Bitmap {
	out := NewBitmap(b.H, b.W)
	for y := range b.H {
		for x := range b.W {
			if b.Black(x, y) {
				out.Set(y, b.W-1-x, true)
			}
		}
	}
	return out
}

func TestPDFErrors(t *testing.T) {
	good := labelPDF(t, 288, 432)
	zpl := Target{Language: printer.LangZPL}
	tests := []struct {
		name    string
		content []byte
		kind    string
		t       Target
		want    error
	}{
		{"not a pdf", []byte("hello, world"), "pdf", zpl, ErrBadDocument},
		{"empty", nil, "pdf", zpl, ErrBadDocument},
		{"header only", []byte("%PDF-1.4\n%%EOF\n"), "pdf", zpl, ErrBadDocument},
		{"no pages", emptyPDF(), "pdf", zpl, ErrBadDocument},
		{"page out of range", good, "pdf", Target{Language: printer.LangZPL, Pages: []int{2}}, ErrBadTarget},
		{"page zero", good, "pdf", Target{Language: printer.LangZPL, Pages: []int{0}}, ErrBadTarget},
		{"too many pages", good, "pdf", Target{Language: printer.LangZPL, Pages: make([]int, 17)}, ErrTooLarge},
		{"unknown kind", good, "tiff", zpl, ErrBadTarget},
		{"dpl printer", good, "pdf", Target{Language: printer.LangDPL}, ErrUnsupported},
		{"unknown language", good, "pdf", Target{}, ErrUnsupported},
		{"dpi", good, "pdf", Target{Language: printer.LangZPL, DPI: 2400}, ErrBadTarget},
		{"label size", good, "pdf", Target{Language: printer.LangZPL, WidthMM: -1, HeightMM: 10}, ErrBadTarget},
		{"huge label", good, "pdf", Target{Language: printer.LangZPL, DPI: 600, WidthMM: 500, HeightMM: 2000}, ErrTooLarge},
		{"dither", good, "pdf", Target{Language: printer.LangZPL, Dither: "fs"}, ErrBadTarget},
		{"zpl compression", good, "pdf", Target{Language: printer.LangZPL, ZPLCompression: "b64"}, ErrBadTarget},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := testConverter().Convert(context.Background(), tt.content, tt.kind, tt.t)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			t.Log(err)
		})
	}
}

// emptyPDF is a well-formed PDF whose page tree has no pages.
func emptyPDF() []byte {
	var d pdfDoc
	d.Obj("<< /Type /Catalog /Pages 2 0 R >>")
	d.Obj("<< /Type /Pages /Kids [] /Count 0 >>")
	return d.Bytes()
}

// twoPagePDF has a black left half on page 1 and a black right half on page 2.
func twoPagePDF() []byte {
	var d pdfDoc
	d.Obj("<< /Type /Catalog /Pages 2 0 R >>")
	d.Obj("<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>")
	d.Obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 432] /Contents 5 0 R >>")
	d.Obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 432] /Contents 6 0 R >>")
	d.Stream("", []byte("0 g 0 0 144 432 re f"))
	d.Stream("", []byte("0 g 144 0 144 432 re f"))
	return d.Bytes()
}

func TestPDFPagesInOrder(t *testing.T) {
	for _, lang := range []printer.Language{printer.LangZPL, printer.LangEPL, printer.LangTSPL} {
		t.Run(string(lang), func(t *testing.T) {
			res, err := testConverter().Convert(context.Background(), twoPagePDF(), "pdf", Target{Language: lang, Pages: []int{2, 1, 2}})
			if err != nil {
				t.Fatal(err)
			}
			if res.Pages != 3 || res.DocumentPages != 2 {
				t.Fatalf("%d labels of %d pages", res.Pages, res.DocumentPages)
			}
			for i, leftBlack := range []bool{false, true, false} {
				b := printedBitmap(t, lang, 203, res.Data, i)
				if b.Black(200, 600) != leftBlack || b.Black(600, 600) == leftBlack {
					t.Errorf("label %d: left black %v, right black %v; want left %v", i, b.Black(200, 600), b.Black(600, 600), leftBlack)
				}
			}
			prev, err := png.Decode(bytes.NewReader(res.Preview))
			if err != nil {
				t.Fatal(err)
			}
			if want := 3*1218 + 2*previewGap; prev.Bounds().Dy() != want {
				t.Errorf("preview is %v, want 3 labels stacked (%d high)", prev.Bounds().Size(), want)
			}
		})
	}
}

// TestConcurrentConversions runs more conversions at once than there are workers.
func TestConcurrentConversions(t *testing.T) {
	pdf := labelPDF(t, 288, 432)
	pngLabel := labelPNG(t, 400, 600, 1)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for i := range 6 {
		wg.Go(func() {
			content, kind := pdf, "pdf"
			if i%3 == 2 {
				content, kind = pngLabel, "png"
			}
			_, err := testConverter().Convert(context.Background(), content, kind, Target{Language: printer.LangTSPL, DPI: 300})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// TestPDFPageRotateIsHonoured: a landscape page with /Rotate 90 is shown portrait by PDFium, so it fits
// a 4×6 label without being turned again.
func TestPDFPageRotateIsHonoured(t *testing.T) {
	pdf := bytes.Replace(labelPDF(t, 432, 288), []byte("/Type /Page /Parent"), []byte("/Type /Page /Rotate 90 /Parent"), 1)
	res, err := testConverter().Convert(context.Background(), pdf, "pdf", Target{Language: printer.LangZPL})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rotated {
		t.Error("turned a page that /Rotate already made portrait")
	}
	b := printedBitmap(t, printer.LangZPL, 203, res.Data, 0)
	if c128, qr := decodeBarcodes(t, turnBack(b)); c128 != testTracking || qr != testQR {
		t.Errorf("decoded %q, %q", c128, qr)
	}
}
