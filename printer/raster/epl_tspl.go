package raster

import (
	"bytes"
	"fmt"
	"strconv"
)

// encodeEPL writes one EPL2 label per page: N (clear the image buffer), q (label width in dots), the page
// as a GW graphic at the origin, P1. GW data is binary, rows of bytes with the most significant bit
// leftmost, and in EPL a 0 bit prints black, so the bitmap is inverted. Lines end in LF.
func encodeEPL(pages []*Bitmap) []byte {
	var out bytes.Buffer
	for _, b := range pages {
		fmt.Fprintf(&out, "\nN\nq%d\nGW0,0,%d,%d,", b.W, b.Stride, b.H)
		writeInverted(&out, b)
		out.WriteString("\nP1\n")
	}
	return out.Bytes()
}

// encodeTSPL writes one TSPL label per page: SIZE and GAP (the label in mm, a 3 mm gap), CLS, the page as
// a BITMAP in overwrite mode at the origin, PRINT 1. BITMAP data is binary like EPL's GW and, as there,
// a 0 bit prints black. Lines end in CR LF.
func encodeTSPL(pages []*Bitmap, t Target) []byte {
	var out bytes.Buffer
	for _, b := range pages {
		fmt.Fprintf(&out, "SIZE %s mm,%s mm\r\nGAP 3 mm,0 mm\r\nCLS\r\nBITMAP 0,0,%d,%d,0,", mm(t.WidthMM), mm(t.HeightMM), b.Stride, b.H)
		writeInverted(&out, b)
		out.WriteString("\r\nPRINT 1\r\n")
	}
	return out.Bytes()
}

// mm formats a length in millimetres with one decimal, as TSC's own driver does.
func mm(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// writeInverted writes the bitmap's rows with every bit inverted (0 = black). The padding bits past the
// width become 1, white.
func writeInverted(out *bytes.Buffer, b *Bitmap) {
	out.Grow(len(b.Bits))
	for _, c := range b.Bits {
		out.WriteByte(^c)
	}
}
