package zpl

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// gfPattern is the bitmap of the graphic fixtures (testdata/graphic_*.zpl): 64×48 dots with a frame,
// a diagonal, a checkerboard, blank rows and repeated rows, so that every compression code is used.
func gfPattern(x, y int) bool {
	switch {
	case y < 2 || y >= 46 || x < 2 || x >= 62: // frame, full rows at top and bottom
		return true
	case y >= 20 && y < 26: // blank band inside the frame
		return false
	case y >= 26 && y < 34: // repeated rows: a checkerboard of 4-dot squares in the right half
		return x >= 32 && (x/4+y/4)%2 == 0
	case y >= 34 && y < 46: // bars of different lengths
		return x >= 8 && x < 8+(y-34)*4
	}
	return x == y+10 || x == y+11 // diagonal
}

// packBits packs a bitmap into ZPL graphic bytes, most significant bit leftmost.
func packBits(w, h int, on func(x, y int) bool) (data []byte, perRow int) {
	perRow = (w + 7) / 8
	data = make([]byte, perRow*h)
	for y := range h {
		for x := range w {
			if on(x, y) {
				data[y*perRow+x/8] |= 0x80 >> (x % 8)
			}
		}
	}
	return data, perRow
}

// compressHex encodes graphic bytes in ZPL's ASCII hex compression. It is written independently of
// decodeCompressedHex so that the two check each other.
func compressHex(data []byte, perRow int) string {
	var out strings.Builder
	var prev string
	for r := 0; r*perRow < len(data); r++ {
		row := strings.ToUpper(hex.EncodeToString(data[r*perRow : (r+1)*perRow]))
		switch {
		case r > 0 && row == prev:
			out.WriteString(":")
			continue
		case strings.Trim(row, "0") == "":
			out.WriteString(",")
			prev = row
			continue
		case strings.Trim(row, "F") == "":
			out.WriteString("!")
			prev = row
			continue
		}
		prev = row
		trimmed := strings.TrimRight(row, "0")
		tail := ","
		if t := strings.TrimRight(row, "F"); len(t) < len(trimmed) {
			trimmed, tail = t, "!"
		}
		if len(trimmed) == len(row) {
			tail = ""
		}
		for i := 0; i < len(trimmed); {
			j := i
			for j < len(trimmed) && trimmed[j] == trimmed[i] {
				j++
			}
			out.WriteString(repeatCode(j - i))
			out.WriteByte(trimmed[i])
			i = j
		}
		out.WriteString(tail)
	}
	return out.String()
}

// repeatCode is the ZPL count prefix for n repeats of the next nibble (empty for 1).
func repeatCode(n int) string {
	if n == 1 {
		return ""
	}
	var s strings.Builder
	for n >= 20 {
		k := min(n/20, 20)
		s.WriteByte(byte('f' + k))
		n -= 20 * k
	}
	if n > 0 {
		s.WriteByte(byte('F' + n))
	}
	return s.String()
}

// zb64 encodes graphic bytes as ":Z64:…:crc" (compressed) or ":B64:…:crc".
func zb64(data []byte, compress bool) string {
	kind, raw := "B64", data
	if compress {
		var buf bytes.Buffer
		zw := zlib.NewWriter(&buf)
		zw.Write(data)
		zw.Close()
		kind, raw = "Z64", buf.Bytes()
	}
	body := base64.StdEncoding.EncodeToString(raw)
	return fmt.Sprintf(":%s:%s:%04X", kind, body, crc16XModem([]byte(body)))
}

func TestDecodeCompressedHex(t *testing.T) {
	noWarn := func(t *testing.T) func(string, ...any) {
		return func(f string, a ...any) { t.Errorf("unexpected warning: "+f, a...) }
	}
	tests := []struct {
		name   string
		in     string
		perRow int
		want   string // hex of the decoded bytes
	}{
		{"plain", "0FF0A5", 3, "0FF0A5"},
		{"G-Y counts", "GAHBI0YF", 12, "ABB000" + strings.Repeat("F", 18)},
		{"g-z counts", "gF", 10, strings.Repeat("F", 20)},
		{"counts add", "hKF", 45 / 2, strings.Repeat("F", 44)},
		{"comma fills zeros", "FF,FF,", 3, "FF0000FF0000"},
		{"bang fills ones", "00!", 3, "00FFFF"},
		{"comma alone is a blank row", ",F0F0F0", 3, "000000F0F0F0"},
		{"colon repeats row", "A5A5A5:", 3, "A5A5A5A5A5A5"},
		{"colon first row is blank", ":FFFFFF", 3, "000000FFFFFF"},
		{"colon mid-row completes from previous row", "123456AB:", 3, "123456AB3456"},
		{"rows run on", "FFFFFFFF", 2, "FFFFFFFF"},
		{"whitespace ignored", "F F\nF\r\nF", 2, "FFFF"},
		{"short data is white", "FF", 4, "FF000000"},
		{"excess data dropped", "FFFFFF", 1, "FF"},
		{"lowercase count then digit", "zzF", 1, "FF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := make([]byte, len(tt.want)/2)
			warn := noWarn(t)
			if strings.Contains(tt.name, "short") {
				warn = func(string, ...any) {}
			}
			decodeCompressedHex([]byte(tt.in), out, tt.perRow, warn)
			if got := strings.ToUpper(hex.EncodeToString(out)); got != tt.want {
				t.Errorf("decode %q = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestCompressedHexRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		perRow := 1 + rng.IntN(40)
		rows := 1 + rng.IntN(30)
		data := make([]byte, perRow*rows)
		for j := range data {
			switch rng.IntN(4) {
			case 0:
				data[j] = byte(rng.Uint32())
			case 1:
				data[j] = 0xff
			default:
				data[j] = 0 // long white runs, as in real labels
			}
			if j >= perRow && rng.IntN(3) == 0 {
				data[j] = data[j-perRow]
			}
		}
		enc := compressHex(data, perRow)
		out := make([]byte, len(data))
		decodeCompressedHex([]byte(enc), out, perRow, func(f string, a ...any) { t.Errorf("case %d: "+f, append([]any{i}, a...)...) })
		if !bytes.Equal(out, data) {
			t.Fatalf("case %d: round trip of %q differs", i, enc)
		}
	}
}

func TestDecodeZB64(t *testing.T) {
	data, perRow := packBits(64, 48, gfPattern)
	z64 := zb64(data, true)
	b64 := zb64(data, false)
	tests := []struct {
		name     string
		in       string
		wantErr  string // substring; "" for success
		wantWarn string
	}{
		{"z64", z64, "", ""},
		{"b64", b64, "", ""},
		{"z64 lowercase crc", z64[:len(z64)-4] + strings.ToLower(z64[len(z64)-4:]), "", ""},
		{"z64 with line breaks", z64[:20] + "\r\n" + z64[20:], "", ""},
		{"crc mismatch", z64[:len(z64)-4] + "0000", "CRC mismatch", ""},
		{"crc not hex", z64[:len(z64)-4] + "XYZW", "not 4 hex digits", ""},
		{"no crc", z64[:strings.LastIndex(z64, ":")], "", "no CRC"},
		{"bad base64", ":Z64:@@@@:" + fmt.Sprintf("%04X", crc16XModem([]byte("@@@@"))), "base64", ""},
		{"not zlib", ":Z64:QUJD:" + fmt.Sprintf("%04X", crc16XModem([]byte("QUJD"))), "zlib", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var warns []string
			g := graphicSpec{format: 'A', total: len(data), bytesPerRow: perRow, data: []byte(tt.in)}
			got, err := decodeGraphicData(g, func(f string, a ...any) { warns = append(warns, fmt.Sprintf(f, a...)) })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Error("decoded bitmap differs from the encoded one")
			}
			if tt.wantWarn != "" && !strings.Contains(strings.Join(warns, "|"), tt.wantWarn) {
				t.Errorf("warnings %q, want one containing %q", warns, tt.wantWarn)
			}
		})
	}
}

func TestCRC16XModem(t *testing.T) {
	// The standard check value of CRC-16/XMODEM.
	if got := crc16XModem([]byte("123456789")); got != 0x31C3 {
		t.Errorf("crc16XModem(123456789) = %04X, want 31C3", got)
	}
}

// TestGraphicLimits checks that graphic byte counts are capped before anything is allocated.
func TestGraphicLimits(t *testing.T) {
	tests := []struct {
		name     string
		zpl      string
		wantErr  error
		wantWarn string
	}{
		{"huge count", fmt.Sprintf("^XA^FO0,0^GFA,%d,%d,100,FF^FS^XZ", MaxGraphicBytes+1, MaxGraphicBytes+1), ErrTooLarge, ""},
		{"zero row", "^XA^FO0,0^GFA,10,10,0,FF^FS^XZ", nil, "must be positive"},
		{"negative count", "^XA^FO0,0^GFA,-5,-5,1,FF^FS^XZ", nil, "must be positive"},
		{"row longer than graphic", "^XA^FO0,0^GFA,4,4,8,FF^FS^XZ", nil, "bytes per row"},
		{"format C", "^XA^FO0,0^GFC,4,4,1,abcd^FS^XZ", nil, "format C"},
		{"missing parameters", "^XA^FO0,0^GFA,4^FS^XZ", nil, "missing parameters"},
		{"zlib bomb is cut", "^XA^FO0,0^GFA,8,8,1," + zb64(make([]byte, 1<<20), true) + "^FS^XZ", nil, "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := RenderLabel([]byte(tt.zpl), RenderOptions{Width: 200, Height: 100})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(res.Warnings, "|"), tt.wantWarn) {
				t.Errorf("warnings %q, want one containing %q", res.Warnings, tt.wantWarn)
			}
		})
	}
}

func TestBinaryGraphicMayContainCarets(t *testing.T) {
	data := []byte{'^', 'X', 'Z', 0xff} // a binary ^GF whose bytes look like commands
	zpl := append([]byte("^XA^FO0,0^GFB,4,4,1,"), data...)
	zpl = append(zpl, "^FS^FO20,0^GB5,5,5^FS^XZ"...)
	res, err := RenderLabel(zpl, RenderOptions{Width: 40, Height: 10})
	if err != nil {
		t.Fatal(err)
	}
	img := res.Image
	for y, b := range data {
		for x := range 8 {
			want := uint8(b>>(7-x)) & 1
			if got := img.ColorIndexAt(x, y); got != want {
				t.Errorf("pixel (%d,%d) = %d, want %d", x, y, got, want)
			}
		}
	}
	if img.ColorIndexAt(22, 2) != 1 {
		t.Error("the box after the binary graphic was not drawn")
	}
}
