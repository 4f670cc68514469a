package raster

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
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
// dot for dot (a 203 dpi carrier label for a 203 dpi printer keeps its bars exactly). Otherwise it is
// first shrunk by a whole factor with a box filter (every source pixel counts, so thin lines turn gray
// rather than vanish), then resampled bilinearly, which keeps bar edges at their sub-dot position for
// the threshold to find.
func toGray(img image.Image, w, h int) *image.Gray {
	g := flatten(img)
	if k := min(g.Rect.Dx()/w, g.Rect.Dy()/h); k >= 2 {
		g = shrink(g, k)
	}
	if g.Rect.Dx() == w && g.Rect.Dy() == h {
		return g
	}
	return bilinear(g, w, h)
}

// bilinear resamples g (origin at 0, 0) to w×h, each dot interpolated between the four source pixels
// around its centre.
func bilinear(g *image.Gray, w, h int) *image.Gray {
	sw, sh := g.Rect.Dx(), g.Rect.Dy()
	out := image.NewGray(image.Rect(0, 0, w, h))
	// Per destination column: the left source column and the weight of the right one.
	xs := make([]int, w)
	fx := make([]float32, w)
	for x := range w {
		s := (float64(x)+0.5)*float64(sw)/float64(w) - 0.5
		x0 := max(0, min(int(math.Floor(s)), sw-1))
		xs[x], fx[x] = x0, float32(max(0, min(1, s-float64(x0))))
	}
	for y := range h {
		s := (float64(y)+0.5)*float64(sh)/float64(h) - 0.5
		y0 := max(0, min(int(math.Floor(s)), sh-1))
		y1 := min(y0+1, sh-1)
		fy := float32(max(0, min(1, s-float64(y0))))
		r0, r1 := g.Pix[y0*g.Stride:], g.Pix[y1*g.Stride:]
		dst := out.Pix[y*out.Stride : y*out.Stride+w]
		for x := range dst {
			x0 := xs[x]
			x1 := min(x0+1, sw-1)
			top := float32(r0[x0]) + (float32(r0[x1])-float32(r0[x0]))*fx[x]
			bot := float32(r1[x0]) + (float32(r1[x1])-float32(r1[x0]))*fx[x]
			dst[x] = uint8(top + (bot-top)*fy + 0.5)
		}
	}
	return out
}

// flatten returns img as gray on white, with its origin at (0, 0). The image types image/png decodes to
// are converted directly; others through their color model.
func flatten(img image.Image) *image.Gray {
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	over := func(gray, alpha uint32) uint8 { // 8-bit gray and alpha, not premultiplied, over white
		return uint8((gray*alpha + 255*(255-alpha) + 127) / 255)
	}
	luma := func(r, g, b uint32) uint32 { // 8-bit components, as color.GrayModel
		return (19595*r + 38470*g + 7471*b + 1<<15) >> 16
	}
	switch m := img.(type) {
	case *image.Gray:
		for y := range b.Dy() {
			copy(out.Pix[y*out.Stride:(y+1)*out.Stride], m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):])
		}
	case *image.Paletted:
		var lut [256]uint8
		for i, c := range m.Palette {
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			lut[i] = over(luma(uint32(n.R), uint32(n.G), uint32(n.B)), uint32(n.A))
		}
		for y := range b.Dy() {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			dst := out.Pix[y*out.Stride : (y+1)*out.Stride]
			for x := range dst {
				dst[x] = lut[src[x]]
			}
		}
	case *image.NRGBA:
		for y := range b.Dy() {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			dst := out.Pix[y*out.Stride : (y+1)*out.Stride]
			for x := range dst {
				p := src[4*x : 4*x+4]
				dst[x] = over(luma(uint32(p[0]), uint32(p[1]), uint32(p[2])), uint32(p[3]))
			}
		}
	case *image.RGBA: // premultiplied: over white adds the missing coverage as white
		for y := range b.Dy() {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			dst := out.Pix[y*out.Stride : (y+1)*out.Stride]
			for x := range dst {
				p := src[4*x : 4*x+4]
				dst[x] = uint8(min(255, luma(uint32(p[0]), uint32(p[1]), uint32(p[2]))+255-uint32(p[3])))
			}
		}
	default:
		draw.Draw(out, out.Rect, image.White, image.Point{}, draw.Src)
		draw.Draw(out, out.Rect, img, b.Min, draw.Over)
	}
	return out
}

// shrink returns g reduced by the factor k, each dot the mean of a k×k block (the last partial blocks
// are dropped).
func shrink(g *image.Gray, k int) *image.Gray {
	w, h := g.Rect.Dx()/k, g.Rect.Dy()/k
	out := image.NewGray(image.Rect(0, 0, w, h))
	sum := make([]int, w)
	for y := range h {
		clear(sum)
		for dy := range k {
			row := g.Pix[(y*k+dy)*g.Stride:]
			for x := range w {
				for _, v := range row[x*k : x*k+k] {
					sum[x] += int(v)
				}
			}
		}
		for x, s := range sum {
			out.Pix[y*out.Stride+x] = uint8(s / (k * k))
		}
	}
	return out
}
