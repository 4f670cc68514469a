package raster

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"fmt"
	"image"
	"io"
	"math/rand/v2"
	"regexp"
	"strconv"
	"testing"

	"printdock/printer"
	"printdock/printer/zpl"
)

// smallBitmap is 12×3 dots: a full row, the same row again, and a single dot at the left.
func smallBitmap() *Bitmap {
	b := NewBitmap(12, 3)
	for x := range 12 {
		b.Set(x, 0, true)
		b.Set(x, 1, true)
	}
	b.Set(0, 2, true)
	return b
}

func TestEncodeByteExact(t *testing.T) {
	inv := string([]byte{0x00, 0x0f, 0x00, 0x0f, 0x7f, 0xff}) // the rows inverted, padding white
	tests := []struct {
		name string
		t    Target
		want string
	}{
		{"zpl acs", Target{Language: printer.LangZPL, ZPLCompression: ZPLACS},
			"^XA\n^PW12\n^LL3\n^LH0,0\n^FO0,0^GFA,6,6,2,IF,:8,^FS\n^XZ\n"},
		{"epl", Target{Language: printer.LangEPL},
			"\nN\nq12\nGW0,0,2,3," + inv + "\nP1\n"},
		{"tspl", Target{Language: printer.LangTSPL, DPI: 203, WidthMM: 50.8, HeightMM: 25.4},
			"SIZE 50.8 mm,25.4 mm\r\nGAP 3 mm,0 mm\r\nCLS\r\nBITMAP 0,0,2,3,0," + inv + "\r\nPRINT 1\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Encode(tt.t, []*Bitmap{smallBitmap()})
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestEncodeZ64 checks the Z64 label byte for byte except the deflate stream, whose exact bytes depend
// on the Go release: that part is checked by decoding it, and its CRC by an independent computation.
func TestEncodeZ64(t *testing.T) {
	b := smallBitmap()
	got, err := Encode(Target{Language: printer.LangZPL}, []*Bitmap{b})
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^\^XA\n\^PW12\n\^LL3\n\^LH0,0\n\^FO0,0\^GFA,6,6,2,:Z64:([A-Za-z0-9+/]+=*):([0-9A-F]{4})\^FS\n\^XZ\n$`).FindSubmatch(got)
	if m == nil {
		t.Fatalf("label does not match the Z64 form: %q", got)
	}
	if crc, _ := strconv.ParseUint(string(m[2]), 16, 16); uint16(crc) != crcBitwise(m[1]) {
		t.Errorf("CRC %s, want %04X", m[2], crcBitwise(m[1]))
	}
	raw, err := base64.StdEncoding.DecodeString(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	bits, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{0xff, 0xf0, 0xff, 0xf0, 0x80, 0x00}; !bytes.Equal(bits, want) {
		t.Errorf("decoded % x, want % x", bits, want)
	}
}

// crcBitwise is CRC-16/XMODEM computed bit by bit from its definition, to check crc16XModem.
func crcBitwise(data []byte) uint16 {
	var reg uint32
	for _, c := range append(append([]byte{}, data...), 0, 0) { // augmented message
		for i := 7; i >= 0; i-- {
			reg = reg<<1 | uint32(c>>i&1)
			if reg&0x10000 != 0 {
				reg ^= 0x11021
			}
		}
	}
	return uint16(reg)
}

func TestCRC16XModem(t *testing.T) {
	if got := crc16XModem([]byte("123456789")); got != 0x31C3 { // the CRC catalogue's check value
		t.Errorf("check value %04X, want 31C3", got)
	}
	if got, want := crc16XModem([]byte("eJzT0tLS0gIABTYBZw==")), crcBitwise([]byte("eJzT0tLS0gIABTYBZw==")); got != want {
		t.Errorf("%04X != %04X", got, want)
	}
}

func TestWriteRun(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want string
	}{
		{1, "F"}, {2, "HF"}, {19, "YF"}, {20, "gF"}, {21, "gGF"}, {39, "gYF"}, {40, "hF"},
		{400, "zF"}, {401, "zFF"}, {820, "zFzFgF"},
	} {
		var buf bytes.Buffer
		writeRun(&buf, tt.n, 'F')
		if buf.String() != tt.want {
			t.Errorf("run of %d: %q, want %q", tt.n, buf.String(), tt.want)
		}
	}
}

// patternBitmap has every kind of row the ACS encoder distinguishes: blank, full, repeated, runs of
// all lengths, random, and a width that is not a multiple of 8.
func patternBitmap(w, h int, seed uint64) *Bitmap {
	r := rand.New(rand.NewPCG(seed, 1))
	b := NewBitmap(w, h)
	for y := range h {
		for x := range w {
			var on bool
			switch y % 9 {
			case 0: // blank
			case 1:
				on = true
			case 2, 3: // 3 repeats 2
				on = (x/(y%7+1))%2 == 0
			case 4:
				on = x < y*7%w
			case 5:
				on = x >= w-y%23
			default:
				on = r.IntN(4) == 0
			}
			b.Set(x, y, on)
		}
	}
	return b
}

// TestZPLRoundTrip prints the ZPL through the project's ZPL renderer and requires exactly the bitmap's
// dots, for both compressions and for every label of a multi-page job.
func TestZPLRoundTrip(t *testing.T) {
	pages := []*Bitmap{patternBitmap(812, 120, 1), patternBitmap(1213, 61, 2), patternBitmap(7, 5, 3)}
	for _, comp := range []ZPLCompression{ZPLZ64, ZPLACS} {
		t.Run(string(comp), func(t *testing.T) {
			data, err := Encode(Target{Language: printer.LangZPL, ZPLCompression: comp}, pages)
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range pages {
				res, err := zpl.RenderLabel(data, zpl.RenderOptions{Label: i})
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Warnings) > 0 {
					t.Errorf("label %d: renderer warnings %q", i, res.Warnings)
				}
				if diff := bitmapDiff(res.Image, want); diff != "" {
					t.Errorf("label %d: %s", i, diff)
				}
			}
		})
	}
}

// bitmapDiff compares a rendered image (palette index 1 = black) with a bitmap, dot for dot.
func bitmapDiff(img *image.Paletted, b *Bitmap) string {
	if img.Rect.Dx() != b.W || img.Rect.Dy() != b.H {
		return fmt.Sprintf("size %v, want %d×%d", img.Rect.Size(), b.W, b.H)
	}
	bad := 0
	first := ""
	for y := range b.H {
		for x := range b.W {
			if (img.ColorIndexAt(x, y) == 1) != b.Black(x, y) {
				if bad == 0 {
					first = fmt.Sprintf("(%d,%d)", x, y)
				}
				bad++
			}
		}
	}
	if bad > 0 {
		return fmt.Sprintf("%d dots differ, first at %s", bad, first)
	}
	return ""
}
