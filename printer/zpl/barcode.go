package zpl

import (
	"image/color"
	"strings"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/code128"
	"github.com/boombuler/barcode/code39"
	"github.com/boombuler/barcode/datamatrix"
	"github.com/boombuler/barcode/qr"
)

// code128Widths are the bar and space widths, in modules, of the 107 Code 128 symbols (106 is the stop
// pattern with its final bar).
var code128Widths = [107]string{
	"212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212", "221213",
	"221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221", "223211", "221132",
	"221231", "213212", "223112", "312131", "311222", "321122", "321221", "312212", "322112", "322211",
	"212123", "212321", "232121", "111323", "131123", "131321", "112313", "132113", "132311", "211313",
	"231113", "231311", "112133", "112331", "132131", "113123", "113321", "133121", "313121", "211331",
	"231131", "213113", "213311", "213131", "311123", "311321", "331121", "312113", "312311", "332111",
	"314111", "221411", "431111", "111224", "111422", "121124", "121421", "141122", "141221", "112214",
	"112412", "122114", "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111",
	"111242", "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
	"214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311", "113141",
	"114131", "311141", "411131", "211412", "211214", "211232", "2331112",
}

// Code 128 symbol values with a fixed meaning.
const (
	c128CodeC  = 99
	c128CodeB  = 100 // FNC 4 in subset B
	c128CodeA  = 101 // FNC 4 in subset A
	c128FNC1   = 102
	c128StartA = 103
	c128StartB = 104
	c128StartC = 105
	c128Stop   = 106
)

// code128Invocation maps the character after '>' in ^BC field data to its symbol value.
var code128Invocation = map[byte]int{
	'<': 30, '0': 30, '=': 94, '1': 95, '2': 96, '3': 97, '4': 98,
	'5': c128CodeC, '6': c128CodeB, '7': c128CodeA, '8': c128FNC1,
}

// code128ZPL encodes ^BC field data the way a Zebra does in its default mode (N): subset B unless the
// data starts with a start code (>9 A, >: B, >; C), subsets switched by invocation codes (>5 C, >6 B,
// >7 A), FNC 1 as >8, '>' as ><; in subset C digits pair up and stray characters are dropped. It returns
// the symbol values (start, data, check, stop) and the interpretation line.
func code128ZPL(data string) (values []int, human string, dropped bool) {
	subset := byte('B')
	start := c128StartB
	if len(data) >= 2 && data[0] == '>' {
		switch data[1] {
		case '9':
			subset, start, data = 'A', c128StartA, data[2:]
		case ':':
			data = data[2:]
		case ';':
			subset, start, data = 'C', c128StartC, data[2:]
		}
	}
	values = append(values, start)
	var hr strings.Builder
	for i := 0; i < len(data); i++ {
		c := data[i]
		if c == '>' && i+1 < len(data) {
			inv := data[i+1]
			i++
			switch inv {
			case '9':
				values, subset = append(values, c128CodeA), 'A'
				continue
			case ':':
				values, subset = append(values, c128CodeB), 'B'
				continue
			case ';':
				values, subset = append(values, c128CodeC), 'C'
				continue
			}
			v, ok := code128Invocation[inv]
			if !ok {
				dropped = true
				continue
			}
			values = append(values, v)
			switch {
			case v == 30 && subset != 'C':
				hr.WriteByte('>')
			case v == c128CodeC:
				subset = 'C'
			case v == c128CodeB && subset != 'B':
				subset = 'B'
			case v == c128CodeA && subset != 'A':
				subset = 'A'
			}
			continue
		}
		switch subset {
		case 'C':
			if c < '0' || c > '9' {
				dropped = true
				continue
			}
			if i+1 >= len(data) || data[i+1] == '>' {
				dropped = true // an unpaired digit is ignored
				continue
			}
			d := data[i+1]
			i++
			if d < '0' || d > '9' {
				dropped = true
				continue
			}
			values = append(values, int(c-'0')*10+int(d-'0'))
			hr.WriteByte(c)
			hr.WriteByte(d)
		case 'A':
			switch {
			case c >= 32 && c < 96:
				values = append(values, int(c)-32)
			case c < 32:
				values = append(values, int(c)+64)
			default:
				dropped = true
				continue
			}
			hr.WriteByte(c)
		default:
			if c < 32 || c > 127 {
				dropped = true
				continue
			}
			values = append(values, int(c)-32)
			hr.WriteByte(c)
		}
	}
	sum := values[0]
	for i, v := range values[1:] {
		sum += (i + 1) * v
	}
	values = append(values, sum%103, c128Stop)
	return values, hr.String(), dropped
}

// code128Modules turns symbol values into bars: one bool per module, true for black.
func code128Modules(values []int) []bool {
	var bits []bool
	for _, v := range values {
		black := true
		for _, w := range code128Widths[v] {
			for range int(w - '0') {
				bits = append(bits, black)
			}
			black = !black
		}
	}
	return bits
}

// barcodeModules reads a 1D barcode from boombuler as one bool per module.
func barcodeModules(bc barcode.Barcode) []bool {
	b := bc.Bounds()
	bits := make([]bool, b.Dx())
	for x := range bits {
		bits[x] = isDark(bc.At(b.Min.X+x, b.Min.Y))
	}
	return bits
}

func isDark(c color.Color) bool { return color.GrayModel.Convert(c).(color.Gray).Y < 0x80 }

// barSpan is one bar, [start, end) in dots from the left of the symbol.
type barSpan struct{ start, end int }

// spansOf scales modules to dots: a run of n modules is n×module dots wide. For Code 39 (wide != 0) a
// run of two modules is a wide element of wide dots.
func spansOf(bits []bool, module, wide int) ([]barSpan, int) {
	var spans []barSpan
	x := 0
	for i := 0; i < len(bits); {
		j := i
		for j < len(bits) && bits[j] == bits[i] {
			j++
		}
		w := (j - i) * module
		if wide > 0 && j-i >= 2 {
			w = wide
		}
		if bits[i] {
			spans = append(spans, barSpan{x, x + w})
		}
		x += w
		i = j
	}
	return spans, x
}

// code39Alphabet orders the Code 39 characters by their check value.
const code39Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%"

func code39Check(data string) (byte, bool) {
	sum := 0
	for i := 0; i < len(data); i++ {
		v := strings.IndexByte(code39Alphabet, data[i])
		if v < 0 {
			return 0, false
		}
		sum += v
	}
	return code39Alphabet[sum%43], true
}

// drawLinear draws ^BC (Code 128) and ^B3 (Code 39) with their interpretation line. The field origin is
// the top left of the symbol (^FO) or the bottom left of its bars (^FT); there is no quiet zone.
func (d *labelDrawer) drawLinear(f *labelField) error {
	b := f.bar
	var spans []barSpan
	var width int
	var human string
	switch f.kind {
	case kindCode128:
		var bits []bool
		switch b.mode {
		case 'A', 'D', 'U':
			content := f.data
			human = f.data
			if b.mode != 'A' {
				// UCC/EAN-128: FNC 1 then the data without the parentheses around application identifiers.
				content = string(rune(code128.FNC1)) + strings.NewReplacer("(", "", ")", "", " ", "").Replace(f.data)
				if b.mode == 'U' {
					d.warn("^BC: UCC case mode drawn as GS1-128 without its check digit")
				}
			}
			bc, err := code128.Encode(content)
			if err != nil {
				d.warn("^BC: cannot encode %q: %v; barcode not drawn", f.data, err)
				return nil
			}
			bits = barcodeModules(bc)
		default:
			values, hr, dropped := code128ZPL(f.data)
			if dropped {
				d.warn("^BC: characters not valid in their Code 128 subset were dropped from %q", f.data)
			}
			if len(values) <= 3 {
				d.warn("^BC: no data to encode in %q; barcode not drawn", f.data)
				return nil
			}
			bits = code128Modules(values)
			human = hr
		}
		spans, width = spansOf(bits, b.module, 0)
	case kindCode39:
		bc, err := code39.Encode(f.data, b.check, false)
		if err != nil {
			d.warn("^B3: cannot encode %q: %v; barcode not drawn", f.data, err)
			return nil
		}
		wide := max(int(float64(b.module)*b.ratio+0.5), b.module+1)
		spans, width = spansOf(barcodeModules(bc), b.module, wide)
		human = f.data
		if b.check {
			if c, ok := code39Check(f.data); ok {
				human += string(c)
			}
		}
		human = "*" + human + "*"
	}

	var st textStyle
	lineH := 0.0
	if b.line {
		var err error
		if f.font.name != 0 {
			st, err = d.fonts.style(f.font)
		} else {
			st, err = d.fonts.interpretationStyle(b.module)
		}
		if err != nil {
			return err
		}
		lineH = st.em + gapBelowBars(b.module)
	}
	top := 0.0
	if b.above {
		top = lineH
	}
	w, h := float64(width), float64(b.height)+lineH
	pl := place(f.orient, w, h, 0, top+float64(b.height), f.x, f.y, !f.typeset)
	margin := 0.0
	var runs []textRun
	if b.line {
		text := st.prepare(human)
		tw := d.fonts.measure(st, text)
		base := float64(b.height) + gapBelowBars(b.module) + st.ascent
		if b.above {
			base = st.ascent
		}
		runs = []textRun{{text: text, x: (w - tw) / 2, base: base}}
		margin = max(0, (tw-w)/2) + st.em
	}
	m, err := d.newMask(pl.rect(-margin, 0, w+margin, h+st.em/2))
	if err != nil {
		return err
	}
	for _, s := range spans {
		m.fill(pl.rect(float64(s.start), top, float64(s.end), top+float64(b.height)))
	}
	if runs != nil {
		if err := d.rasterText(m, pl, st, runs); err != nil {
			return err
		}
	}
	d.paint(m, fieldPaint(f, false))
	return nil
}

func gapBelowBars(module int) float64 { return float64(max(2, module)) }

// qrInput reads ^BQ field data: "<ecc><input mode>,<data>", e.g. "QA,text" or "MM,Bnnnn…".
func qrInput(data string, def byte) (string, qr.ErrorCorrectionLevel) {
	ecc := def
	if len(data) >= 3 && data[2] == ',' && strings.IndexByte("HQMLhqml", data[0]) >= 0 {
		ecc = data[0] &^ 0x20
		mode := data[1] &^ 0x20
		data = data[3:]
		if mode == 'M' && len(data) > 0 {
			switch data[0] &^ 0x20 {
			case 'N', 'A', 'K':
				data = data[1:]
			case 'B':
				data = data[min(len(data), 5):]
			}
		}
	}
	switch ecc {
	case 'H':
		return data, qr.H
	case 'M':
		return data, qr.M
	case 'L':
		return data, qr.L
	}
	return data, qr.Q
}

// drawMatrix draws a 2D symbol module by module, size dots per module. The field origin is its top left
// (^FO) or bottom left (^FT).
func (d *labelDrawer) drawMatrix(f *labelField, bc barcode.Barcode, size int, o orientation) error {
	b := bc.Bounds()
	w, h := float64(b.Dx()*size), float64(b.Dy()*size)
	pl := place(o, w, h, 0, h, f.x, f.y, !f.typeset)
	m, err := d.newMask(pl.rect(0, 0, w, h))
	if err != nil {
		return err
	}
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); {
			if !isDark(bc.At(b.Min.X+x, b.Min.Y+y)) {
				x++
				continue
			}
			e := x
			for e < b.Dx() && isDark(bc.At(b.Min.X+e, b.Min.Y+y)) {
				e++
			}
			m.fill(pl.rect(float64(x*size), float64(y*size), float64(e*size), float64((y+1)*size)))
			x = e
		}
	}
	d.paint(m, fieldPaint(f, false))
	return nil
}

// drawQR draws ^BQ, model 2 (model 1 is drawn as model 2), always upright as on the printer.
func (d *labelDrawer) drawQR(f *labelField) error {
	b := f.bar
	if b.model == 1 {
		d.warn("^BQ: QR model 1 drawn as model 2")
	}
	data, ecc := qrInput(f.data, b.ecc)
	bc, err := qr.Encode(data, ecc, qr.Auto)
	if err != nil {
		d.warn("^BQ: cannot encode %q: %v; barcode not drawn", f.data, err)
		return nil
	}
	return d.drawMatrix(f, bc, b.mag, orientN)
}

// drawDataMatrix draws ^BX, ECC 200 in the smallest square symbol that holds the data.
func (d *labelDrawer) drawDataMatrix(f *labelField) error {
	if f.bar.quality != 200 {
		d.warn("^BX: quality %d drawn as ECC 200", f.bar.quality)
	}
	bc, err := datamatrix.Encode(f.data)
	if err != nil {
		d.warn("^BX: cannot encode %q: %v; barcode not drawn", f.data, err)
		return nil
	}
	return d.drawMatrix(f, bc, f.bar.module, f.orient)
}
