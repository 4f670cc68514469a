package raster

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"strings"

	"github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/enums"
	pdferrors "github.com/klippa-app/go-pdfium/errors"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"
	"github.com/klippa-app/go-pdfium/webassembly"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// pdfEngine renders PDF pages with PDFium compiled to WebAssembly, run by wazero (pure Go, no cgo).
// Its workers are WebAssembly instances of PDFium: at most Limits.Workers, each with at most
// Limits.MemoryMiB of memory and no file system; one is reused from job to job and replaced when a job
// failed, timed out or panicked.
type pdfEngine struct {
	pool pdfium.Pool
}

func startPDFEngine(lim Limits) (*pdfEngine, error) {
	rc := wazero.NewRuntimeConfig().
		// PDFium's setjmp/longjmp are WebAssembly exceptions.
		WithCoreFeatures(api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling).
		// Killing an instance (on timeout) interrupts the call in progress.
		WithCloseOnContextDone(true).
		WithMemoryLimitPages(uint32(lim.MemoryMiB) * 16) // 64 KiB pages
	if lim.CacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(lim.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("compilation cache: %w", err)
		}
		rc = rc.WithCompilationCache(cache)
	}
	pool, err := webassembly.Init(webassembly.Config{
		MinIdle:       1,
		MaxIdle:       lim.Workers,
		MaxTotal:      lim.Workers,
		ReuseWorkers:  true,
		RuntimeConfig: rc,
		FSConfig:      wazero.NewFSConfig(), // nothing of the host's file system
		Stdout:        io.Discard,
		Stderr:        io.Discard,
	})
	if err != nil {
		return nil, err
	}
	return &pdfEngine{pool: pool}, nil
}

func (e *pdfEngine) close() error { return e.pool.Close() }

// render draws the pages t.Pages of the PDF content onto w×h label bitmaps. It returns the document's
// page count and whether the first page was turned.
func (e *pdfEngine) render(ctx context.Context, content []byte, t Target, w, h int) (pages []*Bitmap, docPages int, rotated bool, err error) {
	inst, err := e.pool.GetInstanceWithContext(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, 0, false, fmt.Errorf("raster: pdf: waiting for the renderer: %w", ctxErr(ctx))
		}
		return nil, 0, false, fmt.Errorf("raster: pdf: get renderer: %v: %w", err, ErrUnavailable)
	}
	// On timeout or cancel, Kill interrupts the WebAssembly call in progress and discards the worker.
	stop := context.AfterFunc(ctx, func() { inst.Kill() })
	healthy := false
	defer func() {
		if !stop() {
			return // killed
		}
		if healthy {
			inst.Close()
		} else {
			inst.Kill() // a worker that failed may hold a broken heap: start a fresh one
		}
	}()
	defer func() {
		if r := recover(); r != nil {
			healthy = false
			pages, err = nil, fmt.Errorf("raster: pdf: renderer failed: %v: %w", r, ErrBadDocument)
		}
	}()
	pages, docPages, rotated, err = renderPages(inst, content, t, w, h)
	if err != nil && ctx.Err() != nil {
		return nil, 0, false, fmt.Errorf("raster: pdf: %w", ctxErr(ctx))
	}
	healthy = err == nil
	return pages, docPages, rotated, err
}

// renderPages does render's work on one PDFium instance.
func renderPages(inst pdfium.Pdfium, content []byte, t Target, w, h int) ([]*Bitmap, int, bool, error) {
	doc, err := inst.OpenDocument(&requests.OpenDocument{File: &content})
	if err != nil {
		return nil, 0, false, openError(err)
	}
	defer inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: doc.Document})
	count, err := inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: doc.Document})
	if err != nil {
		return nil, 0, false, fmt.Errorf("raster: pdf: page count: %v: %w", err, ErrBadDocument)
	}
	n := count.PageCount
	if n <= 0 {
		return nil, 0, false, fmt.Errorf("raster: pdf: document has no pages: %w", ErrBadDocument)
	}
	var pages []*Bitmap
	rotated := false
	for i, p := range t.Pages {
		if p > n {
			return nil, n, false, fmt.Errorf("raster: pdf: page %d requested, document has %d: %w", p, n, ErrBadTarget)
		}
		b, rot, err := renderPage(inst, doc.Document, p-1, t, w, h)
		if err != nil {
			return nil, n, false, fmt.Errorf("raster: pdf: page %d: %w", p, err)
		}
		if i == 0 {
			rotated = rot
		}
		pages = append(pages, b)
	}
	return pages, n, rotated, nil
}

// renderPage renders one page (0-based index) straight at the size it takes on the label, in gray, and
// thresholds or dithers it onto a w×h bitmap.
func renderPage(inst pdfium.Pdfium, doc references.FPDF_DOCUMENT, index int, t Target, w, h int) (*Bitmap, bool, error) {
	page := requests.Page{ByIndex: &requests.PageByIndex{Document: doc, Index: index}}
	size, err := inst.GetPageSize(&requests.GetPageSize{Page: page})
	if err != nil {
		return nil, false, fmt.Errorf("size: %v: %w", err, ErrBadDocument)
	}
	pw, ph := size.Width, size.Height
	if !(pw >= 1 && ph >= 1 && pw <= 1e5 && ph <= 1e5) || math.IsNaN(pw) || math.IsNaN(ph) {
		return nil, false, fmt.Errorf("page size %g × %g pt: %w", pw, ph, ErrBadDocument)
	}
	f := fitTo(pw, ph, w, h)
	res, err := inst.RenderPageInPixels(&requests.RenderPageInPixels{
		Page:        page,
		Width:       f.W,
		Height:      f.H,
		RenderFlags: enums.FPDF_RENDER_FLAG_ANNOT | enums.FPDF_RENDER_FLAG_PRINTING,
		ImageFormat: requests.RenderImageFormatGrayscale,
	})
	if err != nil {
		return nil, false, engineError("render", err)
	}
	defer res.Cleanup()
	g, ok := res.Result.RenderedImage.(*image.Gray)
	if !ok {
		return nil, false, fmt.Errorf("render: got %T, not gray: %w", res.Result.RenderedImage, ErrBadDocument)
	}
	b := NewBitmap(w, h)
	place(b, g, f.Rotate, t.Dither) // reads PDFium's memory: before Cleanup
	return b, f.Rotate, nil
}

// openError explains why PDFium could not open a document.
func openError(err error) error {
	var why string
	switch {
	case errors.Is(err, pdferrors.ErrPassword):
		why = "password protected"
	case errors.Is(err, pdferrors.ErrSecurity):
		why = "unsupported encryption"
	case errors.Is(err, pdferrors.ErrFormat), errors.Is(err, pdferrors.ErrFile):
		why = "not a PDF or damaged"
	default:
		return engineError("raster: pdf: open", err)
	}
	return fmt.Errorf("raster: pdf: open: %s: %w", why, ErrBadDocument)
}

// engineError classifies a PDFium failure: running out of its memory (Limits.MemoryMiB) is ErrTooLarge,
// anything else ErrBadDocument.
func engineError(op string, err error) error {
	msg := err.Error()
	if strings.Contains(msg, "allocate memory") || strings.Contains(msg, "too large") || strings.Contains(msg, "out of memory") {
		return fmt.Errorf("%s: %s (renderer memory limit): %w", op, msg, ErrTooLarge)
	}
	return fmt.Errorf("%s: %s: %w", op, msg, ErrBadDocument)
}
