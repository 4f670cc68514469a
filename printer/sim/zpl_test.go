package sim

import (
	"bytes"
	"slices"
	"testing"
)

func TestFormats(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []int
	}{
		{"none", "", nil},
		{"config only", "^XA^JUS^XZ", []int{defaultLabelDots}},
		{"one with LL", "^XA^LL812^FO50,50^FDhi^FS^XZ", []int{812}},
		{"two, lower case", "^xa^ll400^xz\r\n^XA^FDx^FS^XZ", []int{400, defaultLabelDots}},
		{"last LL wins, bad LL ignored", "^XA^LL100^LL200^LLx^XZ", []int{200}},
		{"open format does not count", "^XA^FDa^FS^XZ^XA^FDb", []int{defaultLabelDots}},
		{"XZ before XA ignored", "^XZ^XA^XZ", []int{defaultLabelDots}},
		{"nested XA", "^XA^XA^XZ", []int{defaultLabelDots}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := formats([]byte(tt.in)); !slices.Equal(got, tt.want) {
				t.Errorf("formats(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestHSFilter(t *testing.T) {
	tests := []struct {
		in  string
		out string
		hs  int
	}{
		{"", "", 0},
		{"^XA^XZ", "^XA^XZ", 0},
		{"~HS", "", 1},
		{"~hs~Hs^XA~HS^XZ", "^XA^XZ", 3},
		{"~JA~H~HX~", "~JA~H~HX~", 0},
		{"~~HS", "~", 1},
		{"~H", "~H", 0},
	}
	for _, tt := range tests {
		// Feeding in every possible split gives the same result as feeding it whole.
		for cut := 0; cut <= len(tt.in); cut++ {
			var f hsFilter
			a, n1 := f.feed([]byte(tt.in[:cut]))
			b, n2 := f.feed([]byte(tt.in[cut:]))
			got := string(a) + string(b) + string(f.flush())
			if got != tt.out || n1+n2 != tt.hs {
				t.Errorf("%q split at %d: got %q, %d ~HS; want %q, %d", tt.in, cut, got, n1+n2, tt.out, tt.hs)
			}
		}
	}
}

func FuzzHSFilter(f *testing.F) {
	f.Add([]byte("^XA~HS^XZ~h"), uint8(3))
	f.Add([]byte("~~~HHSS~hs"), uint8(1))
	f.Fuzz(func(t *testing.T, in []byte, step uint8) {
		n := int(step)%8 + 1
		var fl hsFilter
		var out []byte
		hs := 0
		for i := 0; i < len(in); i += n {
			o, h := fl.feed(in[i:min(i+n, len(in))])
			out = append(out, o...)
			hs += h
		}
		out = append(out, fl.flush()...)
		var whole hsFilter
		want, wantHS := whole.feed(in)
		want = append(want, whole.flush()...)
		if !bytes.Equal(out, want) || hs != wantHS {
			t.Fatalf("piecewise %q/%d != whole %q/%d", out, hs, want, wantHS)
		}
		if len(out)+3*hs != len(in) {
			t.Fatalf("lost bytes: %d out + 3*%d != %d in", len(out), hs, len(in))
		}
	})
}
