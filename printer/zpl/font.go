package zpl

import (
	"fmt"
	"image"
	"math"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

// Zebra's fonts are approximated with the Go fonts:
//   - font 0 (CG Triumvirate Bold Condensed, scalable) with Go Bold, condensed so that its digits are as
//     wide as those of a bold condensed sans (0.46 em);
//   - the bitmap fonts A–H with Go Mono (Go Mono Bold for B), each character stretched to the font's
//     cell so that text runs as long as on the printer;
//   - any other font name (P–Z, downloaded fonts, ^A@) with font 0, and a warning.
const (
	font0DigitEm = 0.46 // target advance of a digit, in em, for font 0
	// fontBaseline is the baseline's depth below the top of a ^FO text field, in character heights:
	// Go fonts reach 0.771 em above and 0.205 em below it, so ascenders and descenders fill the cell.
	fontBaseline = 0.78
	// A barcode's interpretation line, per dot of module width: character height, width and gap.
	interpretHeight = 9
	interpretWidth  = 5
	interpretGap    = 1
)

// bitmapFont is one of the printer's resident bitmap fonts at 203 dpi: its character matrix and the
// space between characters, in dots.
type bitmapFont struct {
	h, w, gap int
}

var bitmapFonts = map[byte]bitmapFont{
	'A': {9, 5, 1},
	'B': {11, 7, 2},
	'C': {18, 10, 2},
	'D': {18, 10, 2},
	'E': {28, 15, 5},
	'F': {26, 13, 3},
	'G': {60, 40, 8},
	'H': {21, 13, 6},
}

// goFontSet is the parsed Go fonts used for previews.
type goFontSet struct {
	bold, mono, monoBold *sfnt.Font
	boldDigit            float64 // advance of '0' in Go Bold, in em
	monoAdvance          float64 // advance of any Go Mono glyph, in em
}

var loadGoFonts = sync.OnceValues(func() (*goFontSet, error) {
	var s goFontSet
	var err error
	if s.bold, err = sfnt.Parse(gobold.TTF); err != nil {
		return nil, err
	}
	if s.mono, err = sfnt.Parse(gomono.TTF); err != nil {
		return nil, err
	}
	if s.monoBold, err = sfnt.Parse(gomonobold.TTF); err != nil {
		return nil, err
	}
	var b sfnt.Buffer
	em := fixed.I(1000)
	adv := func(f *sfnt.Font, r rune) (float64, error) {
		i, err := f.GlyphIndex(&b, r)
		if err != nil {
			return 0, err
		}
		a, err := f.GlyphAdvance(&b, i, em, font.HintingNone)
		return float64(a) / 64 / 1000, err
	}
	if s.boldDigit, err = adv(s.bold, '0'); err != nil {
		return nil, err
	}
	if s.monoAdvance, err = adv(s.mono, 'M'); err != nil {
		return nil, err
	}
	return &s, nil
})

// fontCache holds what one render needs to lay out and draw text.
type fontCache struct {
	buf sfnt.Buffer
	set *goFontSet
	ras vector.Rasterizer
}

func newFontCache() *fontCache { return &fontCache{} }

// textStyle is a resolved font: an outline font drawn em dots high, stretched sx horizontally.
type textStyle struct {
	f        *sfnt.Font
	em       float64 // character height in dots (the font's em square)
	sx       float64 // horizontal stretch
	cell     float64 // fixed character advance in dots; 0 for proportional text
	ascent   float64 // baseline below the top of the character cell, in dots
	upper    bool    // the font has capitals only
	approxOf byte    // font name drawn with font 0 instead, for a warning
}

// style resolves a ZPL font choice the way the printer does: bitmap fonts scale by whole multiples of
// their matrix (1 to 10), scalable fonts to any size; a missing width follows the height.
func (c *fontCache) style(spec fontSpec) (textStyle, error) {
	if c.set == nil {
		set, err := loadGoFonts()
		if err != nil {
			return textStyle{}, fmt.Errorf("zpl render: load fonts: %w", err)
		}
		c.set = set
	}
	if bf, ok := bitmapFonts[spec.name]; ok {
		mh, mw := 1, 1
		switch {
		case spec.h > 0 && spec.w > 0:
			mh, mw = roundMag(spec.h, bf.h), roundMag(spec.w, bf.w)
		case spec.h > 0:
			mh = roundMag(spec.h, bf.h)
			mw = mh
		case spec.w > 0:
			mw = roundMag(spec.w, bf.w)
			mh = mw
		}
		st := textStyle{
			f:      c.set.mono,
			em:     float64(mh * bf.h),
			cell:   float64(mw * (bf.w + bf.gap)),
			ascent: math.Round(fontBaseline * float64(mh*bf.h)),
		}
		if spec.name == 'B' {
			st.f = c.set.monoBold
			st.upper = true
		}
		st.sx = st.cell / (c.set.monoAdvance * st.em)
		return st, nil
	}
	h, w := spec.h, spec.w
	if h <= 0 && w <= 0 {
		h = bitmapFonts['A'].h // the printer's power-on ^CF height
	}
	if h <= 0 {
		h = w
	}
	if w <= 0 {
		w = h
	}
	st := textStyle{
		f:      c.set.bold,
		em:     float64(h),
		sx:     float64(w) / float64(h) * font0DigitEm / c.set.boldDigit,
		ascent: math.Round(fontBaseline * float64(h)),
	}
	if spec.name != '0' {
		st.approxOf = spec.name
	}
	return st, nil
}

// interpretationStyle is the font of a barcode's human-readable line, sized by module width.
func (c *fontCache) interpretationStyle(module int) (textStyle, error) {
	st, err := c.style(fontSpec{name: 'A'})
	if err != nil {
		return st, err
	}
	m := float64(clampInt(module, 1, 10))
	st.em = interpretHeight * m
	st.cell = (interpretWidth + interpretGap) * m
	st.ascent = math.Round(fontBaseline * st.em)
	st.sx = st.cell / (c.set.monoAdvance * st.em)
	return st, nil
}

func roundMag(asked, base int) int {
	return clampInt(int(math.Round(float64(asked)/float64(base))), 1, 10)
}

func (st textStyle) prepare(s string) []rune {
	if st.upper {
		s = strings.ToUpper(s)
	}
	return []rune(s)
}

// advance is the width of r in dots.
func (c *fontCache) advance(st textStyle, r rune) float64 {
	if st.cell > 0 {
		return st.cell
	}
	i, err := st.f.GlyphIndex(&c.buf, r)
	if err != nil {
		return 0
	}
	a, err := st.f.GlyphAdvance(&c.buf, i, ppem(st.em), font.HintingNone)
	if err != nil {
		return 0
	}
	return float64(a) / 64 * st.sx
}

// measure is the width of a run of text in dots.
func (c *fontCache) measure(st textStyle, rs []rune) float64 {
	w := 0.0
	for _, r := range rs {
		w += c.advance(st, r)
	}
	return w
}

func ppem(em float64) fixed.Int26_6 { return fixed.Int26_6(math.Round(em * 64)) }

// textRun is text drawn from pen position (x, baseline) in a field's unrotated coordinates.
type textRun struct {
	text     []rune
	x, base  float64
	extraGap float64 // added after each space, for justified lines
}

// rasterText draws runs of text into m through the placement pl: glyph outlines are transformed onto
// the label, filled with anti-aliasing and thresholded to 1 bit, as a thermal head prints.
func (d *labelDrawer) rasterText(m *fieldMask, pl fieldPlacement, st textStyle, runs []textRun) error {
	if m.r.Empty() {
		return nil
	}
	c := d.fonts
	w, h := m.r.Dx(), m.r.Dy()
	n := 0
	for _, run := range runs {
		n += len(run.text)
	}
	if err := d.spend(4*w*h + costPerGlyph*n); err != nil {
		return err
	}
	c.ras.Reset(w, h)
	ox, oy := float64(m.r.Min.X), float64(m.r.Min.Y)
	pt := func(p fixed.Point26_6, penX, base float64) (float32, float32) {
		u := penX + float64(p.X)/64*st.sx
		v := base + float64(p.Y)/64
		x, y := pl.at(u, v)
		return float32(x - ox), float32(y - oy)
	}
	size := ppem(st.em)
	drew := false
	for _, run := range runs {
		pen := run.x
		for _, r := range run.text {
			adv := c.advance(st, r)
			glyphBox := pl.rect(pen-st.em, run.base-2*st.em, pen+adv+st.em, run.base+st.em)
			if unicode.IsSpace(r) || !glyphBox.Overlaps(m.r) {
				pen += adv
				if r == ' ' {
					pen += run.extraGap
				}
				continue
			}
			gi, err := st.f.GlyphIndex(&c.buf, r)
			if err != nil || gi == 0 {
				gi, _ = st.f.GlyphIndex(&c.buf, '?')
			}
			segs, err := st.f.LoadGlyph(&c.buf, gi, size, nil)
			if err != nil {
				pen += adv
				continue
			}
			gx := pen
			if st.cell > 0 {
				// Centre a mono glyph in its cell (the cell includes the inter-character gap).
				gx += (st.cell - c.set.monoAdvance*st.em*st.sx) / 2
			}
			open := false
			for _, s := range segs {
				switch s.Op {
				case sfnt.SegmentOpMoveTo:
					if open {
						c.ras.ClosePath()
					}
					x, y := pt(s.Args[0], gx, run.base)
					c.ras.MoveTo(x, y)
					open = true
				case sfnt.SegmentOpLineTo:
					x, y := pt(s.Args[0], gx, run.base)
					c.ras.LineTo(x, y)
				case sfnt.SegmentOpQuadTo:
					x1, y1 := pt(s.Args[0], gx, run.base)
					x2, y2 := pt(s.Args[1], gx, run.base)
					c.ras.QuadTo(x1, y1, x2, y2)
				case sfnt.SegmentOpCubeTo:
					x1, y1 := pt(s.Args[0], gx, run.base)
					x2, y2 := pt(s.Args[1], gx, run.base)
					x3, y3 := pt(s.Args[2], gx, run.base)
					c.ras.CubeTo(x1, y1, x2, y2, x3, y3)
				}
			}
			if open {
				c.ras.ClosePath()
				drew = true
			}
			pen += adv
		}
	}
	if !drew {
		return nil
	}
	alpha := image.NewAlpha(image.Rect(0, 0, w, h))
	c.ras.Draw(alpha, alpha.Bounds(), image.Opaque, image.Point{})
	for i, a := range alpha.Pix {
		if a >= 0x80 {
			m.pix[i] = 1
		}
	}
	return nil
}

// drawText draws a ^FD text field, as one line or as a ^FB block.
func (d *labelDrawer) drawText(f *labelField) error {
	st, err := d.fonts.style(f.font)
	if err != nil {
		return err
	}
	if st.approxOf != 0 {
		d.warn("font %c drawn with font 0", st.approxOf)
	}
	x, y := f.x, f.y
	if f.autoPos && d.hasLastText {
		x, y = d.lastText.X, d.lastText.Y
	}
	// Layout measures every character once more.
	if err := d.spend(costPerGlyph * len(f.data)); err != nil {
		return err
	}
	if f.block != nil {
		return d.drawBlock(f, st, x, y)
	}
	text := st.prepare(f.data)
	width := d.fonts.measure(st, text)
	pl := place(f.orient, width, st.em, 0, st.ascent, x, y, !f.typeset)
	m, err := d.newMask(pl.rect(-st.em/2, -st.em/2, width+st.em/2, st.em*1.5))
	if err != nil {
		return err
	}
	if err := d.rasterText(m, pl, st, []textRun{{text: text, base: st.ascent}}); err != nil {
		return err
	}
	d.paint(m, fieldPaint(f, false))
	ex, ey := pl.at(width, st.ascent)
	d.lastText = image.Pt(roundDot(ex), roundDot(ey))
	d.hasLastText = true
	return nil
}

// drawBlock lays out a ^FB field block: lines break at "\&" and, when the block has a width, between
// words; extra lines overprint the last one, as on the printer; each line is justified L, C, R or J.
func (d *labelDrawer) drawBlock(f *labelField, st textStyle, x, y int) error {
	b := f.block
	c := d.fonts
	space := c.advance(st, ' ')
	type line struct {
		words []string
		width float64
		last  bool // last line of a paragraph
	}
	var lines []line
	for _, para := range strings.Split(f.data, `\&`) {
		words := strings.Fields(para)
		if len(words) == 0 {
			lines = append(lines, line{last: true})
			continue
		}
		cur := line{}
		first := true
		for _, wd := range words {
			ww := c.measure(st, st.prepare(wd))
			avail := float64(b.width)
			if !first {
				avail -= float64(b.indent)
			}
			next := ww
			if len(cur.words) > 0 {
				next = cur.width + space + ww
			}
			if b.width > 0 && len(cur.words) > 0 && next > avail {
				lines = append(lines, cur)
				cur = line{words: []string{wd}, width: ww}
				first = false
				continue
			}
			cur.words = append(cur.words, wd)
			cur.width = next
		}
		cur.last = true
		lines = append(lines, cur)
		if len(lines) > 4*maxFieldData {
			break
		}
	}
	pitch := st.em + float64(b.spacing)
	blockW := float64(b.width)
	if b.width == 0 {
		for _, l := range lines {
			blockW = max(blockW, l.width)
		}
	}
	shown := min(len(lines), b.lines)
	span := float64(shown-1) * pitch // from the first line's top to the last line's (negative spacing may make it negative)
	blockH := max(span+st.em, st.em)
	anchorV := st.ascent + float64(b.lines-1)*pitch
	pl := place(f.orient, blockW, blockH, 0, anchorV, x, y, !f.typeset)
	m, err := d.newMask(pl.rect(-st.em/2, min(0, span)-st.em/2, blockW+st.em/2, max(0, span)+1.5*st.em))
	if err != nil {
		return err
	}
	var runs []textRun
	for i, l := range lines {
		row := min(i, b.lines-1)
		indent := 0.0
		if i > 0 && !lines[i-1].last {
			indent = float64(b.indent)
		}
		text := st.prepare(strings.Join(l.words, " "))
		run := textRun{text: text, base: st.ascent + float64(row)*pitch, x: indent}
		free := blockW - indent - l.width
		switch b.justify {
		case 'C':
			run.x += free / 2
		case 'R':
			run.x += free
		case 'J':
			if !l.last && len(l.words) > 1 && free > 0 {
				run.extraGap = free / float64(len(l.words)-1)
			}
		}
		runs = append(runs, run)
	}
	if len(lines) > b.lines {
		d.warn("^FB: text needs %d lines, block has %d; extra lines overprint the last", len(lines), b.lines)
	}
	if err := d.rasterText(m, pl, st, runs); err != nil {
		return err
	}
	d.paint(m, fieldPaint(f, false))
	return nil
}

// fieldPaint is how a field's ink combines with the label.
func fieldPaint(f *labelField, white bool) paintMode {
	switch {
	case f.reverse:
		return paintReverse
	case white:
		return paintWhite
	}
	return paintBlack
}
