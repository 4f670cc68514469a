// Package raster owns turning PDF and PNG labels into something a label printer prints: it renders a
// page at the printer's resolution and label size, makes it 1-bit, and encodes it in the printer's
// language (ZPL ^GFA, EPL2 GW, TSPL BITMAP). The server calls it when a job is submitted with
// content_type pdf or png; docs/pdf-labels.md is the full description.
//
//	res, err := raster.Convert(ctx, content, "pdf", raster.Target{
//		Language: printer.LangZPL, DPI: 203, WidthMM: 101.6, HeightMM: 152.4, Pages: []int{1},
//	})
//	// res.Data: the job in the printer's language (one complete label per page)
//	// res.Preview: a 1-bit PNG of exactly those dots
//
// Rendering: PDF pages through PDFium compiled to WebAssembly (github.com/klippa-app/go-pdfium's
// webassembly mode, run by wazero: pure Go, no cgo), rendered straight at the size they take on the
// label; PNG through image/png, its header checked before decoding and scaled bilinearly unless it
// already has the label's size. A page is scaled to fit (aspect kept), turned 90° clockwise when that
// makes it larger, and centred.
//
// Black and white: a fixed threshold at 50 % gray, so that bars, text and lines keep their edges; only
// regions that look photographic (16×16-dot tiles mostly of smooth mid-gray) get an ordered dither
// (DitherAuto). DitherNone and DitherOrdered force one or the other.
//
// Bounds (Limits): input size, pages per job, dots per label, PNG pixels, time per conversion (a
// stuck PDFium instance is killed and replaced), PDFium's WebAssembly memory, and conversions at once.
// Failures are ErrBadDocument, ErrTooLarge, ErrTimeout, ErrBadTarget, ErrUnsupported or ErrUnavailable
// wrapped with the reason (context.Canceled when the caller cancelled); nothing in a document makes it
// panic or hang (FuzzConvert).
//
// The PDF engine starts in the background on the first PDF (seconds: WebAssembly compilation; well
// under one with Limits.CacheDir) or on Converter.Start, and lives until Converter.Close.
package raster
