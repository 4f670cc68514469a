package zpl

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"slices"
	"strings"
	"testing"
)

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name string
		zpl  string
		opts RenderOptions
		want error
	}{
		{"empty", "", RenderOptions{}, ErrNoLabel},
		{"no label", "hello ~HS ^FO10,10^FDx^FS", RenderOptions{}, ErrNoLabel},
		{"label index past the end", "^XA^XZ^XA^XZ", RenderOptions{Label: 2}, ErrNoLabel},
		{"negative label index", "^XA^XZ", RenderOptions{Label: -1}, ErrNoLabel},
		{"^PW beyond ZPL's limit", "^XA^PW40000^XZ", RenderOptions{}, ErrTooLarge},
		{"label beyond MaxPixels", "^XA^PW800^LL1200^XZ", RenderOptions{MaxPixels: 800 * 1199}, ErrTooLarge},
		{"media beyond MaxPixels", "^XA^XZ", RenderOptions{DotsPerMM: 24, MaxPixels: 1 << 20}, ErrTooLarge},
		{"input too large", "^XA" + strings.Repeat(" ", MaxInputBytes) + "^XZ", RenderOptions{}, ErrTooLarge},
		{"drawing work beyond budget", "^XA^PW812^LL1218" + strings.Repeat("^FO0,0^GB812,1218,1^FS", 100) + "^XZ", RenderOptions{}, ErrTooLarge},
		{"huge text beyond budget", "^XA" + strings.Repeat("^FO0,0^A0N,2000,2000^FDW^FS", 20) + "^XZ", RenderOptions{}, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := RenderLabel([]byte(tt.zpl), tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if res != nil {
				t.Error("a result came with the error")
			}
		})
	}
	if _, err := RenderLabel([]byte("^XA^XZ"), RenderOptions{DotsPerMM: 100}); err == nil {
		t.Error("100 dots/mm accepted")
	}
}

func TestLabelSize(t *testing.T) {
	tests := []struct {
		zpl  string
		opts RenderOptions
		want image.Point
	}{
		{"^XA^XZ", RenderOptions{}, image.Pt(812, 1218)},
		{"^XA^XZ", RenderOptions{DotsPerMM: 6}, image.Pt(608, 912)},
		{"^XA^XZ", RenderOptions{DotsPerMM: 12}, image.Pt(1200, 1800)},
		{"^XA^XZ", RenderOptions{DotsPerMM: 24}, image.Pt(2400, 3600)},
		{"^XA^XZ", RenderOptions{Width: 400, Height: 300}, image.Pt(400, 300)},
		{"^XA^PW500^LL200^XZ", RenderOptions{}, image.Pt(500, 200)},
		{"^XA^PW500^XZ", RenderOptions{Height: 100}, image.Pt(500, 100)},
		{"^XA^FO1,1^GB5,5,5^FS^PW300^LL150^XZ", RenderOptions{}, image.Pt(300, 150)}, // size given after fields
		{"^XA^PW0^LL0^XZ", RenderOptions{}, image.Pt(812, 1218)},
	}
	for _, tt := range tests {
		img, err := Render([]byte(tt.zpl), tt.opts)
		if err != nil {
			t.Fatalf("%s: %v", tt.zpl, err)
		}
		if got := img.Bounds().Size(); got != tt.want {
			t.Errorf("%s %+v: size %v, want %v", tt.zpl, tt.opts, got, tt.want)
		}
	}
}

func TestSkippedAndWarnings(t *testing.T) {
	tests := []struct {
		name     string
		zpl      string
		skipped  []string
		warnings []string
	}{
		{"clean", "^XA^FO10,10^A0N,20^FDok^FS^XZ", nil, nil},
		{"unknown commands once each, in order", "^XA^BEN,50^FD123^FS^GC50^BEN^FD1^FS^XG R:LOGO.GRF^XZ", []string{"^BE", "^GC", "^XG"}, nil},
		{"tilde commands", "~SD25~JA^XA~HS^XZ", []string{"~SD", "~JA", "~HS"}, nil},
		{"commands without picture are silent", "^XA^CI28^PR4^MD10^PQ2^MMT^MNY^JUS^FXnote^PON^XZ", nil, nil},
		{"lower-case commands", "^xa^fo10,10^gb5,5,5^fs^bzn^xz", []string{"^BZ"}, nil},
		{"after the label is not reported", "^XA^XZ^BE~JA", nil, nil},
		{"labels before the one drawn are not reported", "^XA^BE^XZ^XA^GC^XZ", []string{"^GC"}, nil},
		{"missing ^XZ", "^XA^FO1,1^GB5,5,5^FS", nil, []string{"label has no closing ^XZ"}},
		{"missing ^FS", "^XA^FO1,1^FDa^FO20,1^FDb^FS^XZ", nil, []string{"field without ^FS"}},
		{"field data cut", "^XA^FO1,1^FD" + strings.Repeat("x", 4000) + "^FS^XZ", nil, []string{"longer than 3072"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := RenderOptions{Width: 200, Height: 100}
			if strings.HasPrefix(tt.name, "labels before") {
				opts.Label = 1
			}
			res, err := RenderLabel([]byte(tt.zpl), opts)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Skipped, tt.skipped) {
				t.Errorf("skipped %q, want %q", res.Skipped, tt.skipped)
			}
			if len(tt.warnings) == 0 && len(res.Warnings) > 0 {
				t.Errorf("warnings %q, want none", res.Warnings)
			}
			for _, w := range tt.warnings {
				wantWarning(t, res, w)
			}
		})
	}
}

func TestMultipleLabels(t *testing.T) {
	// ^LH, ^BY, ^CF persist from one label to the next, as on a printer; each label is drawn alone.
	zpl := "^XA^LH10,10^FO0,0^GB5,5,5^FS^XZ\n^XA^FO20,0^GB5,5,5^FS^XZ\n^XA^LH0,0^FO0,0^GB5,5,5^FS^XZ"
	want := []image.Rectangle{image.Rect(10, 10, 15, 15), image.Rect(30, 10, 35, 15), image.Rect(0, 0, 5, 5)}
	for i, w := range want {
		res, err := RenderLabel([]byte(zpl), RenderOptions{Width: 100, Height: 50, Label: i})
		if err != nil {
			t.Fatal(err)
		}
		if res.Labels != 3 {
			t.Errorf("label %d: Labels = %d, want 3", i, res.Labels)
		}
		if got := inkBounds(res.Image, res.Image.Rect); got != w {
			t.Errorf("label %d: ink at %v, want %v", i, got, w)
		}
	}
	// A second ^XA without ^XZ ends the first label.
	res, err := RenderLabel([]byte("^XA^FO0,0^GB5,5,5^FS^XA^FO20,0^GB5,5,5^FS^XZ"), RenderOptions{Width: 100, Height: 50})
	if err != nil {
		t.Fatal(err)
	}
	if got := inkBounds(res.Image, res.Image.Rect); got != image.Rect(0, 0, 5, 5) || res.Labels != 2 {
		t.Errorf("unclosed first label: ink %v, %d labels", got, res.Labels)
	}
}

func TestPrintOrientationAndMirror(t *testing.T) {
	tests := []struct {
		zpl  string
		want image.Rectangle
	}{
		{"^XA^FO0,0^GB10,5,5^FS^XZ", image.Rect(0, 0, 10, 5)},
		{"^XA^POI^FO0,0^GB10,5,5^FS^XZ", image.Rect(90, 45, 100, 50)},
		{"^XA^PMY^FO0,0^GB10,5,5^FS^XZ", image.Rect(90, 0, 100, 5)},
	}
	for _, tt := range tests {
		img, err := Render([]byte(tt.zpl), RenderOptions{Width: 100, Height: 50})
		if err != nil {
			t.Fatal(err)
		}
		if got := inkBounds(img.(*image.Paletted), img.Bounds()); got != tt.want {
			t.Errorf("%s: ink at %v, want %v", tt.zpl, got, tt.want)
		}
	}
}

func TestFieldCommandsBeforeOrigin(t *testing.T) {
	// Generators often give the font or barcode command before ^FO; it belongs to the field.
	a := renderSnippet(t, "^FO50,50^A0N,60,60^FDBig^FS")
	b := renderSnippet(t, "^A0N,60,60^FO50,50^FDBig^FS")
	if ga, gb := inkBounds(a.Image, a.Image.Rect), inkBounds(b.Image, b.Image.Rect); ga != gb {
		t.Errorf("font before ^FO drew %v, after ^FO %v", gb, ga)
	}
	c := renderSnippet(t, "^BY2^BCN,50,N^FO50,50^FDABC^FS")
	if got := inkBounds(c.Image, c.Image.Rect); got.Min != image.Pt(50, 50) || got.Dy() != 50 {
		t.Errorf("barcode before ^FO drawn at %v", got)
	}
}

func TestRenderPNG(t *testing.T) {
	zpl := []byte("^XA^PW100^LL60^FO10,10^GB30,20,3^FS^FO50,10^A0N,30^FDok^FS^XZ")
	b, err := RenderPNG(zpl, RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	img, err := Render(zpl, RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if decoded.Bounds() != img.Bounds() {
		t.Fatalf("png is %v, image %v", decoded.Bounds(), img.Bounds())
	}
	for y := 0; y < 60; y++ {
		for x := 0; x < 100; x++ {
			if isDark(decoded.At(x, y)) != isDark(img.At(x, y)) {
				t.Fatalf("png differs from the image at (%d,%d)", x, y)
			}
		}
	}
	if _, err := RenderPNG(nil, RenderOptions{}); !errors.Is(err, ErrNoLabel) {
		t.Errorf("RenderPNG(nil) err = %v", err)
	}
}

func TestFieldData(t *testing.T) {
	tests := []struct {
		in, ind, want string
	}{
		{"abc", "_", "abc"},
		{"_41_42", "_", "AB"},
		{"_5e_7E", "_", "^~"},
		{"_4", "_", "_4"},
		{"_ZZ_", "_", "_ZZ_"},
		{"#41_41", "#", "A_41"},
		{"_C3_A9", "_", "é"}, // UTF-8 bytes
		{"_E9", "_", "é"},    // not UTF-8: Latin-1
	}
	for _, tt := range tests {
		if got := fieldText(decodeFieldHex([]byte(tt.in), tt.ind[0])); got != tt.want {
			t.Errorf("field %q with ^FH%s = %q, want %q", tt.in, tt.ind, got, tt.want)
		}
	}
	// Line breaks are not data; ~ is.
	res := renderSnippet(t, "^FO10,10^BQN,2,2^FDQA,https://x.example/~a\r\nb^FS")
	if inkBounds(res.Image, res.Image.Rect).Empty() || len(res.Warnings) > 0 {
		t.Errorf("QR with ~ in data: warnings %q", res.Warnings)
	}
}

func TestParams(t *testing.T) {
	a := splitParams([]byte(" 10 ,x,2.7,,-3\r\n,Y"))
	if got := a.int(0, 5); got != 10 {
		t.Errorf("int(0) = %d", got)
	}
	if got := a.int(1, 5); got != 5 {
		t.Errorf("int(1) = %d, want the default", got)
	}
	if got := a.int(2, 5); got != 2 {
		t.Errorf("int(2) = %d, want 2", got)
	}
	if got := a.int(3, 5); got != 5 {
		t.Errorf("int(3) = %d, want the default", got)
	}
	if got := a.int(4, 5); got != -3 {
		t.Errorf("int(4) = %d", got)
	}
	if got := a.float(2, 0); got != 2.7 {
		t.Errorf("float(2) = %v", got)
	}
	if !a.yes(5, false) || a.yes(9, false) {
		t.Error("yes() wrong")
	}
	if got := a.int(99, 7); got != 7 {
		t.Errorf("int(99) = %d", got)
	}
	if got := splitParams([]byte("99999999999")).int(0, 1); got != 1<<30 {
		t.Errorf("huge number = %d, want it clamped", got)
	}
	if got := splitParams([]byte("99999999999999999999999")).int(0, 1); got != 1 {
		t.Errorf("number beyond int = %d, want the default", got)
	}
}
