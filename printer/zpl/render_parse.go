package zpl

import (
	"fmt"
	"image"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxFieldData is ZPL's own limit for ^FD data; longer data is cut with a warning.
const maxFieldData = 3072

// fieldKind is what a field draws.
type fieldKind uint8

const (
	kindNone fieldKind = iota
	kindText
	kindBox
	kindGraphic
	kindCode128
	kindCode39
	kindQR
	kindDataMatrix
)

// fontSpec is a ZPL font choice: a font name (0, A–Z, @) and the height and width in dots asked for
// (0 = not given).
type fontSpec struct {
	name byte
	h, w int
}

// fieldBlock is a ^FB field block.
type fieldBlock struct {
	width   int
	lines   int
	spacing int
	justify byte // L, C, R or J
	indent  int
}

// boxSpec is a ^GB graphic box.
type boxSpec struct {
	w, h, t int
	white   bool
}

// graphicSpec is a ^GF graphic field, still encoded: it is decoded when drawn, so that a label full of
// large graphics is refused by the work budget before it is allocated.
type graphicSpec struct {
	format      byte // A (ASCII hex, :Z64:, :B64:) or B (binary)
	total       int  // graphic field count: bytes of the bitmap
	bytesPerRow int
	data        []byte
}

// barcodeSpec holds a barcode command's parameters with the ^BY defaults applied.
type barcodeSpec struct {
	module  int     // narrow bar / module width in dots
	ratio   float64 // wide to narrow (Code 39)
	height  int     // bar height in dots
	line    bool    // print the interpretation line
	above   bool    // interpretation line above the code
	check   bool    // Code 39 mod-43 check digit
	mode    byte    // Code 128 mode: N, U, A, D
	mag     int     // QR magnification
	ecc     byte    // QR error correction: H, Q, M, L
	model   int     // QR model
	quality int     // Data Matrix quality (200 = ECC 200)
}

// labelField is one parsed field, positioned in label dots (^LH and ^LS applied).
type labelField struct {
	kind    fieldKind
	x, y    int
	typeset bool // ^FT: (x, y) is the text baseline or the barcode's bottom left
	autoPos bool // ^FT without coordinates: continue after the previous text field
	reverse bool
	orient  orientation
	font    fontSpec
	block   *fieldBlock
	data    string
	box     boxSpec
	gfx     graphicSpec
	bar     barcodeSpec
	cmd     string // the command that made the field, for warnings
}

// printerState is what persists across fields and labels, as on a printer.
type printerState struct {
	home       image.Point // ^LH
	shift      int         // ^LS
	pw, ll     int         // ^PW, ^LL (0 = not given)
	fw         orientation // ^FW
	cfFont     byte        // ^CF
	cfH, cfW   int
	byModule   int // ^BY
	byRatio    float64
	byHeight   int
	invert     bool // ^POI
	mirror     bool // ^PMY
	reverseAll bool // ^LRY
}

// pendingField collects the commands of the field being read, up to its ^FS.
type pendingField struct {
	x, y      int
	typeset   bool
	autoPos   bool
	fontSet   bool
	font      fontSpec
	fontO     orientation
	block     *fieldBlock
	reverse   bool
	hexChar   byte // ^FH indicator, 0 when off
	kind      fieldKind
	kindO     orientation
	box       boxSpec
	gfx       graphicSpec
	bar       barcodeSpec
	cmd       string
	data      []byte
	hasData   bool
	hasOrigin bool
}

// labelParser reads ZPL, keeps printer state and collects the fields of the label to draw.
type labelParser struct {
	in   []byte
	pos  int
	opts RenderOptions
	st   printerState

	labels  int  // ^XA seen
	inLabel bool // between ^XA and ^XZ
	target  bool // inside the label to draw
	done    bool // the label to draw has ended
	cur     pendingField
	fields  []*labelField

	skipped  []string
	warnings []string
	seen     map[string]bool
}

// commandsWithoutPicture have no effect on the printed picture: they are accepted silently.
var commandsWithoutPicture = map[string]bool{
	"CI": true, "PR": true, "MD": true, "MN": true, "MM": true, "MT": true, "MF": true, "PQ": true,
	"JU": true, "JZ": true, "SZ": true, "XB": true, "PH": true, "PP": true, "JB": true, "KL": true,
	"FX": true, "MP": true, "JJ": true, "PF": true,
}

func newLabelParser(in []byte, opts RenderOptions) *labelParser {
	return &labelParser{
		in:   in,
		opts: opts,
		st: printerState{
			fw:       orientN,
			cfFont:   'A',
			byModule: 2,
			byRatio:  3,
			byHeight: 10,
		},
		seen: map[string]bool{},
	}
}

// recording reports whether skipped commands and warnings are collected now: up to the end of the
// label to draw, and not inside the labels before it.
func (p *labelParser) recording() bool { return !p.done && (p.target || !p.inLabel) }

func (p *labelParser) skip(cmd string) {
	if !p.recording() || p.seen[cmd] {
		return
	}
	p.seen[cmd] = true
	p.skipped = append(p.skipped, cmd)
}

func (p *labelParser) warnf(format string, args ...any) {
	if !p.recording() && !p.done {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if p.seen["warn:"+msg] || len(p.warnings) >= 100 {
		return
	}
	p.seen["warn:"+msg] = true
	p.warnings = append(p.warnings, msg)
}

// run reads the whole input.
func (p *labelParser) run() {
	for p.pos < len(p.in) {
		c := p.in[p.pos]
		if c != '^' && c != '~' {
			p.pos++
			continue
		}
		p.pos++
		code, ok := p.readCode()
		if !ok {
			break
		}
		if c == '~' {
			p.pos = p.paramsEnd(false)
			if !p.done {
				p.skip("~" + code)
			}
			continue
		}
		switch code {
		case "FD", "FV", "FX":
			end := p.paramsEnd(true)
			params := p.in[p.pos:end]
			p.pos = end
			p.exec(code, params)
		case "GF":
			p.readGraphicField()
		default:
			end := p.paramsEnd(false)
			params := p.in[p.pos:end]
			p.pos = end
			p.exec(code, params)
		}
	}
	if p.target && !p.done {
		p.flush(true)
		p.warnf("label has no closing ^XZ")
		p.done = true
	}
}

// readCode reads the two characters of a command name, skipping line breaks.
func (p *labelParser) readCode() (string, bool) {
	var b [2]byte
	n := 0
	for n < 2 && p.pos < len(p.in) {
		c := p.in[p.pos]
		p.pos++
		if c == '\r' || c == '\n' {
			continue
		}
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		b[n] = c
		n++
	}
	return string(b[:n]), n == 2
}

// paramsEnd finds the end of the current command's parameters: the next command prefix, or for field
// data and comments the next caret only (a tilde is data there).
func (p *labelParser) paramsEnd(caretOnly bool) int {
	for i := p.pos; i < len(p.in); i++ {
		if c := p.in[i]; c == '^' || (!caretOnly && c == '~') {
			return i
		}
	}
	return len(p.in)
}

// readGraphicField reads ^GFa,b,c,d,data. For binary data (a = B or C) the data is b raw bytes that
// may contain carets, so it is counted rather than searched.
func (p *labelParser) readGraphicField() {
	start := p.pos
	commas := 0
	i := start
	for ; i < len(p.in) && commas < 4; i++ {
		c := p.in[i]
		if c == '^' || c == '~' {
			break
		}
		if c == ',' {
			commas++
		}
	}
	header := splitParams(p.in[start:i])
	if commas < 4 {
		p.pos = i
		p.exec("GF", p.in[start:i])
		return
	}
	format := header.char(0, 'A')
	var data []byte
	switch format {
	case 'B', 'C':
		n := header.int(1, 0)
		if n < 0 {
			n = 0
		}
		end := min(len(p.in), i+n)
		data = p.in[i:end]
		p.pos = end
	default:
		p.pos = i
		end := p.paramsEnd(false)
		data = p.in[i:end]
		p.pos = end
	}
	if !p.target || p.done {
		return
	}
	p.graphicField(header, data)
}

// zplParams is a command's comma-separated parameters.
type zplParams []string

func splitParams(b []byte) zplParams {
	s := strings.NewReplacer("\r", "", "\n", "").Replace(string(b))
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func (a zplParams) str(i int) string {
	if i >= len(a) {
		return ""
	}
	return strings.TrimSpace(a[i])
}

// int returns parameter i, or def when it is missing or not a number.
func (a zplParams) int(i, def int) int {
	s := a.str(i)
	if s == "" {
		return def
	}
	if n, err := strconv.Atoi(s); err == nil {
		return clampInt(n, -1<<30, 1<<30)
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !isBad(f) {
		return clampInt(int(f), -1<<30, 1<<30)
	}
	return def
}

func (a zplParams) float(i int, def float64) float64 {
	if f, err := strconv.ParseFloat(a.str(i), 64); err == nil && !isBad(f) {
		return f
	}
	return def
}

// char returns the first character of parameter i, upper-cased, or def.
func (a zplParams) char(i int, def byte) byte {
	s := a.str(i)
	if s == "" {
		return def
	}
	c := s[0]
	if 'a' <= c && c <= 'z' {
		c -= 'a' - 'A'
	}
	return c
}

func (a zplParams) yes(i int, def bool) bool {
	switch a.char(i, 0) {
	case 'Y':
		return true
	case 'N':
		return false
	}
	return def
}

func isBad(f float64) bool { return f != f || f > 1e9 || f < -1e9 }

func clampInt(v, lo, hi int) int { return max(lo, min(hi, v)) }

// orient reads an orientation parameter, or def.
func (a zplParams) orient(i int, def orientation) orientation {
	switch c := a.char(i, 0); c {
	case 'N', 'R', 'I', 'B':
		return orientation(c)
	}
	return def
}

// exec runs one caret command.
func (p *labelParser) exec(code string, raw []byte) {
	if p.done {
		if code == "XA" {
			p.labels++
		}
		return
	}
	a := splitParams(raw)
	if code[0] == 'A' {
		p.fontCommand(code[1], a)
		return
	}
	switch code {
	case "XA":
		if p.target {
			p.flush(true)
			p.warnf("label has no closing ^XZ")
			p.done = true
			p.labels++
			return
		}
		p.labels++
		p.inLabel = true
		p.target = p.labels-1 == p.opts.Label
		p.cur = pendingField{}
	case "XZ":
		if p.target {
			p.flush(true)
			p.done = true
		}
		p.inLabel = false
		p.target = false
		p.cur = pendingField{}
	case "FO", "FT":
		// A new origin ends a field that already has something to draw; font, block and barcode
		// commands given before the origin belong to the field it starts.
		if p.cur.hasData || p.cur.kind == kindBox || p.cur.kind == kindGraphic {
			p.flush(false)
		}
		p.cur.hasOrigin = true
		p.cur.autoPos = false
		p.cur.typeset = code == "FT"
		if code == "FT" && a.str(0) == "" && a.str(1) == "" {
			p.cur.autoPos = true
		}
		x := clampInt(a.int(0, 0), 0, maxLabelDots)
		y := clampInt(a.int(1, 0), 0, maxLabelDots)
		p.cur.x = x + p.st.home.X - p.st.shift
		p.cur.y = y + p.st.home.Y
	case "FS":
		p.flush(true)
	case "FD", "FV":
		data := stripLineBreaks(raw)
		if len(data) > maxFieldData {
			p.warnf("^%s: field data longer than %d bytes cut", code, maxFieldData)
			data = data[:maxFieldData]
		}
		p.cur.data = data
		p.cur.hasData = true
	case "FH":
		p.cur.hexChar = '_'
		if s := a.str(0); s != "" {
			p.cur.hexChar = s[0]
		}
	case "FR":
		p.cur.reverse = true
	case "FB":
		p.cur.block = &fieldBlock{
			width:   clampInt(a.int(0, 0), 0, maxLabelDots),
			lines:   clampInt(a.int(1, 1), 1, 9999),
			spacing: clampInt(a.int(2, 0), -9999, 9999),
			justify: a.char(3, 'L'),
			indent:  clampInt(a.int(4, 0), 0, 9999),
		}
	case "FW":
		p.st.fw = a.orient(0, p.st.fw)
	case "CF":
		if c := a.char(0, 0); c != 0 {
			p.st.cfFont = c
		}
		p.st.cfH = clampInt(a.int(1, p.st.cfH), 0, maxLabelDots)
		p.st.cfW = clampInt(a.int(2, p.st.cfW), 0, maxLabelDots)
	case "BY":
		p.st.byModule = clampInt(a.int(0, p.st.byModule), 1, 10)
		r := a.float(1, p.st.byRatio)
		p.st.byRatio = max(2, min(3, r))
		p.st.byHeight = clampInt(a.int(2, p.st.byHeight), 1, maxLabelDots)
	case "BC":
		p.barcode(kindCode128, code, a)
		p.cur.bar.height = clampInt(a.int(1, p.st.byHeight), 1, maxLabelDots)
		p.cur.bar.line = a.yes(2, true)
		p.cur.bar.above = a.yes(3, false)
		if a.yes(4, false) {
			p.warnf("^BC: UCC check digit not drawn")
		}
		p.cur.bar.mode = a.char(5, 'N')
	case "B3":
		p.barcode(kindCode39, code, a)
		p.cur.bar.check = a.yes(1, false)
		p.cur.bar.height = clampInt(a.int(2, p.st.byHeight), 1, maxLabelDots)
		p.cur.bar.line = a.yes(3, true)
		p.cur.bar.above = a.yes(4, false)
	case "BQ":
		p.barcode(kindQR, code, a)
		p.cur.bar.model = clampInt(a.int(1, 2), 1, 2)
		p.cur.bar.mag = clampInt(a.int(2, max(1, p.opts.DotsPerMM/4)), 1, 10)
		p.cur.bar.ecc = a.char(3, 'Q')
	case "BX":
		p.barcode(kindDataMatrix, code, a)
		p.cur.bar.module = clampInt(a.int(1, p.st.byModule), 1, 100)
		p.cur.bar.quality = a.int(2, 200)
	case "GB":
		t := clampInt(a.int(2, 1), 1, maxLabelDots)
		p.cur.kind = kindBox
		p.cur.cmd = "^GB"
		p.cur.box = boxSpec{
			w:     clampInt(a.int(0, t), t, maxLabelDots),
			h:     clampInt(a.int(1, t), t, maxLabelDots),
			t:     t,
			white: a.char(3, 'B') == 'W',
		}
		if a.int(4, 0) > 0 {
			p.warnf("^GB: rounded corners drawn square")
		}
	case "GF":
		// Reached only when ^GF has fewer than four parameters.
		p.warnf("^GF: missing parameters; graphic not drawn")
	case "LH":
		p.st.home = image.Pt(clampInt(a.int(0, 0), 0, maxLabelDots), clampInt(a.int(1, 0), 0, maxLabelDots))
	case "LS":
		p.st.shift = clampInt(a.int(0, 0), -9999, 9999)
	case "LR":
		p.st.reverseAll = a.yes(0, p.st.reverseAll)
	case "PW":
		if w := a.int(0, 0); w > 0 {
			p.st.pw = min(w, 1<<20)
		}
	case "LL":
		if l := a.int(0, 0); l > 0 {
			p.st.ll = min(l, 1<<20)
		}
	case "PO":
		switch a.char(0, 'N') {
		case 'I':
			p.st.invert = true
		case 'N':
			p.st.invert = false
		}
	case "PM":
		p.st.mirror = a.yes(0, false)
	default:
		if !commandsWithoutPicture[code] {
			p.skip("^" + code)
		}
	}
}

// fontCommand handles ^Afo,h,w (and ^A@o,h,w,d:o.x, drawn with font 0).
func (p *labelParser) fontCommand(name byte, a zplParams) {
	p.cur.fontSet = true
	p.cur.fontO = a.orient(0, p.st.fw)
	p.cur.font = fontSpec{
		name: name,
		h:    clampInt(a.int(1, 0), 0, maxLabelDots),
		w:    clampInt(a.int(2, 0), 0, maxLabelDots),
	}
}

// barcode starts a barcode field with the ^BY defaults.
func (p *labelParser) barcode(kind fieldKind, code string, a zplParams) {
	p.cur.kind = kind
	p.cur.cmd = "^" + code
	p.cur.kindO = a.orient(0, p.st.fw)
	p.cur.bar = barcodeSpec{module: p.st.byModule, ratio: p.st.byRatio, height: p.st.byHeight}
}

// graphicField handles ^GFa,b,c,d,data.
func (p *labelParser) graphicField(h zplParams, data []byte) {
	p.cur.kind = kindGraphic
	p.cur.cmd = "^GF"
	p.cur.gfx = graphicSpec{
		format:      h.char(0, 'A'),
		total:       h.int(2, 0),
		bytesPerRow: h.int(3, 0),
		data:        data,
	}
}

// flush ends the pending field: at ^FS (explicit), or when a new ^FO/^FT, ^XA or ^XZ arrives first.
func (p *labelParser) flush(explicit bool) {
	c := p.cur
	p.cur = pendingField{}
	if !p.target || p.done {
		return
	}
	kind := c.kind
	if kind == kindNone {
		if !c.hasData {
			return
		}
		kind = kindText
	}
	if !explicit {
		p.warnf("field without ^FS")
	}
	f := &labelField{
		kind:    kind,
		x:       c.x,
		y:       c.y,
		typeset: c.typeset,
		autoPos: c.autoPos,
		reverse: c.reverse != p.st.reverseAll,
		block:   c.block,
		box:     c.box,
		gfx:     c.gfx,
		bar:     c.bar,
		cmd:     c.cmd,
	}
	if !c.hasOrigin {
		f.x, f.y = p.st.home.X-p.st.shift, p.st.home.Y
	}
	data := c.data
	if c.hexChar != 0 {
		data = decodeFieldHex(data, c.hexChar)
	}
	f.data = fieldText(data)
	switch kind {
	case kindText:
		if !c.hasData {
			return
		}
		f.cmd = "^FD"
		f.orient = p.st.fw
		f.font = fontSpec{name: p.st.cfFont, h: p.st.cfH, w: p.st.cfW}
		if c.fontSet {
			f.orient = c.fontO
			f.font.name = c.font.name
			if c.font.h > 0 || c.font.w > 0 {
				f.font.h, f.font.w = c.font.h, c.font.w
			}
		}
	case kindCode128, kindCode39, kindQR, kindDataMatrix:
		if !c.hasData {
			p.warnf("%s: no ^FD data; barcode not drawn", c.cmd)
			return
		}
		f.orient = c.kindO
		if c.fontSet {
			// A font command before the barcode sets its interpretation line font.
			f.font = fontSpec{name: c.font.name, h: p.st.cfH, w: p.st.cfW}
			if c.font.h > 0 || c.font.w > 0 {
				f.font.h, f.font.w = c.font.h, c.font.w
			}
		}
	}
	p.fields = append(p.fields, f)
}

func stripLineBreaks(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c != '\r' && c != '\n' {
			out = append(out, c)
		}
	}
	return out
}

// decodeFieldHex applies ^FH: the indicator followed by two hex digits stands for that byte.
func decodeFieldHex(b []byte, ind byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == ind && i+2 < len(b) {
			hi, ok1 := hexNibble(b[i+1])
			lo, ok2 := hexNibble(b[i+2])
			if ok1 && ok2 {
				out = append(out, hi<<4|lo)
				i += 2
				continue
			}
		}
		out = append(out, b[i])
	}
	return out
}

func hexNibble(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// fieldText turns field data into text: UTF-8 when it is valid UTF-8 (^CI28 labels), else Latin-1.
func fieldText(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}
