package sim

import (
	"bytes"
	"strconv"
)

// dotsPerInch is the simulated print head's resolution (a 203 dpi Zebra: 8 dots/mm).
const dotsPerInch = 203

// defaultLabelDots is the label length used when a format has no ^LL: a 6-inch shipping label.
const defaultLabelDots = 6 * dotsPerInch

// formats returns the length in dots (^LL, else defaultLabelDots) of each complete ^XA…^XZ format in
// data. Command letters are matched case-insensitively, as Zebras do. A format left open at the end of
// data does not count: a Zebra does not print it.
func formats(data []byte) []int {
	var out []int
	up := bytes.ToUpper(data)
	for {
		start := bytes.Index(up, []byte("^XA"))
		if start < 0 {
			return out
		}
		up = up[start+3:]
		end := bytes.Index(up, []byte("^XZ"))
		if end < 0 {
			return out
		}
		out = append(out, labelLength(up[:end]))
		up = up[end+3:]
	}
}

// labelLength returns the last ^LLn value in a format, or defaultLabelDots.
func labelLength(format []byte) int {
	dots := defaultLabelDots
	for rest := format; ; {
		i := bytes.Index(rest, []byte("^LL"))
		if i < 0 {
			return dots
		}
		rest = rest[i+3:]
		j := 0
		for j < len(rest) && j < 6 && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if n, err := strconv.Atoi(string(rest[:j])); err == nil && n > 0 {
			dots = n
		}
	}
}

// hsFilter removes ~HS commands from a byte stream fed in arbitrary pieces, counting them. A Zebra
// executes tilde commands as they arrive instead of buffering them with the format.
type hsFilter struct {
	pend []byte // a trailing "~" or "~H" that may start a ~HS split across reads
}

// feed returns the bytes of in (after any pending prefix) that are not part of a ~HS, and how many ~HS
// commands it saw.
func (f *hsFilter) feed(in []byte) (out []byte, hs int) {
	buf := in
	if len(f.pend) > 0 {
		buf = append(f.pend, in...)
		f.pend = nil
	}
	out = make([]byte, 0, len(buf))
	for len(buf) > 0 {
		i := bytes.IndexByte(buf, '~')
		if i < 0 {
			return append(out, buf...), hs
		}
		out = append(out, buf[:i]...)
		rest := buf[i:]
		switch {
		case len(rest) >= 3 && (rest[1] == 'H' || rest[1] == 'h') && (rest[2] == 'S' || rest[2] == 's'):
			hs++
			buf = rest[3:]
		case len(rest) == 1 || (len(rest) == 2 && (rest[1] == 'H' || rest[1] == 'h')):
			f.pend = append([]byte(nil), rest...)
			return out, hs
		default:
			out = append(out, '~')
			buf = rest[1:]
		}
	}
	return out, hs
}

// flush returns a pending partial prefix at the end of the stream: it was data after all.
func (f *hsFilter) flush() []byte {
	p := f.pend
	f.pend = nil
	return p
}
