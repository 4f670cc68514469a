package raster

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/draw"
	"image/png"

	xdraw "golang.org/x/image/draw"
)

// pngLabels turns a PNG into one label bitmap of w×h dots. The header is checked against
// Limits.MaxSourcePixels before any pixel is decoded.
func (c *Converter) pngLabels(ctx context.Context, content []byte, t Target, w, h int) ([]*Bitmap, bool, error) {
	cfg, err := png.DecodeConfig(bytes.NewReader(content))
	if err != nil {
		return nil, false, fmt.Errorf("raster: png: %v: %w", err, ErrBadDocument)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, false, fmt.Errorf("raster: png: empty image %d×%d: %w", cfg.Width, cfg.Height, ErrBadDocument)
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(c.lim.MaxSourcePixels) {
		return nil, false, fmt.Errorf("raster: png: %d×%d pixels exceed %d: %w", cfg.Width, cfg.Height, c.lim.MaxSourcePixels, ErrTooLarge)
	}
	img, err := png.Decode(bytes.NewReader(content))
	if err != nil {
		return nil, false, fmt.Errorf("raster: png: %v: %w", err, ErrBadDocument)
	}
	if err := ctxErr(ctx); err != nil {
		return nil, false, err
	}
	f := fitTo(float64(cfg.Width), float64(cfg.Height), w, h)
	gray := toGray(img, f.W, f.H)
	if err := ctxErr(ctx); err != nil {
		return nil, false, err
	}
	b := NewBitmap(w, h)
	place(b, gray, f.Rotate, t.Dither)
	return []*Bitmap{b}, f.Rotate, nil
}

// toGray flattens img onto white and scales it to w×h gray. A picture already of that size is copied
// dot for dot (a 203 dpi carrier label for a 203 dpi printer keeps its bars exactly); otherwise it is
// resampled bilinearly, which keeps bar edges at their sub-dot position for the threshold to find.
func toGray(img image.Image, w, h int) *image.Gray {
	b := img.Bounds()
	flat := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(flat, flat.Rect, image.White, image.Point{}, draw.Src)
	draw.Draw(flat, flat.Rect, img, b.Min, draw.Over)
	if b.Dx() == w && b.Dy() == h {
		return flat
	}
	out := image.NewGray(image.Rect(0, 0, w, h))
	xdraw.BiLinear.Scale(out, out.Rect, flat, flat.Rect, xdraw.Src, nil)
	return out
}
