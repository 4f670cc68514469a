package raster

import (
	"image"
	"testing"
)

func TestFitTo(t *testing.T) {
	tests := []struct {
		name   string
		sw, sh float64
		lw, lh int
		want   fit
	}{
		{"4×6 page on 4×6 label", 288, 432, 812, 1218, fit{false, 812, 1218}},
		{"6×4 page turned", 432, 288, 812, 1218, fit{true, 1218, 812}},
		{"letter page shrunk", 612, 792, 812, 1218, fit{false, 812, 1051}},
		{"square", 100, 100, 812, 1218, fit{false, 812, 812}},
		{"small png grown", 40, 60, 812, 1218, fit{false, 812, 1218}},
		{"landscape label, portrait page turned", 288, 432, 1218, 812, fit{true, 812, 1218}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fitTo(tt.sw, tt.sh, tt.lw, tt.lh); got != tt.want {
				t.Errorf("fitTo = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestPlaceKeepsBarsAndDithersPhotos draws anti-aliased bars (the left half) beside a smooth gradient
// (the right half): the bars must come out exactly thresholded, the gradient dithered.
func TestPlaceKeepsBarsAndDithersPhotos(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 128, 64))
	for y := range 64 {
		for x := range 128 {
			var v uint8 = 255
			switch {
			case x < 64: // bars 3 dots wide every 6, one gray edge dot on each side
				switch x % 6 {
				case 1, 2, 3:
					v = 0
				case 0, 4:
					v = 128 + uint8(x%5)*10
				}
			default: // a gradient from dark to light gray
				v = uint8(60 + (x-64)*2)
			}
			g.Pix[y*g.Stride+x] = v
		}
	}
	for _, d := range []Dither{DitherAuto, DitherNone} {
		b := NewBitmap(128, 64)
		place(b, g, false, d)
		for y := range 64 {
			for x := range 64 {
				if want := g.Pix[y*g.Stride+x] < threshold; b.Black(x, y) != want {
					t.Fatalf("%s: bar dot (%d,%d) black=%v, want %v", d, x, y, !want, want)
				}
			}
		}
		// In the gradient, a thresholded column is all black or all white; a dithered one mixes.
		mixed := 0
		for x := 64; x < 128; x++ {
			n := 0
			for y := range 64 {
				if b.Black(x, y) {
					n++
				}
			}
			if n > 0 && n < 64 {
				mixed++
			}
		}
		if d == DitherAuto && mixed < 48 {
			t.Errorf("auto: only %d of 64 gradient columns dithered", mixed)
		}
		if d == DitherNone && mixed != 0 {
			t.Errorf("none: %d gradient columns dithered", mixed)
		}
	}
}

func TestPlaceTurnsClockwise(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 3, 2)) // black everywhere except (2,0)
	g.Pix[2] = 255
	b := NewBitmap(2, 3)
	place(b, g, true, DitherNone)
	// Turned clockwise the source's top-right dot lands at the bottom right.
	for y := range 3 {
		for x := range 2 {
			if want := !(x == 1 && y == 2); b.Black(x, y) != want {
				t.Errorf("(%d,%d) black=%v", x, y, !want)
			}
		}
	}
}
