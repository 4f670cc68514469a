package printer

import (
	"bytes"
	"testing"
)

func TestChunks(t *testing.T) {
	data := []byte("0123456789")
	tests := []struct {
		name string
		data []byte
		size int
		want []string
		offs []int
	}{
		{"even", data, 5, []string{"01234", "56789"}, []int{0, 5}},
		{"remainder", data, 4, []string{"0123", "4567", "89"}, []int{0, 4, 8}},
		{"size larger", data, 64, []string{"0123456789"}, []int{0}},
		{"size one", []byte("abc"), 1, []string{"a", "b", "c"}, []int{0, 1, 2}},
		{"size zero is whole", data, 0, []string{"0123456789"}, []int{0}},
		{"negative size is whole", data, -3, []string{"0123456789"}, []int{0}},
		{"empty", nil, 4, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			var offs []int
			var joined []byte
			for off, c := range Chunks(tt.data, tt.size) {
				got = append(got, string(c))
				offs = append(offs, off)
				joined = append(joined, c...)
				if cap(c) != len(c) {
					t.Errorf("chunk cap %d > len %d: an append could overwrite the next chunk", cap(c), len(c))
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] || offs[i] != tt.offs[i] {
					t.Errorf("chunk %d = %q@%d, want %q@%d", i, got[i], offs[i], tt.want[i], tt.offs[i])
				}
			}
			if !bytes.Equal(joined, tt.data) {
				t.Errorf("joined %q != data %q", joined, tt.data)
			}
		})
	}
}

func TestChunksStopEarly(t *testing.T) {
	n := 0
	for range Chunks([]byte("abcdef"), 2) {
		n++
		break
	}
	if n != 1 {
		t.Fatalf("n = %d", n)
	}
}
