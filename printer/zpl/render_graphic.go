package zpl

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// drawField draws one parsed field.
func (d *labelDrawer) drawField(f *labelField) error {
	var cost int
	switch f.kind {
	case kindCode128, kindCode39:
		cost = costPerBarByte
	case kindQR:
		cost = costPerQRByte
	case kindDataMatrix:
		cost = costPerMatrixByte
	}
	if err := d.spend(cost * len(f.data)); err != nil {
		return err
	}
	switch f.kind {
	case kindText:
		return d.drawText(f)
	case kindBox:
		return d.drawBox(f)
	case kindGraphic:
		return d.drawGraphic(f)
	case kindCode128, kindCode39:
		return d.drawLinear(f)
	case kindQR:
		return d.drawQR(f)
	case kindDataMatrix:
		return d.drawDataMatrix(f)
	}
	return nil
}

// drawBox draws ^GBw,h,t,c: a frame of thickness t (solid when t reaches the middle). With ^FT the field
// origin is the box's bottom left. Rounding is not drawn.
func (d *labelDrawer) drawBox(f *labelField) error {
	b := f.box
	w, h, t := float64(b.w), float64(b.h), float64(b.t)
	pl := place(orientN, w, h, 0, h, f.x, f.y, !f.typeset)
	m, err := d.newMask(pl.rect(0, 0, w, h))
	if err != nil {
		return err
	}
	m.fill(pl.rect(0, 0, w, min(t, h)))   // top
	m.fill(pl.rect(0, max(h-t, 0), w, h)) // bottom
	m.fill(pl.rect(0, 0, min(t, w), h))   // left
	m.fill(pl.rect(max(w-t, 0), 0, w, h)) // right
	d.paint(m, fieldPaint(f, b.white))
	return nil
}

// drawGraphic draws a ^GF bitmap: each set bit is a black dot, rows of bytesPerRow bytes, most
// significant bit leftmost. With ^FT the field origin is the bitmap's bottom left.
func (d *labelDrawer) drawGraphic(f *labelField) error {
	g := f.gfx
	if g.format == 'C' {
		d.warn("^GF: compressed binary format C not supported; graphic not drawn")
		return nil
	}
	if g.total <= 0 || g.bytesPerRow <= 0 {
		d.warn("^GF: graphic field count %d and bytes per row %d must be positive; graphic not drawn", g.total, g.bytesPerRow)
		return nil
	}
	if g.total > MaxGraphicBytes {
		return fmt.Errorf("zpl render: ^GF graphic of %d bytes exceeds %d: %w", g.total, MaxGraphicBytes, ErrTooLarge)
	}
	if g.bytesPerRow > g.total {
		d.warn("^GF: %d bytes per row exceeds the graphic's %d bytes; graphic not drawn", g.bytesPerRow, g.total)
		return nil
	}
	if err := d.spend(g.total + len(g.data)); err != nil {
		return err
	}
	bits, err := decodeGraphicData(g, d.warn)
	if err != nil {
		d.warn("^GF: %v; graphic not drawn", err)
		return nil
	}
	rows := g.total / g.bytesPerRow
	w, h := float64(g.bytesPerRow*8), float64(rows)
	pl := place(orientN, w, h, 0, h, f.x, f.y, !f.typeset)
	m, err := d.newMask(pl.rect(0, 0, w, h))
	if err != nil {
		return err
	}
	ox, oy := roundDot(pl.x), roundDot(pl.y)
	mw := m.r.Dx()
	for y := m.r.Min.Y; y < m.r.Max.Y; y++ {
		row := bits[(y-oy)*g.bytesPerRow:]
		dst := m.pix[(y-m.r.Min.Y)*mw:]
		for x := m.r.Min.X; x < m.r.Max.X; x++ {
			u := x - ox
			if row[u>>3]&(0x80>>(u&7)) != 0 {
				dst[x-m.r.Min.X] = 1
			}
		}
	}
	d.paint(m, fieldPaint(f, false))
	return nil
}

// decodeGraphicData decodes ^GF data into exactly g.total bytes: missing data is white, excess is
// dropped with a warning.
func decodeGraphicData(g graphicSpec, warn func(string, ...any)) ([]byte, error) {
	out := make([]byte, g.total)
	if g.format == 'B' {
		if len(g.data) < g.total {
			warn("^GF: binary data is %d bytes short", g.total-len(g.data))
		}
		copy(out, g.data)
		return out, nil
	}
	data := bytes.TrimLeft(g.data, " \t\r\n")
	switch {
	case bytes.HasPrefix(data, []byte(":Z64:")), bytes.HasPrefix(data, []byte(":B64:")):
		raw, err := decodeZB64(data, warn)
		if err != nil {
			return nil, err
		}
		if bytes.HasPrefix(data, []byte(":B64:")) {
			if len(raw) > g.total {
				warn("^GF: :B64: data longer than the graphic field count; cut")
			}
			copy(out, raw)
			return out, nil
		}
		zr, err := zlib.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf(":Z64: data: %w", err)
		}
		n, err := io.ReadFull(zr, out)
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
			warn("^GF: :Z64: data is %d bytes short", g.total-n)
		case err != nil:
			return nil, fmt.Errorf(":Z64: data: %w", err)
		default:
			if k, _ := zr.Read(make([]byte, 1)); k > 0 {
				warn("^GF: :Z64: data longer than the graphic field count; cut")
			}
		}
		return out, nil
	}
	decodeCompressedHex(data, out, g.bytesPerRow, warn)
	return out, nil
}

// decodeZB64 checks and decodes ":Z64:base64:crc" or ":B64:base64:crc". The CRC is CRC-16/XMODEM
// (polynomial 0x1021, initial 0) of the base64 text; a mismatch aborts the download on a printer, so the
// graphic is not drawn.
func decodeZB64(data []byte, warn func(string, ...any)) ([]byte, error) {
	kind := string(data[1:4])
	body := data[5:]
	var crcText []byte
	if i := bytes.IndexByte(body, ':'); i >= 0 {
		body, crcText = body[:i], bytes.TrimSpace(body[i+1:])
	}
	body = bytes.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, body)
	if len(crcText) == 0 {
		warn("^GF: :%s: data has no CRC", kind)
	} else {
		want, err := strconv.ParseUint(string(crcText), 16, 16)
		if err != nil || len(crcText) != 4 {
			return nil, fmt.Errorf(":%s: CRC %q is not 4 hex digits", kind, crcText)
		}
		if got := crc16XModem(body); got != uint16(want) {
			return nil, fmt.Errorf(":%s: CRC mismatch (data %04X, header %04X)", kind, got, want)
		}
	}
	raw, err := base64.RawStdEncoding.DecodeString(string(bytes.TrimRight(body, "=")))
	if err != nil {
		return nil, fmt.Errorf(":%s: base64: %w", kind, err)
	}
	return raw, nil
}

// crc16XModem is CRC-16 with polynomial 0x1021 and initial value 0, as ZB64 uses.
func crc16XModem(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// decodeCompressedHex decodes ZPL ASCII hex graphic data into out, rows of perRow bytes:
//   - 0–9, A–F are nibbles;
//   - G–Y repeat the next nibble 1–19 times, g–z 20–400 times (in steps of 20); counts add up;
//   - ',' fills the rest of the row with 0 (white), '!' with 1 (black);
//   - ':' repeats the previous row (for the rest of the row when it comes mid-row).
//
// Rows run on from one to the next; decoding stops when out is full.
func decodeCompressedHex(data, out []byte, perRow int, warn func(string, ...any)) {
	rowNibbles := 2 * perRow
	total := 2 * len(out)
	pos := 0 // nibble index into out
	count := 0
	set := func(i int, v byte) {
		if i&1 == 0 {
			out[i>>1] = out[i>>1]&0x0f | v<<4
		} else {
			out[i>>1] = out[i>>1]&0xf0 | v
		}
	}
	get := func(i int) byte {
		if i&1 == 0 {
			return out[i>>1] >> 4
		}
		return out[i>>1] & 0x0f
	}
	endOfRow := func() int { return (pos/rowNibbles + 1) * rowNibbles }
	bad := false
	for _, c := range data {
		if pos >= total {
			break
		}
		switch {
		case c >= 'G' && c <= 'Y':
			count += int(c-'G') + 1
		case c >= 'g' && c <= 'z':
			count += (int(c-'g') + 1) * 20
		case c == ',' || c == '!':
			var v byte
			if c == '!' {
				v = 0xf
			}
			end := min(endOfRow(), total)
			for ; pos < end; pos++ {
				set(pos, v)
			}
			count = 0
		case c == ':':
			end := min(endOfRow(), total)
			for ; pos < end; pos++ {
				if pos >= rowNibbles {
					set(pos, get(pos-rowNibbles))
				} else {
					set(pos, 0)
				}
			}
			count = 0
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
		default:
			v, ok := hexNibble(c)
			if !ok {
				bad = true
				count = 0
				continue
			}
			n := max(count, 1)
			count = 0
			end := min(pos+n, total)
			for ; pos < end; pos++ {
				set(pos, v)
			}
		}
		count = min(count, total)
	}
	if bad {
		warn("^GF: data has characters that are neither hex nor compression codes; ignored")
	}
	if pos < total {
		warn("^GF: data is %d bytes short of the graphic field count", (total-pos)/2)
	}
}
