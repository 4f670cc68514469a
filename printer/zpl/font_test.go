package zpl

import (
	"fmt"
	"image"
	"testing"
)

func renderSnippet(t *testing.T, zpl string) *RenderResult {
	t.Helper()
	res, err := RenderLabel([]byte("^XA^PW600^LL400"+zpl+"^XZ"), RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestTextPlacement checks where text lands: ^FO is the top left of the character cell, ^FT the start
// of the baseline, for font 0 and bitmap fonts at several sizes.
func TestTextPlacement(t *testing.T) {
	for _, font := range []string{"0N,20,20", "0N,50,40", "0N,100,100", "AN,9,5", "DN,36,20", "EN,28,15"} {
		t.Run(font, func(t *testing.T) {
			var h int
			fmt.Sscanf(font[3:], "%d", &h)
			ft := inkBounds(renderSnippet(t, "^FT100,200^A"+font+"^FDHEH^FS").Image, image.Rect(0, 0, 600, 400))
			if ft.Max.Y != 200 || ft.Min.X < 100 || ft.Min.X > 100+h/5 {
				t.Errorf("^FT100,200: capitals at %v, want them standing on row 199 from x 100", ft)
			}
			fo := inkBounds(renderSnippet(t, "^FO100,200^A"+font+"^FDHEH^FS").Image, image.Rect(0, 0, 600, 400))
			if fo.Min.Y < 200 || fo.Min.Y > 200+h/4 || fo.Max.Y > 200+h {
				t.Errorf("^FO100,200: capitals at %v, want them inside the %d-dot cell from row 200", fo, h)
			}
			if fo.Size() != ft.Size() {
				t.Errorf("^FO and ^FT draw different sizes: %v and %v", fo.Size(), ft.Size())
			}
		})
	}
}

func TestTextScaling(t *testing.T) {
	width := func(zpl string) int {
		return inkBounds(renderSnippet(t, zpl).Image, image.Rect(0, 0, 600, 400)).Dx()
	}
	full := width("^FO10,10^A0N,40,40^FDHHHHHH^FS")
	half := width("^FO10,10^A0N,40,20^FDHHHHHH^FS")
	if r := float64(half) / float64(full); r < 0.4 || r > 0.6 {
		t.Errorf("^A0N,40,20 is %.2f as wide as ^A0N,40,40, want 0.5", r)
	}
	// Bitmap fonts advance by whole cells: font D is 10+2 dots a character, ×2 here.
	for _, tt := range []struct {
		font string
		cell int
	}{{"DN,18,10", 12}, {"DN,36,20", 24}, {"DN,36", 24}, {"AN,9,5", 6}, {"AN,27,15", 18}, {"EN,28,15", 20}} {
		l := inkBounds(renderSnippet(t, "^FO10,10^A"+tt.font+"^FDMMMMMMMMMM^FS").Image, image.Rect(0, 0, 600, 400))
		if d := l.Dx() - 9*tt.cell; d < 0 || d > tt.cell {
			t.Errorf("^A%s: ten characters span %d dots, want 9 cells of %d plus one glyph", tt.font, l.Dx(), tt.cell)
		}
	}
}

// TestTextOrientation checks that R, I and B draw the same text rotated, with ^FO at the top left of the
// rotated field.
func TestTextOrientation(t *testing.T) {
	n := inkBounds(renderSnippet(t, "^FO100,100^A0N,40,40^FDRotate^FS").Image, image.Rect(0, 0, 600, 400))
	for _, o := range []string{"R", "I", "B"} {
		b := inkBounds(renderSnippet(t, "^FO100,100^A0"+o+",40,40^FDRotate^FS").Image, image.Rect(0, 0, 600, 400))
		want := n.Size()
		if o != "I" {
			want = image.Pt(want.Y, want.X)
		}
		if d := b.Size().Sub(want); d.X < -1 || d.X > 1 || d.Y < -1 || d.Y > 1 {
			t.Errorf("%s: size %v, want %v", o, b.Size(), want)
		}
		if b.Min.X < 100 || b.Min.Y < 100 || b.Min.X > 112 || b.Min.Y > 112 {
			t.Errorf("%s: ink starts at %v, want just inside (100,100)", o, b.Min)
		}
	}
	// ^FW sets the default orientation.
	b := inkBounds(renderSnippet(t, "^FWR^FO100,100^A0,40,40^FDRotate^FS").Image, image.Rect(0, 0, 600, 400))
	if b.Dy() <= b.Dx() {
		t.Errorf("^FWR text is %v, want it rotated", b.Size())
	}
}

func TestTypesetAutoPosition(t *testing.T) {
	// ^FT without coordinates continues after the previous text field.
	one := inkBounds(renderSnippet(t, "^FT50,100^A0N,40,40^FDAB^FS").Image, image.Rect(0, 0, 600, 400))
	two := inkBounds(renderSnippet(t, "^FT50,100^A0N,40,40^FDAB^FS^FT^A0N,40,40^FDCD^FS").Image, image.Rect(0, 0, 600, 400))
	if two.Min.X != one.Min.X || two.Dx() < 2*one.Dx()-4 || dotsApart(two.Max.Y, one.Max.Y) > 1 || dotsApart(two.Min.Y, one.Min.Y) > 1 {
		t.Errorf("AB then CD at %v, AB alone at %v: want CD right after AB on the same baseline", two, one)
	}
}

func TestFontApproximation(t *testing.T) {
	res := renderSnippet(t, "^FO10,10^APN,30,30^FDscalable P^FS")
	wantWarning(t, res, "font P drawn with font 0")
	if inkBounds(res.Image, image.Rect(0, 0, 600, 400)).Empty() {
		t.Error("text in font P not drawn")
	}
}

func dotsApart(a, b int) int { return max(a-b, b-a) }
