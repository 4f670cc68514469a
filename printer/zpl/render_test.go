package zpl

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/code39"
	"github.com/boombuler/barcode/datamatrix"
	"github.com/boombuler/barcode/qr"
)

var updateGolden = flag.Bool("update", false, "rewrite printer/zpl/testdata/golden/*.png from the renderer")

// ink reports whether the label has ink at (x, y); outside the label is white.
func ink(img *image.Paletted, x, y int) bool {
	return image.Pt(x, y).In(img.Rect) && img.ColorIndexAt(x, y) == 1
}

// inkBounds is the bounding box of the ink inside r.
func inkBounds(img *image.Paletted, r image.Rectangle) image.Rectangle {
	var b image.Rectangle
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if ink(img, x, y) {
				b = b.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return b
}

// inkLines splits the ink inside r into text lines: runs of rows with ink, with their bounding boxes.
func inkLines(img *image.Paletted, r image.Rectangle) []image.Rectangle {
	var lines []image.Rectangle
	var cur image.Rectangle
	for y := r.Min.Y; y <= r.Max.Y; y++ {
		row := image.Rectangle{}
		if y < r.Max.Y {
			row = inkBounds(img, image.Rect(r.Min.X, y, r.Max.X, y+1))
		}
		if row.Empty() {
			if !cur.Empty() {
				lines = append(lines, cur)
				cur = image.Rectangle{}
			}
			continue
		}
		cur = cur.Union(row)
	}
	return lines
}

// checkRegion compares the label inside r with want(x, y) pixel by pixel.
func checkRegion(t *testing.T, img *image.Paletted, what string, r image.Rectangle, want func(x, y int) bool) {
	t.Helper()
	bad := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if ink(img, x, y) != want(x, y) {
				if bad < 5 {
					t.Errorf("%s: pixel (%d,%d) ink = %v, want %v", what, x, y, ink(img, x, y), want(x, y))
				}
				bad++
			}
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d pixels differ in all", what, bad)
	}
}

// frame is the ink of ^GBw,h,t at (x, y): a frame t thick.
func frame(x0, y0, w, h, t int) func(x, y int) bool {
	return func(x, y int) bool {
		in := x >= x0 && x < x0+w && y >= y0 && y < y0+h
		inner := x >= x0+t && x < x0+w-t && y >= y0+t && y < y0+h-t
		return in && !inner
	}
}

func rectInk(r image.Rectangle) func(x, y int) bool {
	return func(x, y int) bool { return image.Pt(x, y).In(r) }
}

// row reads one row of the label as ink flags.
func row(img *image.Paletted, y, x0, x1 int) []bool {
	out := make([]bool, 0, x1-x0)
	for x := x0; x < x1; x++ {
		out = append(out, ink(img, x, y))
	}
	return out
}

// column reads one column of the label, from y0 towards y1 (either direction).
func column(img *image.Paletted, x, y0, y1 int) []bool {
	var out []bool
	step := 1
	if y1 < y0 {
		step = -1
	}
	for y := y0; y != y1; y += step {
		out = append(out, ink(img, x, y))
	}
	return out
}

// runs turns ink flags into run lengths, starting with the first ink and dropping trailing white.
func runs(line []bool) []int {
	i := 0
	for i < len(line) && !line[i] {
		i++
	}
	var out []int
	for i < len(line) {
		j := i
		for j < len(line) && line[j] == line[i] {
			j++
		}
		out = append(out, j-i)
		i = j
	}
	if len(out)%2 == 0 && len(out) > 0 {
		out = out[:len(out)-1] // trailing white
	}
	return out
}

// matrixAt compares a 2D symbol drawn at (x0, y0) with size dots per module against bc, pixel by pixel,
// and checks that nothing is drawn in a one-module ring around it.
func matrixAt(t *testing.T, img *image.Paletted, what string, bc barcode.Barcode, x0, y0, size int) {
	t.Helper()
	b := bc.Bounds()
	r := image.Rect(x0, y0, x0+b.Dx()*size, y0+b.Dy()*size)
	checkRegion(t, img, what, r, func(x, y int) bool {
		return isDark(bc.At(b.Min.X+(x-x0)/size, b.Min.Y+(y-y0)/size))
	})
	ring := r.Inset(-size)
	for y := ring.Min.Y; y < ring.Max.Y; y++ {
		for x := ring.Min.X; x < ring.Max.X; x++ {
			if !image.Pt(x, y).In(r) && ink(img, x, y) {
				t.Fatalf("%s: ink at (%d,%d) outside the symbol %v", what, x, y, r)
			}
		}
	}
}

// renderFixture renders testdata/name.zpl.
func renderFixture(t *testing.T, name string) *RenderResult {
	t.Helper()
	in, err := os.ReadFile(filepath.Join("testdata", name+".zpl"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := RenderLabel(in, RenderOptions{})
	if err != nil {
		t.Fatalf("render %s: %v", name, err)
	}
	return res
}

// compareGolden compares img with testdata/golden/name.png, or rewrites the golden file with -update.
// tolerance is the share of the golden's black dots that may differ (for anti-aliased text at its
// threshold on other CPUs); 0 demands an exact match.
func compareGolden(t *testing.T, name string, img *image.Paletted, tolerance float64) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".png")
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if *updateGolden {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run go test ./printer/zpl/ -update to create it)", err)
	}
	defer f.Close()
	golden, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	if golden.Bounds() != img.Bounds() {
		t.Fatalf("%s: size %v, golden %v", name, img.Bounds(), golden.Bounds())
	}
	diff, black := 0, 0
	for y := img.Rect.Min.Y; y < img.Rect.Max.Y; y++ {
		for x := img.Rect.Min.X; x < img.Rect.Max.X; x++ {
			g := isDark(golden.At(x, y))
			if g {
				black++
			}
			if g != ink(img, x, y) {
				diff++
			}
		}
	}
	if allowed := int(tolerance * float64(black)); diff > allowed {
		got := filepath.Join(os.TempDir(), "zpl-golden-"+name+".png")
		_ = os.WriteFile(got, buf.Bytes(), 0o644)
		t.Errorf("%s: %d dots differ from %s (allowed %d); rendering written to %s", name, diff, path, allowed, got)
	}
}

// textTolerance allows a few anti-aliasing threshold flips in text; moving or resizing any text changes
// far more dots.
const textTolerance = 0.005

func TestGolden(t *testing.T) {
	tests := []struct {
		name      string
		tolerance float64
		check     func(t *testing.T, res *RenderResult)
	}{
		{"text", textTolerance, checkTextFixture},
		{"box", 0, checkBoxFixture},
		{"reverse", textTolerance, checkReverseFixture},
		{"graphic_hex", 0, checkGraphicHexFixture},
		{"graphic_z64", 0, checkGraphicZ64Fixture},
		{"code128", textTolerance, checkCode128Fixture},
		{"code39", textTolerance, checkCode39Fixture},
		{"qr", 0, checkQRFixture},
		{"datamatrix", 0, checkDataMatrixFixture},
		{"field_block", textTolerance, checkFieldBlockFixture},
		{"label_home", textTolerance, checkLabelHomeFixture},
		{"shipping_4x6", textTolerance, checkShippingFixture},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := renderFixture(t, tt.name)
			if len(res.Skipped) > 0 {
				t.Errorf("skipped %q", res.Skipped)
			}
			tt.check(t, res)
			compareGolden(t, tt.name, res.Image, tt.tolerance)
		})
	}
}

func noWarnings(t *testing.T, res *RenderResult) {
	t.Helper()
	if len(res.Warnings) > 0 {
		t.Errorf("warnings %q", res.Warnings)
	}
}

func wantWarning(t *testing.T, res *RenderResult, substr string) {
	t.Helper()
	for _, w := range res.Warnings {
		if strings.Contains(w, substr) {
			return
		}
	}
	t.Errorf("warnings %q, want one containing %q", res.Warnings, substr)
}

func checkTextFixture(t *testing.T, res *RenderResult) {
	noWarnings(t, res)
	img := res.Image
	// ^FT20,150: capitals stand on the baseline, the row above y = 150.
	if b := inkBounds(img, image.Rect(0, 100, 370, 155)); b.Max.Y != 150 && b.Max.Y != 151 {
		t.Errorf("^FT text ink ends at row %d, want the baseline 150 (151 for the overshoot of S)", b.Max.Y)
	}
	// ^FO20,20 with ^CF0,40: the field's top is y = 20; capitals start just below it.
	if b := inkBounds(img, image.Rect(0, 0, 370, 62)); b.Min.Y < 20 || b.Min.Y > 26 || b.Min.X < 20 || b.Min.X > 24 {
		t.Errorf("^FO text ink starts at %v, want just inside (20,20)", b.Min)
	}
	// ^FO380,20 rotated R: a column about 40 dots wide, starting at x = 380.
	if b := inkBounds(img, image.Rect(375, 0, 430, 200)); b.Dy() < 3*b.Dx() || b.Min.X < 380 || b.Max.X > 420 {
		t.Errorf("rotated R text bounds %v, want a tall column at x 380..420", b)
	}
}

func checkBoxFixture(t *testing.T, res *RenderResult) {
	wantWarning(t, res, "rounded corners")
	img := res.Image
	checkRegion(t, img, "thin frame", image.Rect(0, 0, 120, 100), frame(10, 10, 100, 80, 1))
	checkRegion(t, img, "thick frame", image.Rect(120, 0, 240, 100), frame(130, 10, 100, 80, 10))
	checkRegion(t, img, "solid box", image.Rect(240, 0, 400, 100), rectInk(image.Rect(250, 10, 350, 90)))
	checkRegion(t, img, "horizontal line", image.Rect(0, 100, 400, 120), rectInk(image.Rect(10, 110, 390, 114)))
	checkRegion(t, img, "vertical line", image.Rect(0, 120, 30, 300), rectInk(image.Rect(10, 130, 14, 280)))
	checkRegion(t, img, "white frame in a black box", image.Rect(30, 120, 200, 290), func(x, y int) bool {
		return rectInk(image.Rect(40, 130, 190, 280))(x, y) && !frame(65, 155, 100, 100, 20)(x, y)
	})
	checkRegion(t, img, "rounded box drawn square", image.Rect(210, 125, 380, 195), frame(220, 130, 150, 60, 6))
	checkRegion(t, img, "^FT box ends on its origin", image.Rect(210, 200, 380, 290), frame(220, 220, 150, 60, 3))
}

func checkReverseFixture(t *testing.T, res *RenderResult) {
	noWarnings(t, res)
	img := res.Image
	// Two boxes: the ^FR one inverts the overlap.
	black := image.Rect(250, 10, 350, 110)
	rev := image.Rect(300, 60, 400, 160)
	checkRegion(t, img, "^FR box", image.Rect(240, 0, 400, 170), func(x, y int) bool {
		p := image.Pt(x, y)
		return p.In(black) != p.In(rev)
	})
	// ^LRY: both boxes are reversed, so their overlap is white.
	a, b := image.Rect(220, 200, 280, 260), image.Rect(250, 230, 310, 290)
	checkRegion(t, img, "^LRY boxes", image.Rect(215, 195, 320, 300), func(x, y int) bool {
		p := image.Pt(x, y)
		return p.In(a) != p.In(b)
	})
	// ^FR text: white inside the black box, black where it runs past the box.
	white := 0
	for y := 30; y < 100; y++ {
		for x := 30; x < 210; x++ {
			if !ink(img, x, y) {
				white++
			}
		}
	}
	if white < 500 {
		t.Errorf("reversed text left %d white dots in the black box, want the letters", white)
	}
	if inkBounds(img, image.Rect(210, 25, 245, 100)).Empty() {
		t.Error("reversed text outside the box is not black")
	}
	// ^FR barcode on black: white bars.
	if n := len(runs(row(img, 200, 30, 185))); n < 20 {
		t.Errorf("reversed barcode has %d runs on row 200, want its bars", n)
	}
}

func checkGraphicHexFixture(t *testing.T, res *RenderResult) {
	noWarnings(t, res)
	img := res.Image
	pattern := func(x0, y0 int) func(x, y int) bool {
		return func(x, y int) bool {
			return image.Pt(x, y).In(image.Rect(x0, y0, x0+64, y0+48)) && gfPattern(x-x0, y-y0)
		}
	}
	checkRegion(t, img, "plain hex", image.Rect(0, 0, 90, 70), pattern(10, 10))
	checkRegion(t, img, "compressed hex", image.Rect(90, 0, 180, 70), pattern(100, 10))
	hand := []string{"FFFFFFFF", "FFFFFFFF", "FFFFFFFF", "FFFF0000", "000FFF00", "000FFF00", "0F0F0F0F", "FFFF0000"}
	checkRegion(t, img, "hand-written codes", image.Rect(190, 0, 240, 30), func(x, y int) bool {
		x, y = x-200, y-10
		if x < 0 || x >= 32 || y < 0 || y >= len(hand) {
			return false
		}
		n, _ := hexNibble(hand[y][x/4])
		return n&(8>>(x%4)) != 0
	})
	checkRegion(t, img, "^FT graphic ends on its origin", image.Rect(290, 60, 320, 90), frame(300, 72, 8, 8, 1))
}

func checkGraphicZ64Fixture(t *testing.T, res *RenderResult) {
	wantWarning(t, res, "CRC mismatch")
	img := res.Image
	for _, x0 := range []int{10, 100} {
		checkRegion(t, img, fmt.Sprintf("graphic at %d", x0), image.Rect(x0-10, 0, x0+80, 70), func(x, y int) bool {
			return image.Pt(x, y).In(image.Rect(x0, 10, x0+64, 58)) && gfPattern(x-x0, y-10)
		})
	}
	if b := inkBounds(img, image.Rect(190, 0, 300, 100)); !b.Empty() {
		t.Errorf("graphic with a bad CRC was drawn at %v", b)
	}
}

func checkCode128Fixture(t *testing.T, res *RenderResult) {
	noWarnings(t, res)
	img := res.Image
	tests := []struct {
		what   string
		line   []bool
		module int
		want   string
	}{
		{"subset B", row(img, 50, 20, 600), 2, "PRINTDOCK-128"},
		{"subset C", row(img, 180, 20, 600), 3, "1234567890"},
		{"FNC1, line above", row(img, 320, 20, 600), 2, "<FNC1>00123456789012345678"},
		{"no line", row(img, 390, 20, 290), 2, "no line"},
		{"^FT origin", row(img, 470, 300, 600), 2, "ft origin"},
		{"rotated R", column(img, 530, 20, 300), 2, "ROT R"},
		{"GS1 mode D", row(img, 390, 300, 600), 1, "<FNC1>0109501101530003"},
	}
	for _, tt := range tests {
		got, err := decodeCode128(runs(tt.line), tt.module)
		if err != nil {
			t.Errorf("%s: %v", tt.what, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s: decoded %q, want %q", tt.what, got, tt.want)
		}
	}
	// ^FT: the bars end on the origin row; the interpretation line is below it.
	if !ink(img, 300, 479) || ink(img, 300, 480) || ink(img, 300, 429) || !ink(img, 300, 430) {
		t.Error("^FT barcode bars do not span rows 430..479")
	}
	// No interpretation line under the "no line" code.
	if b := inkBounds(img, image.Rect(20, 421, 290, 445)); !b.Empty() {
		t.Errorf("ink under a code without interpretation line at %v", b)
	}
}

func checkCode39Fixture(t *testing.T, res *RenderResult) {
	noWarnings(t, res)
	img := res.Image
	tests := []struct {
		what         string
		line         []bool
		data         string
		check        bool
		narrow, wide int
	}{
		{"module 2 ratio 3", row(img, 50, 20, 500), "CODE39", false, 2, 6},
		{"module 3 ratio 2.5", row(img, 150, 20, 500), "12345", false, 3, 8},
		{"check digit", row(img, 250, 20, 500), "ABC-42", true, 2, 4},
		{"no line", row(img, 340, 20, 500), "NO LINE", false, 2, 6},
		{"rotated B, read bottom up", column(img, 545, 399, 0), "ROTB", false, 2, 6},
	}
	for _, tt := range tests {
		bc, err := code39.Encode(tt.data, tt.check, false)
		if err != nil {
			t.Fatal(err)
		}
		var want []int
		for _, r := range runs(barcodeModules(bc)) {
			if r == 1 {
				want = append(want, tt.narrow)
			} else {
				want = append(want, tt.wide)
			}
		}
		if got := runs(tt.line); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: bar widths %v,\nwant %v", tt.what, got, want)
		}
	}
}

func checkQRFixture(t *testing.T, res *RenderResult) {
	noWarnings(t, res)
	img := res.Image
	tests := []struct {
		data       string
		ecc        qr.ErrorCorrectionLevel
		x, y, size int
	}{
		{"https://printdock.example/t/1Z999AA10123456784", qr.Q, 10, 10, 4},
		{"PRINTDOCK", qr.H, 250, 10, 8},
		{"hello", qr.M, 400, 200, 3},
	}
	for _, tt := range tests {
		bc, err := qr.Encode(tt.data, tt.ecc, qr.Auto)
		if err != nil {
			t.Fatal(err)
		}
		matrixAt(t, img, "QR "+tt.data, bc, tt.x, tt.y, tt.size)
		// Finder patterns, independent of the encoder: a 7×7 ring around a 3×3 square in three corners.
		n := bc.Bounds().Dx()
		for _, c := range [][2]int{{0, 0}, {n - 7, 0}, {0, n - 7}} {
			for my := range 7 {
				for mx := range 7 {
					ring := mx == 0 || mx == 6 || my == 0 || my == 6
					core := mx >= 2 && mx <= 4 && my >= 2 && my <= 4
					x := tt.x + (c[0]+mx)*tt.size + tt.size/2
					y := tt.y + (c[1]+my)*tt.size + tt.size/2
					if ink(img, x, y) != (ring || core) {
						t.Fatalf("QR %s: finder module (%d,%d) at corner %v wrong", tt.data, mx, my, c)
					}
				}
			}
		}
	}
}

func checkDataMatrixFixture(t *testing.T, res *RenderResult) {
	noWarnings(t, res)
	img := res.Image
	for _, tt := range []struct {
		data       string
		x, y, size int
	}{
		{"PRINTDOCK-DM-0001", 10, 10, 6},
		{"https://printdock.example/dm", 200, 10, 4},
	} {
		bc, err := datamatrix.Encode(tt.data)
		if err != nil {
			t.Fatal(err)
		}
		matrixAt(t, img, "Data Matrix "+tt.data, bc, tt.x, tt.y, tt.size)
		// The finder pattern: solid left column and bottom row, alternating top row.
		n := bc.Bounds().Dx()
		for i := range n {
			mid := func(m int) int { return m*tt.size + tt.size/2 }
			if !ink(img, tt.x+mid(0), tt.y+mid(i)) || !ink(img, tt.x+mid(i), tt.y+mid(n-1)) {
				t.Fatalf("Data Matrix %s: finder L broken at module %d", tt.data, i)
			}
			if ink(img, tt.x+mid(i), tt.y+mid(0)) != (i%2 == 0) {
				t.Fatalf("Data Matrix %s: timing row wrong at module %d", tt.data, i)
			}
		}
	}
	// Rotated R: the solid left column of the symbol becomes its top row.
	b := inkBounds(img, image.Rect(290, 110, 400, 200))
	for x := b.Min.X; x < b.Max.X; x++ {
		if !ink(img, x, b.Min.Y) {
			t.Fatalf("rotated Data Matrix: top row not solid at x %d (bounds %v)", x, b)
		}
	}
}

func checkFieldBlockFixture(t *testing.T, res *RenderResult) {
	wantWarning(t, res, "extra lines overprint")
	img := res.Image
	const left, right = 10, 310
	for _, tt := range []struct {
		just string
		y    int
	}{{"L", 20}, {"C", 130}, {"R", 240}, {"J", 350}} {
		lines := inkLines(img, image.Rect(0, tt.y, 320, tt.y+100))
		if len(lines) != 2 {
			t.Errorf("%s block: %d lines, want 2 (%v)", tt.just, len(lines), lines)
			continue
		}
		for i, l := range lines {
			if l.Min.X < left-3 || l.Max.X > right { // the j of "jumps" hooks left of its origin
				t.Errorf("%s block line %d: %v outside the block's x %d..%d", tt.just, i, l, left, right)
			}
			switch tt.just {
			case "L":
				if l.Min.X > left+3 {
					t.Errorf("L line %d starts at %d, want %d", i, l.Min.X, left)
				}
			case "C":
				if c := (l.Min.X + l.Max.X) / 2; c < 157 || c > 163 {
					t.Errorf("C line %d centred on %d, want 160", i, c)
				}
			case "R":
				if l.Max.X < right-4 {
					t.Errorf("R line %d ends at %d, want %d", i, l.Max.X, right)
				}
			case "J":
				if i == 0 && (l.Min.X > left+3 || l.Max.X < right-4) {
					t.Errorf("J first line spans %d..%d, want the block's width", l.Min.X, l.Max.X)
				}
				if i == 1 && l.Max.X > right-20 {
					t.Errorf("J last line ends at %d, want it left-aligned", l.Max.X)
				}
			}
		}
		// Line pitch: font height 28 plus 4 dots of spacing (0 for the J block).
		pitch := 32
		if tt.just == "J" {
			pitch = 28
		}
		if d := lines[1].Max.Y - lines[0].Max.Y; d < pitch-4 || d > pitch+4 {
			t.Errorf("%s block: line pitch %d, want about %d", tt.just, d, pitch)
		}
	}
	// \& breaks lines: three lines.
	if n := len(inkLines(img, image.Rect(320, 15, 600, 100))); n != 3 {
		t.Errorf(`\& block: %d lines, want 3`, n)
	}
	// Hanging indent: lines after the first start 30 dots further right.
	lines := inkLines(img, image.Rect(320, 195, 600, 300))
	if len(lines) < 2 || lines[1].Min.X-lines[0].Min.X < 27 {
		t.Errorf("hanging indent lines %v, want later lines 30 dots in", lines)
	}
	// ^FT with a 2-line block: the origin is the baseline of the block's last line.
	if b := inkBounds(img, image.Rect(320, 480, 600, 600)); b.Max.Y < 557 || b.Max.Y > 566 {
		t.Errorf("^FT block ink ends at %d, want the last baseline at 560 (plus descenders)", b.Max.Y)
	}
}

func checkLabelHomeFixture(t *testing.T, res *RenderResult) {
	noWarnings(t, res)
	img := res.Image
	checkRegion(t, img, "box at the label's origin", image.Rect(0, 0, 60, 40), rectInk(image.Rect(0, 0, 20, 20)))
	checkRegion(t, img, "box at ^LH100,50", image.Rect(90, 45, 125, 80), rectInk(image.Rect(100, 50, 120, 70)))
	checkRegion(t, img, "line at ^LH100,50 + 0,40", image.Rect(90, 85, 310, 100), rectInk(image.Rect(100, 90, 300, 93)))
	checkRegion(t, img, "box at ^LH200,150", image.Rect(190, 140, 230, 180), rectInk(image.Rect(200, 150, 220, 170)))
	checkRegion(t, img, "box shifted by ^LS-50", image.Rect(0, 240, 100, 300), rectInk(image.Rect(50, 250, 70, 270)))
	if b := inkBounds(img, image.Rect(125, 45, 300, 88)); b.Min.X < 130 || b.Min.X > 134 || b.Min.Y < 50 {
		t.Errorf("text at ^LH100,50 + 30,0 starts at %v, want (130,50)", b.Min)
	}
}

func checkShippingFixture(t *testing.T, res *RenderResult) {
	noWarnings(t, res)
	img := res.Image
	if img.Rect != image.Rect(0, 0, 812, 1218) {
		t.Fatalf("label is %v, want 812×1218", img.Rect)
	}
	got, err := decodeCode128(runs(row(img, 700, 140, 812)), 3)
	if err != nil || got != "1234567890123456" {
		t.Errorf("tracking barcode decodes to %q, %v", got, err)
	}
	bc, err := qr.Encode("https://track.example.com/1234567890123456", qr.Q, qr.Auto)
	if err != nil {
		t.Fatal(err)
	}
	matrixAt(t, img, "tracking QR", bc, 30, 880, 6)
	// The logo graphic: its black square is at (30,24).
	checkRegion(t, img, "logo square", image.Rect(30, 24, 126, 44), rectInk(image.Rect(30, 24, 126, 44)))
	if b := inkBounds(img, image.Rect(0, 1150, 812, 1218)); b != image.Rect(20, 1150, 792, 1200) {
		t.Errorf("reversed footer bar is %v, want (20,1150)-(792,1200)", b)
	}
}
