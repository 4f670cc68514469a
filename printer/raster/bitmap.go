package raster

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
)

// Bitmap is a 1-bit label image, one bit per printer dot: rows of Stride bytes, the most significant bit
// leftmost, a set bit is black (ink). The bits past W in each row are always 0. It is the layout of ZPL
// ^GF data; the EPL and TSPL encoders invert it.
//
// Bitmap implements image.PalettedImage (index 0 white, 1 black) so png.Encode writes it as a 1-bit PNG
// without a byte-per-pixel copy.
type Bitmap struct {
	W, H   int
	Stride int
	Bits   []byte
}

// NewBitmap returns an all-white w×h bitmap.
func NewBitmap(w, h int) *Bitmap {
	stride := (w + 7) / 8
	return &Bitmap{W: w, H: h, Stride: stride, Bits: make([]byte, stride*h)}
}

// Black reports whether the dot at x, y is black; dots outside the bitmap are white.
func (b *Bitmap) Black(x, y int) bool {
	if x < 0 || y < 0 || x >= b.W || y >= b.H {
		return false
	}
	return b.Bits[y*b.Stride+x>>3]&(0x80>>(x&7)) != 0
}

// Set makes the dot at x, y black (or white); dots outside the bitmap are ignored.
func (b *Bitmap) Set(x, y int, black bool) {
	if x < 0 || y < 0 || x >= b.W || y >= b.H {
		return
	}
	i, m := y*b.Stride+x>>3, byte(0x80>>(x&7))
	if black {
		b.Bits[i] |= m
	} else {
		b.Bits[i] &^= m
	}
}

// Row returns the Stride bytes of row y.
func (b *Bitmap) Row(y int) []byte { return b.Bits[y*b.Stride : (y+1)*b.Stride] }

// labelPalette is index 0 white (no ink), 1 black, as printer/zpl's preview images.
var labelPalette = color.Palette{color.Gray{Y: 0xff}, color.Gray{Y: 0}}

// ColorModel implements image.Image.
func (b *Bitmap) ColorModel() color.Model { return labelPalette }

// Bounds implements image.Image.
func (b *Bitmap) Bounds() image.Rectangle { return image.Rect(0, 0, b.W, b.H) }

// At implements image.Image.
func (b *Bitmap) At(x, y int) color.Color { return labelPalette[b.ColorIndexAt(x, y)] }

// ColorIndexAt implements image.PalettedImage.
func (b *Bitmap) ColorIndexAt(x, y int) uint8 {
	if b.Black(x, y) {
		return 1
	}
	return 0
}

// PNG encodes the bitmap as a 1-bit PNG.
func (b *Bitmap) PNG() ([]byte, error) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, b); err != nil {
		return nil, fmt.Errorf("raster: encode preview png: %w", err)
	}
	return buf.Bytes(), nil
}

// stack returns the pages one below the other with a gap of white rows between them, for a preview of a
// multi-page job. A single page is returned as is.
func stack(pages []*Bitmap, gap int) *Bitmap {
	if len(pages) == 1 {
		return pages[0]
	}
	w, h := 0, gap*(len(pages)-1)
	for _, p := range pages {
		w = max(w, p.W)
		h += p.H
	}
	out := NewBitmap(w, h)
	y := 0
	for _, p := range pages {
		for r := range p.H {
			copy(out.Row(y+r), p.Row(r))
		}
		y += p.H + gap
	}
	return out
}
