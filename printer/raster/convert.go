package raster

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"printdock/printer"
)

// Errors callers branch on (wrapped with the reason; test with errors.Is).
var (
	// ErrBadDocument means the content is not a readable PDF or PNG (malformed, truncated, encrypted,
	// no pages). An HTTP server answers 422.
	ErrBadDocument = errors.New("document cannot be read")
	// ErrTooLarge means the content, its page count, its pixel size or the memory it needs exceeds the
	// Limits. An HTTP server answers 413 or 422.
	ErrTooLarge = errors.New("document too large")
	// ErrTimeout means rendering did not finish within Limits.Timeout or the context's deadline; the
	// renderer was stopped. It also matches context.DeadlineExceeded.
	ErrTimeout = errors.New("rendering took too long")
	// ErrBadTarget means the Target is invalid: a label size, dpi or page number out of range, or an
	// unknown content kind. An HTTP server answers 400.
	ErrBadTarget = errors.New("invalid conversion target")
	// ErrUnsupported means the printer's language has no bitmap encoder here (dpl, escpos, unknown).
	ErrUnsupported = errors.New("printer language not supported for pdf/png labels")
	// ErrUnavailable means the PDF engine could not start. An HTTP server answers 503.
	ErrUnavailable = errors.New("pdf renderer unavailable")
)

// Target says what to make: the printer's language and print head, the label size and which pages.
type Target struct {
	// Language is the printer's command language: zpl, epl or tspl.
	Language printer.Language
	// DPI is the print head's resolution in dots per inch (100–600); 0 means 203.
	DPI int
	// WidthMM and HeightMM are the label size; 0 means 4×6 in (101.6 × 152.4 mm).
	WidthMM, HeightMM float64
	// Pages are the 1-based PDF pages to print, one label each, in this order; empty means [1].
	// A PNG has one page.
	Pages []int
	// Dither says how gray becomes black and white; "" means DitherAuto.
	Dither Dither
	// ZPLCompression is the ^GFA data format for ZPL; "" means ZPLZ64.
	ZPLCompression ZPLCompression
}

// Result is a converted label job.
type Result struct {
	// Data is the job in the printer's language, one complete label per page.
	Data []byte
	// Preview is a 1-bit PNG of exactly the dots in Data, the pages one below the other.
	Preview []byte
	// Pages is the number of labels in Data; DocumentPages the number of pages of the source.
	Pages, DocumentPages int
	// Width and Height are the label size in dots.
	Width, Height int
	// Rotated reports that the (first) page was turned 90° clockwise to fit the label better.
	Rotated bool
}

// Limits bound what one conversion may take. The zero value of a field means its default.
type Limits struct {
	MaxInputBytes   int           // content size; default 32 MiB
	MaxPages        int           // labels per conversion; default 16
	MaxLabelPixels  int           // dots per label (width × height); default 16 Mi (4×6 in at 600 dpi is 8.6 Mi)
	MaxSourcePixels int           // PNG width × height; default 24 Mi (96 MiB decoded)
	Timeout         time.Duration // one conversion, from the call; default 20 s
	MemoryMiB       int           // the PDF engine's WebAssembly memory per worker; default 256 MiB
	Workers         int           // conversions at once; default min(2, GOMAXPROCS)

	// CacheDir, when set, keeps the PDF engine's compiled code on disk (wazero's compilation cache), so
	// that a restarted process starts it in well under a second instead of seconds. Not a limit, but
	// configured with them.
	CacheDir string
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxInputBytes, 32<<20)
	def(&l.MaxPages, 16)
	def(&l.MaxLabelPixels, 16<<20)
	def(&l.MaxSourcePixels, 24<<20)
	def(&l.MemoryMiB, 256)
	def(&l.Workers, min(2, runtime.GOMAXPROCS(0)))
	if l.Timeout <= 0 {
		l.Timeout = 20 * time.Second
	}
	return l
}

// Converter converts PDF and PNG labels within its Limits. Its PDF engine starts in the background on
// the first PDF (or on Start) and is reused; at most Limits.Workers conversions run at once, the others
// wait (bounded by their context). A Converter is safe for concurrent use.
type Converter struct {
	lim Limits
	sem chan struct{}

	mu       sync.Mutex
	pdf      *pdfEngine    // nil until started
	starting chan struct{} // closed when the start in progress ends; nil when none is
	startErr error         // why the last start failed
	closed   bool
}

// New returns a Converter with the given limits.
func New(lim Limits) *Converter {
	lim = lim.withDefaults()
	return &Converter{lim: lim, sem: make(chan struct{}, lim.Workers)}
}

var (
	defaultOnce sync.Once
	defaultConv *Converter
)

// Convert converts content with the package's shared Converter (default Limits), whose PDF engine
// lives for the life of the process.
func Convert(ctx context.Context, content []byte, kind string, t Target) (Result, error) {
	defaultOnce.Do(func() { defaultConv = New(Limits{}) })
	return defaultConv.Convert(ctx, content, kind, t)
}

// Convert renders content of the given kind ("pdf" or "png") for the target printer and encodes it in
// the printer's language.
func (c *Converter) Convert(ctx context.Context, content []byte, kind string, t Target) (Result, error) {
	t, w, h, err := c.normalize(t)
	if err != nil {
		return Result{}, err
	}
	if len(content) > c.lim.MaxInputBytes {
		return Result{}, fmt.Errorf("raster: %s of %d bytes exceeds %d: %w", kind, len(content), c.lim.MaxInputBytes, ErrTooLarge)
	}
	if kind != "pdf" && kind != "png" {
		return Result{}, fmt.Errorf("raster: content kind %q (want pdf or png): %w", kind, ErrBadTarget)
	}
	ctx, cancel := context.WithTimeout(ctx, c.lim.Timeout)
	defer cancel()
	select {
	case c.sem <- struct{}{}:
		defer func() { <-c.sem }()
	case <-ctx.Done():
		return Result{}, fmt.Errorf("raster: waiting for a worker: %w", ctxErr(ctx))
	}

	var (
		pages    []*Bitmap
		docPages = 1
		rotated  bool
	)
	if kind == "png" {
		if len(t.Pages) != 1 || t.Pages[0] != 1 {
			return Result{}, fmt.Errorf("raster: png has one page, pages %v requested: %w", t.Pages, ErrBadTarget)
		}
		pages, rotated, err = c.pngLabels(ctx, content, t, w, h)
	} else {
		var eng *pdfEngine
		if eng, err = c.engine(ctx); err == nil {
			pages, docPages, rotated, err = eng.render(ctx, content, t, w, h)
		}
	}
	if err != nil {
		return Result{}, err
	}
	data, err := Encode(t, pages)
	if err != nil {
		return Result{}, err
	}
	preview, err := stack(pages, previewGap).PNG()
	if err != nil {
		return Result{}, err
	}
	return Result{Data: data, Preview: preview, Pages: len(pages), DocumentPages: docPages, Width: w, Height: h, Rotated: rotated}, nil
}

// previewGap is the white band between pages in a multi-page preview, in dots.
const previewGap = 24

// normalize fills in the Target's defaults, checks it and returns the label size in dots.
func (c *Converter) normalize(t Target) (Target, int, int, error) {
	switch t.Language {
	case printer.LangZPL, printer.LangEPL, printer.LangTSPL:
	default:
		return t, 0, 0, fmt.Errorf("raster: language %q (zpl, epl and tspl are): %w", t.Language, ErrUnsupported)
	}
	if t.DPI == 0 {
		t.DPI = 203
	}
	if t.WidthMM == 0 && t.HeightMM == 0 {
		t.WidthMM, t.HeightMM = 101.6, 152.4
	}
	if t.DPI < 100 || t.DPI > 600 {
		return t, 0, 0, fmt.Errorf("raster: %d dpi is not a label printer's (100–600): %w", t.DPI, ErrBadTarget)
	}
	if !(t.WidthMM >= 5 && t.WidthMM <= 500 && t.HeightMM >= 5 && t.HeightMM <= 2000) {
		return t, 0, 0, fmt.Errorf("raster: label of %g × %g mm (5–500 × 5–2000 mm): %w", t.WidthMM, t.HeightMM, ErrBadTarget)
	}
	w := int(math.Round(t.WidthMM * float64(t.DPI) / 25.4))
	h := int(math.Round(t.HeightMM * float64(t.DPI) / 25.4))
	if w*h > c.lim.MaxLabelPixels {
		return t, 0, 0, fmt.Errorf("raster: label of %d×%d dots exceeds %d: %w", w, h, c.lim.MaxLabelPixels, ErrTooLarge)
	}
	switch t.Dither {
	case "", DitherAuto, DitherNone, DitherOrdered:
	default:
		return t, 0, 0, fmt.Errorf("raster: dither %q (auto, none or ordered): %w", t.Dither, ErrBadTarget)
	}
	if len(t.Pages) == 0 {
		t.Pages = []int{1}
	}
	if len(t.Pages) > c.lim.MaxPages {
		return t, 0, 0, fmt.Errorf("raster: %d pages requested, at most %d: %w", len(t.Pages), c.lim.MaxPages, ErrTooLarge)
	}
	t.Pages = slices.Clone(t.Pages)
	for _, p := range t.Pages {
		if p < 1 {
			return t, 0, 0, fmt.Errorf("raster: page %d (pages count from 1): %w", p, ErrBadTarget)
		}
	}
	return t, w, h, nil
}

// Encode writes label bitmaps as one job in t.Language (one label per bitmap). t.DPI, t.WidthMM and
// t.HeightMM must be set for TSPL.
func Encode(t Target, pages []*Bitmap) ([]byte, error) {
	switch t.Language {
	case printer.LangZPL:
		return encodeZPL(pages, t.ZPLCompression)
	case printer.LangEPL:
		return encodeEPL(pages), nil
	case printer.LangTSPL:
		return encodeTSPL(pages, t), nil
	}
	return nil, fmt.Errorf("raster: encode for %q: %w", t.Language, ErrUnsupported)
}

// ctxErr turns a done context into the package's error: ErrTimeout (also matching
// context.DeadlineExceeded) for a deadline, the context's error otherwise; nil while not done.
func ctxErr(ctx context.Context) error {
	err := ctx.Err()
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	return err
}
