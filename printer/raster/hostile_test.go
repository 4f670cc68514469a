package raster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"printdock/printer"
)

// nestedFormsPDF is a tiny PDF whose page draws form X1 ten times, X1 draws X2 ten times, … down to a
// filled path: 10^depth paths, rendering for hours.
func nestedFormsPDF(depth int) []byte {
	var d pdfDoc
	d.Obj("<< /Type /Catalog /Pages 2 0 R >>")
	d.Obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	d.Obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 432] /Resources << /XObject << /X 5 0 R >> >> /Contents 4 0 R >>")
	d.Stream("", []byte(strings.Repeat("/X Do\n", 10)))
	for i := range depth {
		if i == depth-1 {
			d.Stream("/Type /XObject /Subtype /Form /BBox [0 0 288 432]", []byte("0 0 288 432 re f 10 10 m 280 420 l 3 w S"))
			break
		}
		d.Stream(fmt.Sprintf("/Type /XObject /Subtype /Form /BBox [0 0 288 432] /Resources << /XObject << /X %d 0 R >> >>", 6+i), []byte(strings.Repeat("/X Do\n", 10)))
	}
	return d.Bytes()
}

// bigImagePDF is a page with a size×size 8-bit gray image whose data is a few kilobytes: run-length
// codes for zeros (128 bytes per code), deflated (a decompression bomb: size² bytes once decoded).
func bigImagePDF(size int) []byte {
	rl := bytes.Repeat([]byte{0x81, 0x00}, size*size/128+1)
	rl = append(rl, 0x80) // end of data
	var d pdfDoc
	d.Obj("<< /Type /Catalog /Pages 2 0 R >>")
	d.Obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	d.Obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 432] /Resources << /XObject << /Im 5 0 R >> >> /Contents 4 0 R >>")
	d.Stream("", []byte("q 288 0 0 432 0 0 cm /Im Do Q"))
	d.Stream(fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter [/FlateDecode /RunLengthDecode]", size, size), deflate(rl))
	return d.Bytes()
}

// TestPDFTimeoutStopsRenderer renders a PDF that would take hours: the conversion must end soon after
// its deadline with ErrTimeout, and the converter must still work afterwards (the stuck worker was
// killed and replaced).
func TestPDFTimeoutStopsRenderer(t *testing.T) {
	c := testConverter()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Convert(ctx, nestedFormsPDF(9), "pdf", Target{Language: printer.LangZPL})
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	t.Logf("stopped after %v: %v", time.Since(start), err)
	for range 3 { // more than Workers: every worker slot must be usable again
		if _, err := c.Convert(context.Background(), labelPDF(t, 288, 432), "pdf", Target{Language: printer.LangZPL}); err != nil {
			t.Fatalf("after a timeout: %v", err)
		}
	}
}

// TestPDFMemoryBomb renders a page whose image decodes to more than the engine's memory limit: the
// conversion fails or draws without it, but does not crash, and the converter keeps working.
func TestPDFMemoryBomb(t *testing.T) {
	c := testConverter()
	pdf := bigImagePDF(20000)
	start := time.Now()
	res, err := c.Convert(context.Background(), pdf, "pdf", Target{Language: printer.LangZPL})
	t.Logf("%d-byte PDF: took %v, err %v", len(pdf), time.Since(start), err)
	if err != nil && !errors.Is(err, ErrBadDocument) && !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want a bad or too large document", err)
	}
	if err == nil {
		t.Logf("rendered %d×%d", res.Width, res.Height)
	}
	if _, err := c.Convert(context.Background(), labelPDF(t, 288, 432), "pdf", Target{Language: printer.LangZPL}); err != nil {
		t.Fatalf("after the bomb: %v", err)
	}
}

// TestPDFMemoryLimit gives the engine little memory and a PDF larger than it: ErrTooLarge, and the
// engine goes on working.
func TestPDFMemoryLimit(t *testing.T) {
	c := New(Limits{MemoryMiB: 20, CacheDir: testCacheDir()})
	defer c.Close()
	pdf := labelPDF(t, 288, 432)
	padded := append(bytes.Clone(pdf), "% "...)
	padded = append(padded, bytes.Repeat([]byte("x"), 24<<20)...)
	_, err := c.Convert(context.Background(), padded, "pdf", Target{Language: printer.LangZPL})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	t.Log(err)
	if _, err := c.Convert(context.Background(), pdf, "pdf", Target{Language: printer.LangZPL, DPI: 600}); err != nil {
		t.Fatalf("after running out of memory: %v", err)
	}
}
