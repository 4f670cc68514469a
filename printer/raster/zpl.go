package raster

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"fmt"
)

// ZPLCompression selects how the ZPL encoder compresses ^GFA data.
type ZPLCompression string

const (
	// ZPLZ64 is ":Z64:" data: zlib-deflated, base64 with a CRC-16 of the base64 text. The smallest;
	// Zebra firmware from V60.13 / X.10 on reads it. The default.
	ZPLZ64 ZPLCompression = "z64"
	// ZPLACS is ZPL's ASCII hex with its run-length codes (G–Y, g–z, ',', '!', ':'), which every ZPL II
	// printer reads. Larger than Z64 for most labels.
	ZPLACS ZPLCompression = "acs"
)

// encodeZPL writes one ^XA…^XZ label per page: the page as a ^GFA graphic at the label origin, with ^PW
// and ^LL set to the bitmap's size.
func encodeZPL(pages []*Bitmap, comp ZPLCompression) ([]byte, error) {
	var out bytes.Buffer
	for _, b := range pages {
		total := b.Stride * b.H
		fmt.Fprintf(&out, "^XA\n^PW%d\n^LL%d\n^LH0,0\n^FO0,0^GFA,%d,%d,%d,", b.W, b.H, total, total, b.Stride)
		switch comp {
		case ZPLZ64, "":
			out.WriteString(z64(b.Bits))
		case ZPLACS:
			writeACS(&out, b)
		default:
			return nil, fmt.Errorf("raster: zpl compression %q (want z64 or acs): %w", comp, ErrBadTarget)
		}
		out.WriteString("^FS\n^XZ\n")
	}
	return out.Bytes(), nil
}

// z64 encodes data as ZPL ":Z64:" text: zlib, base64 (with padding), and the CRC-16/XMODEM of the
// base64 text in four upper-case hex digits.
func z64(data []byte) string {
	var zbuf bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&zbuf, zlib.BestCompression) // a valid level never fails
	zw.Write(data)                                            // writes to a bytes.Buffer cannot fail
	zw.Close()
	b64 := base64.StdEncoding.EncodeToString(zbuf.Bytes())
	return fmt.Sprintf(":Z64:%s:%04X", b64, crc16XModem([]byte(b64)))
}

// crc16XModem is CRC-16 with polynomial 0x1021 and initial value 0 (CRC-16/XMODEM), which Zebra
// specifies for :Z64: and :B64: data.
func crc16XModem(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc = crc<<8 ^ crcTable[byte(crc>>8)^c]
	}
	return crc
}

// crcTable holds the CRC-16/XMODEM remainder of every byte value.
var crcTable = func() (t [256]uint16) {
	for i := range t {
		r := uint16(i) << 8
		for range 8 {
			carry := r & 0x8000
			r <<= 1
			if carry != 0 {
				r ^= 0x1021
			}
		}
		t[i] = r
	}
	return t
}()

const hexDigits = "0123456789ABCDEF"

// writeACS encodes the bitmap in ZPL's ASCII hex compression, row by row:
//   - ':' repeats the previous row, ',' is a row of white (or the rest of a row);
//   - '!' fills the rest of a row with black;
//   - a run of n equal nibbles is a count (g–z for 20–400 in steps of 20, then G–Y for 1–19) and the
//     nibble; runs longer than 400 are split.
func writeACS(out *bytes.Buffer, b *Bitmap) {
	nib := make([]byte, 2*b.Stride)
	var prev []byte
	for y := range b.H {
		row := b.Row(y)
		if prev != nil && bytes.Equal(row, prev) {
			out.WriteByte(':')
			continue
		}
		prev = row
		for i, c := range row {
			nib[2*i], nib[2*i+1] = c>>4, c&0x0f
		}
		for i := 0; i < len(nib); {
			j := i + 1
			for j < len(nib) && nib[j] == nib[i] {
				j++
			}
			switch {
			case j == len(nib) && nib[i] == 0:
				out.WriteByte(',')
			case j == len(nib) && nib[i] == 0xf && j-i > 1:
				out.WriteByte('!')
			default:
				writeRun(out, j-i, hexDigits[nib[i]])
			}
			i = j
		}
	}
}

// writeRun writes n repetitions of the hex digit h with ZPL's repeat counts.
func writeRun(out *bytes.Buffer, n int, h byte) {
	for n > 0 {
		k := min(n, 400)
		n -= k
		if k >= 20 {
			out.WriteByte('g' + byte(k/20-1))
		}
		if r := k % 20; r > 0 && k > 1 {
			out.WriteByte('G' + byte(r-1))
		}
		out.WriteByte(h)
	}
}
