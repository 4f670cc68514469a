package raster

import (
	"image"
	"math"
)

// fit is where a source of sw×sh units goes on a label of lw×lh dots: scaled to fit (aspect kept) and,
// when that makes it larger, turned 90° clockwise. W×H is the size of the scaled source before turning.
type fit struct {
	Rotate bool
	W, H   int
}

// fitTo scales a sw×sh source (pixels or points) to the largest size that fits a lw×lh label, turned
// when turning gives a larger picture (a landscape label on portrait media). Ties keep it upright.
func fitTo(sw, sh float64, lw, lh int) fit {
	upright := math.Min(float64(lw)/sw, float64(lh)/sh)
	turned := math.Min(float64(lw)/sh, float64(lh)/sw)
	f := fit{}
	s := upright
	if turned > upright*1.001 {
		f.Rotate, s = true, turned
	}
	f.W = max(1, int(math.Round(sw*s)))
	f.H = max(1, int(math.Round(sh*s)))
	if f.Rotate {
		f.W, f.H = min(f.W, lh), min(f.H, lw)
	} else {
		f.W, f.H = min(f.W, lw), min(f.H, lh)
	}
	return f
}

// Dither selects how gray becomes black and white.
type Dither string

const (
	// DitherAuto thresholds everything except regions that look photographic (mostly smooth mid-gray),
	// which get an ordered (Bayer 8×8) dither. Bars, text and line art are never dithered. The default.
	DitherAuto Dither = "auto"
	// DitherNone thresholds every dot at 50 % gray.
	DitherNone Dither = "none"
	// DitherOrdered dithers the whole label (for photographs; barcodes lose their crisp edges).
	DitherOrdered Dither = "ordered"
)

// threshold is the gray level below which a dot is black when not dithered.
const threshold = 128

// bayer8 is the 8×8 Bayer matrix; a dot is black when its gray is below (bayer+0.5)·4.
var bayer8 = [8][8]uint8{
	{0, 32, 8, 40, 2, 34, 10, 42},
	{48, 16, 56, 24, 50, 18, 58, 26},
	{12, 44, 4, 36, 14, 46, 6, 38},
	{60, 28, 52, 20, 62, 30, 54, 22},
	{3, 35, 11, 43, 1, 33, 9, 41},
	{51, 19, 59, 27, 49, 17, 57, 25},
	{15, 47, 7, 39, 13, 45, 5, 37},
	{63, 31, 55, 23, 61, 29, 53, 21},
}

// Photographic region detection works on tiles of tileSize² dots: a tile is photographic when at least
// photoShare of its dots are mid-gray (midLow…midHigh) with all four neighbours mid-gray too. Anti-aliased
// edges of bars, text and lines are at most two dots wide with black or white beside them, so they
// never count; the inside of a photograph or a gray fill does.
const (
	tileSize   = 16
	photoShare = 0.4
	midLow     = 40
	midHigh    = 215
)

// photoTiles marks the photographic tiles of g (row-major, tiles across × down).
func photoTiles(g *image.Gray) (marks []bool, across int) {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	across, down := (w+tileSize-1)/tileSize, (h+tileSize-1)/tileSize
	counts := make([]int, across*down)
	mid := func(v uint8) bool { return v >= midLow && v <= midHigh }
	for y := 1; y < h-1; y++ {
		row := g.Pix[y*g.Stride:]
		up, down := g.Pix[(y-1)*g.Stride:], g.Pix[(y+1)*g.Stride:]
		for x := 1; x < w-1; x++ {
			if mid(row[x]) && mid(row[x-1]) && mid(row[x+1]) && mid(up[x]) && mid(down[x]) {
				counts[(y/tileSize)*across+x/tileSize]++
			}
		}
	}
	marks = make([]bool, len(counts))
	for i, n := range counts {
		marks[i] = float64(n) >= photoShare*tileSize*tileSize
	}
	return marks, across
}

// place draws the gray picture g onto the label bitmap dst, centred, turned 90° clockwise when rotate
// is set, converting gray to black and white as d says. g's origin must be (0, 0).
func place(dst *Bitmap, g *image.Gray, rotate bool, d Dither) {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	var marks []bool
	across := 0
	if d == DitherAuto || d == "" {
		marks, across = photoTiles(g)
	}
	outW, outH := w, h
	if rotate {
		outW, outH = h, w
	}
	ox, oy := (dst.W-outW)/2, (dst.H-outH)/2
	for y := range h {
		row := g.Pix[y*g.Stride : y*g.Stride+w]
		for x, v := range row {
			var black bool
			switch {
			case d == DitherOrdered || (marks != nil && marks[(y/tileSize)*across+x/tileSize]):
				black = int(v) < int(bayer8[y&7][x&7])*4+2
			default:
				black = v < threshold
			}
			if !black {
				continue
			}
			if rotate { // clockwise: the source's left column becomes the top row, its bottom row the left column
				dst.Set(ox+h-1-y, oy+x, true)
			} else {
				dst.Set(ox+x, oy+y, true)
			}
		}
	}
}
