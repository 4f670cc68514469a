package jobs

import (
	"context"
	"errors"
	"fmt"

	"printdock/printer"
	"printdock/printer/raster"
	"printdock/server/keys"
	"printdock/server/store"
)

// Content types of a submission besides ContentRaw: a PDF or PNG label, rendered by the server for the
// target printer (printer/raster) and stored and delivered as the printer's own language.
const (
	ContentPDF = "pdf"
	ContentPNG = "png"
)

// ErrUnprocessable is a PDF or PNG label the server cannot turn into a print job: an unreadable or
// hostile document, one that takes too long to render, or a printer whose language has no bitmap
// command here (wraps ErrInvalid; the API answers 422 with the reason).
var ErrUnprocessable = fmt.Errorf("%w: the label cannot be printed", keys.ErrInvalid)

// ErrRendererUnavailable is a PDF submitted while the PDF renderer cannot start (the API answers 503).
var ErrRendererUnavailable = errors.New("jobs: the PDF renderer is unavailable")

// LabelSpec is the optional "label" of a PDF or PNG submission: the label stock's size and the print
// head's resolution, when the printer does not report them, and which PDF pages to print.
type LabelSpec struct {
	WidthMM  float64 `json:"width_mm"`
	HeightMM float64 `json:"height_mm"`
	DPI      int     `json:"dpi"`
	Pages    []int   `json:"pages"`
}

// LabelConverter renders PDF and PNG labels; *raster.Converter implements it.
type LabelConverter interface {
	Convert(ctx context.Context, content []byte, kind string, t raster.Target) (raster.Result, error)
}

// render converts a pdf or png submission for printer p and returns the bytes to print and a PNG of
// exactly the dots they print (kept as the job's preview).
func (s *Service) render(ctx context.Context, p store.Printer, req SubmitRequest) (data, preview []byte, err error) {
	if s.o.Labels == nil {
		return nil, nil, fmt.Errorf("%w: this server does not convert %s labels", ErrUnprocessable, req.ContentType)
	}
	lang, perr := printer.ParseLanguage(p.Language)
	if perr != nil || lang == printer.LangUnknown {
		return nil, nil, fmt.Errorf("%w: the printer's command language is not known, so a %s cannot be turned into its "+
			"commands; set it on the agent (e.g. printer URI tcp://HOST:9100?lang=zpl, or lang= in agent.json) or send raw content",
			ErrUnprocessable, req.ContentType)
	}
	t := raster.Target{Language: lang, DPI: p.DPI}
	if l := req.Label; l != nil {
		t.WidthMM, t.HeightMM, t.Pages = l.WidthMM, l.HeightMM, l.Pages
		if l.DPI != 0 {
			t.DPI = l.DPI
		}
	}
	res, err := s.o.Labels.Convert(ctx, req.Content, req.ContentType, t)
	switch {
	case err == nil:
		return res.Data, res.Preview, nil
	case errors.Is(err, raster.ErrUnavailable):
		return nil, nil, fmt.Errorf("%w: %v", ErrRendererUnavailable, err)
	case errors.Is(err, raster.ErrBadTarget):
		return nil, nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	case errors.Is(err, raster.ErrTooLarge), errors.Is(err, raster.ErrBadDocument),
		errors.Is(err, raster.ErrTimeout), errors.Is(err, raster.ErrUnsupported):
		return nil, nil, fmt.Errorf("%w: %v", ErrUnprocessable, err)
	case ctx.Err() != nil:
		return nil, nil, ctx.Err()
	}
	return nil, nil, fmt.Errorf("jobs: render %s: %w", req.ContentType, err)
}

// Preview returns the stored preview (PNG) of a job submitted as pdf or png, for the actor's portal only;
// ErrNotFound for a raw job, or once retention dropped it with the content.
func (s *Service) Preview(ctx context.Context, a keys.Actor, id string) ([]byte, error) {
	if _, err := s.job(ctx, s.st, a, id); err != nil {
		return nil, err
	}
	b, err := s.st.JobPreview(ctx, id)
	if err != nil {
		return nil, storeErr("job preview", fmt.Sprintf("job %q has no stored preview", id), err)
	}
	return b, nil
}
