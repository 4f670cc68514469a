package zpl

import (
	"fmt"
	"image"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/boombuler/barcode/code128"
	"github.com/boombuler/barcode/qr"
)

// decodeCode128 reads a Code 128 symbol from its bar and space widths in dots (starting with the first
// bar), checking that every element is a whole number of modules, the check symbol and the stop
// pattern. FNC 1 is returned as "<FNC1>".
func decodeCode128(widths []int, module int) (string, error) {
	byPattern := map[string]int{}
	for v, p := range code128Widths {
		byPattern[p] = v
	}
	var values []int
	for i := 0; i < len(widths); {
		n := 6
		if len(widths)-i == 7 {
			n = 7 // the stop pattern
		}
		if i+n > len(widths) {
			return "", fmt.Errorf("symbol %d: %d elements left, want %d", len(values), len(widths)-i, n)
		}
		var p strings.Builder
		for _, w := range widths[i : i+n] {
			if w%module != 0 || w/module < 1 || w/module > 4 {
				return "", fmt.Errorf("symbol %d: element of %d dots is not 1–4 modules of %d", len(values), w, module)
			}
			p.WriteByte(byte('0' + w/module))
		}
		v, ok := byPattern[p.String()]
		if !ok {
			return "", fmt.Errorf("symbol %d: pattern %s is not Code 128", len(values), p.String())
		}
		values = append(values, v)
		i += n
	}
	if len(values) < 3 || values[len(values)-1] != c128Stop {
		return "", fmt.Errorf("no stop pattern in %v", values)
	}
	sum := values[0]
	for i, v := range values[1 : len(values)-2] {
		sum += (i + 1) * v
	}
	if sum%103 != values[len(values)-2] {
		return "", fmt.Errorf("check symbol %d, want %d", values[len(values)-2], sum%103)
	}
	var subset byte
	switch values[0] {
	case c128StartA:
		subset = 'A'
	case c128StartB:
		subset = 'B'
	case c128StartC:
		subset = 'C'
	default:
		return "", fmt.Errorf("no start symbol: %d", values[0])
	}
	var out strings.Builder
	for _, v := range values[1 : len(values)-2] {
		switch {
		case v == c128FNC1:
			out.WriteString("<FNC1>")
		case subset == 'C' && v < 100:
			fmt.Fprintf(&out, "%02d", v)
		case v == c128CodeC:
			subset = 'C'
		case v == c128CodeB && subset != 'B':
			subset = 'B'
		case v == c128CodeA && subset != 'A':
			subset = 'A'
		case subset == 'A' && v >= 64:
			out.WriteByte(byte(v - 64))
		default:
			out.WriteByte(byte(v + 32))
		}
	}
	return out.String(), nil
}

func TestCode128ZPL(t *testing.T) {
	tests := []struct {
		data    string
		values  []int // without check and stop
		human   string
		dropped bool
	}{
		{"AB", []int{c128StartB, 33, 34}, "AB", false},
		{">:AB", []int{c128StartB, 33, 34}, "AB", false},
		{">;1234", []int{c128StartC, 12, 34}, "1234", false},
		{">;123", []int{c128StartC, 12}, "12", true},         // unpaired digit dropped
		{">;12A34", []int{c128StartC, 12, 34}, "1234", true}, // stray letter dropped
		{">;1A34", []int{c128StartC, 34}, "34", true},        // invalid pair dropped
		{">;>8001234", []int{c128StartC, c128FNC1, 0, 12, 34}, "001234", false},
		{">;12>6AB", []int{c128StartC, 12, c128CodeB, 33, 34}, "12AB", false},
		{"AB>512", []int{c128StartB, 33, 34, c128CodeC, 12}, "AB12", false},
		{">9AB\x01", []int{c128StartA, 33, 34, 65}, "AB\x01", false},
		{"A><B", []int{c128StartB, 33, 30, 34}, "A>B", false},
		{"A>", []int{c128StartB, 33, 30}, "A>", false},
		{"A>XB", []int{c128StartB, 33, 34}, "AB", true},
		{"Zoë", []int{c128StartB, 58, 79}, "Zo", true},
	}
	for _, tt := range tests {
		values, human, dropped := code128ZPL(tt.data)
		if got := values[:len(values)-2]; !slices.Equal(got, tt.values) || human != tt.human || dropped != tt.dropped {
			t.Errorf("code128ZPL(%q) = %v %q %v, want %v %q %v", tt.data, got, human, dropped, tt.values, tt.human, tt.dropped)
		}
		if values[len(values)-1] != c128Stop {
			t.Errorf("code128ZPL(%q) does not end with the stop symbol", tt.data)
		}
	}
}

// TestCode128MatchesBoombuler checks the symbol table and check symbol against boombuler's encoder on
// data where both pick the same subset: text in subset B and even runs of digits in subset C.
func TestCode128MatchesBoombuler(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const letters = " !\"#$%&'()*+,-./:;<=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"
	for range 300 {
		n := 1 + rng.IntN(30)
		var zplData, plain string
		if rng.IntN(2) == 0 {
			b := make([]byte, n)
			for i := range b {
				b[i] = letters[rng.IntN(len(letters))]
			}
			zplData = strings.ReplaceAll(string(b), ">", "><")
			plain = string(b)
		} else {
			b := make([]byte, 2*(2+n))
			for i := range b {
				b[i] = byte('0' + rng.IntN(10))
			}
			zplData, plain = ">;"+string(b), string(b)
		}
		values, _, dropped := code128ZPL(zplData)
		if dropped {
			t.Fatalf("%q: data dropped", zplData)
		}
		bc, err := code128.Encode(plain)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := code128Modules(values), barcodeModules(bc); !slices.Equal(got, want) {
			t.Fatalf("%q: modules differ from boombuler's", plain)
		}
		spans, width := spansOf(code128Modules(values), 3, 0)
		line := make([]bool, width)
		for _, s := range spans {
			for x := s.start; x < s.end; x++ {
				line[x] = true
			}
		}
		if got, err := decodeCode128(runs(line), 3); err != nil || got != plain {
			t.Fatalf("%q: decodes to %q, %v", plain, got, err)
		}
	}
}

func TestQRInput(t *testing.T) {
	tests := []struct {
		in   string
		data string
		ecc  qr.ErrorCorrectionLevel
	}{
		{"QA,hello", "hello", qr.Q},
		{"HA,hello", "hello", qr.H},
		{"la,hello", "hello", qr.L},
		{"MM,Nhello", "hello", qr.M},
		{"LM,B0005hello", "hello", qr.L},
		{"LM,Ahello", "hello", qr.L},
		{"hello", "hello", qr.Q},       // no prefix: the ^BQ default
		{"XA,hello", "XA,hello", qr.Q}, // not an error-correction letter
		{"QA,a,b,c", "a,b,c", qr.Q},    // commas in data
		{"MM,B", "", qr.M},             // short byte-mode header
	}
	for _, tt := range tests {
		data, ecc := qrInput(tt.in, 'Q')
		if data != tt.data || ecc != tt.ecc {
			t.Errorf("qrInput(%q) = %q %v, want %q %v", tt.in, data, ecc, tt.data, tt.ecc)
		}
	}
}

func TestBarcodeWarnings(t *testing.T) {
	tests := []struct {
		name string
		zpl  string
		want string
	}{
		{"code 39 lower case", "^XA^FO10,10^B3N^FDabc^FS^XZ", "^B3: cannot encode"},
		{"code 128 nothing to encode", "^XA^FO10,10^BCN^FD>;A^FS^XZ", "no data to encode"},
		{"code 128 too long for mode A", "^XA^FO10,10^BCN,,,,,A^FD" + strings.Repeat("x", 100) + "^FS^XZ", "cannot encode"},
		{"qr too long", "^XA^FO10,10^BQN,2,1^FDHA," + strings.Repeat("x", 3000) + "^FS^XZ", "^BQ: cannot encode"},
		{"qr model 1", "^XA^FO10,10^BQN,1,2^FDQA,x^FS^XZ", "model 1"},
		{"data matrix quality", "^XA^FO10,10^BXN,4,140^FDx^FS^XZ", "quality 140"},
		{"barcode without data", "^XA^FO10,10^BCN^FS^XZ", "no ^FD data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := RenderLabel([]byte(tt.zpl), RenderOptions{Width: 400, Height: 300})
			if err != nil {
				t.Fatal(err)
			}
			wantWarning(t, res, tt.want)
		})
	}
}

func TestInterpretationLineFont(t *testing.T) {
	// A font command before the barcode sets its interpretation line font (here much larger).
	small, err := RenderLabel([]byte("^XA^BY2^FO10,10^BCN,50^FDABC^FS^XZ"), RenderOptions{Width: 400, Height: 300})
	if err != nil {
		t.Fatal(err)
	}
	big, err := RenderLabel([]byte("^XA^BY2^FO10,10^A0N,60,60^BCN,50^FDABC^FS^XZ"), RenderOptions{Width: 400, Height: 300})
	if err != nil {
		t.Fatal(err)
	}
	hs := inkBounds(small.Image, image.Rect(0, 61, 400, 300)).Dy()
	hb := inkBounds(big.Image, image.Rect(0, 61, 400, 300)).Dy()
	if hb < 2*hs {
		t.Errorf("interpretation line with ^A0N,60,60 is %d dots high, default %d", hb, hs)
	}
}
