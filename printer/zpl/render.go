package zpl

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
)

// Preview limits. Input beyond them is refused with ErrTooLarge rather than rendered slowly or
// allocated without bound.
const (
	// DefaultDotsPerMM is the print head density used when RenderOptions.DotsPerMM is 0 (203 dpi).
	DefaultDotsPerMM = 8
	// DefaultMaxPixels caps the label image (width × height dots) when RenderOptions.MaxPixels is 0.
	// 4×6 in at 600 dpi is 8.6 million.
	DefaultMaxPixels = 16 << 20
	// MaxInputBytes caps the ZPL accepted for a preview.
	MaxInputBytes = 16 << 20
	// MaxGraphicBytes caps one ^GF graphic field (its decoded bitmap), whatever its header claims.
	MaxGraphicBytes = 4 << 20
	// maxLabelDots is ZPL's own limit for ^PW and ^LL.
	maxLabelDots = 32000
	// workPerPixel bounds the drawing work of one label: its fields together may spend this many
	// pixel operations per pixel of the label (of a 4×6 in label at 203 dpi for smaller ones),
	// well under a second.
	workPerPixel = 64
)

var (
	// ErrNoLabel means the input holds no ^XA…^XZ label, or fewer than RenderOptions.Label+1.
	ErrNoLabel = errors.New("no ZPL label")
	// ErrTooLarge means the input, the label size or the drawing work exceeds the preview limits.
	ErrTooLarge = errors.New("too large to preview")
)

// RenderOptions says how to draw a label. The zero value draws the first label at 203 dpi on 4×6 in media.
type RenderOptions struct {
	// DotsPerMM is the print head density: 6 (152 dpi), 8 (203 dpi), 12 (300 dpi) or 24 (600 dpi).
	// It sets the default media size and the default QR magnification; positions and sizes in ZPL are
	// in dots and are drawn one image pixel per dot. 0 means DefaultDotsPerMM.
	DotsPerMM int
	// Width and Height are the media size in dots, used when the label has no ^PW / ^LL.
	// 0 means 4 in and 6 in at DotsPerMM (812 × 1218 at 8 dots/mm).
	Width, Height int
	// Label is the 0-based index of the ^XA…^XZ label to draw when the input holds several.
	// Settings that persist on a printer (^CF, ^BY, ^LH, ^FW, ^PW, ^LL, ^PO, ^PM, ^LR, ^LS) carry over
	// from the labels before it, as on the printer.
	Label int
	// MaxPixels caps Width × Height of the image; 0 means DefaultMaxPixels.
	MaxPixels int
}

// RenderResult is a drawn label and what could not be drawn faithfully.
type RenderResult struct {
	// Image is the label, one pixel per dot: palette index 0 is white (no ink), 1 is black.
	Image *image.Paletted
	// Labels is the number of ^XA…^XZ labels in the input; render others with RenderOptions.Label.
	Labels int
	// Skipped lists the commands that were not drawn, e.g. "^BE", "^GC", "~DG", once each in order of
	// first appearance. Commands without effect on the printed picture (^PQ, ^PR, ^MD, ^CI, …) are
	// not listed.
	Skipped []string
	// Warnings describes fields drawn approximately or not at all, e.g. a barcode whose data cannot be
	// encoded, or a :Z64: graphic whose CRC does not match.
	Warnings []string
}

// labelPalette is the 1-bit palette of preview images: index 0 white, 1 black.
var labelPalette = color.Palette{color.Gray{Y: 0xff}, color.Gray{Y: 0}}

// Render draws the label RenderOptions.Label (the first by default) of zpl. Use RenderLabel to learn
// what it skipped.
func Render(zpl []byte, opts RenderOptions) (image.Image, error) {
	res, err := RenderLabel(zpl, opts)
	if err != nil {
		return nil, err
	}
	return res.Image, nil
}

// RenderPNG draws like Render and encodes the label as a 1-bit PNG.
func RenderPNG(zpl []byte, opts RenderOptions) ([]byte, error) {
	res, err := RenderLabel(zpl, opts)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, res.Image); err != nil {
		return nil, fmt.Errorf("zpl render: encode png: %w", err)
	}
	return buf.Bytes(), nil
}

// RenderLabel draws one label of zpl and reports what it skipped. Malformed ZPL is drawn as far as it
// makes sense (unknown commands are listed in Skipped); it fails only for input without a label
// (ErrNoLabel) or beyond the preview limits (ErrTooLarge).
func RenderLabel(zpl []byte, opts RenderOptions) (*RenderResult, error) {
	if len(zpl) > MaxInputBytes {
		return nil, fmt.Errorf("zpl render: input of %d bytes exceeds %d: %w", len(zpl), MaxInputBytes, ErrTooLarge)
	}
	if opts.DotsPerMM == 0 {
		opts.DotsPerMM = DefaultDotsPerMM
	}
	if opts.DotsPerMM < 1 || opts.DotsPerMM > 48 {
		return nil, fmt.Errorf("zpl render: %d dots per mm is not a print head density", opts.DotsPerMM)
	}
	if opts.Label < 0 {
		return nil, fmt.Errorf("zpl render: label index %d: %w", opts.Label, ErrNoLabel)
	}
	if opts.MaxPixels <= 0 {
		opts.MaxPixels = DefaultMaxPixels
	}
	dpi := dotsPerInch(opts.DotsPerMM)
	if opts.Width <= 0 {
		opts.Width = 4 * dpi
	}
	if opts.Height <= 0 {
		opts.Height = 6 * dpi
	}

	p := newLabelParser(zpl, opts)
	p.run()
	if p.labels == 0 {
		return nil, fmt.Errorf("zpl render: no ^XA in input: %w", ErrNoLabel)
	}
	if opts.Label >= p.labels {
		return nil, fmt.Errorf("zpl render: label %d requested, input has %d: %w", opts.Label, p.labels, ErrNoLabel)
	}

	w, h := opts.Width, opts.Height
	if p.st.pw > 0 {
		w = p.st.pw
	}
	if p.st.ll > 0 {
		h = p.st.ll
	}
	if w > maxLabelDots || h > maxLabelDots || w*h > opts.MaxPixels {
		return nil, fmt.Errorf("zpl render: label of %d×%d dots exceeds %d pixels: %w", w, h, opts.MaxPixels, ErrTooLarge)
	}

	img := image.NewPaletted(image.Rect(0, 0, w, h), labelPalette)
	d := &labelDrawer{
		img:       img,
		workLimit: workPerPixel * max(w*h, 1<<20),
		fonts:     newFontCache(),
		warn:      p.warnf,
	}
	for _, f := range p.fields {
		if err := d.drawField(f); err != nil {
			return nil, err
		}
	}
	if p.st.mirror {
		mirrorImage(img)
	}
	if p.st.invert {
		rotate180(img)
	}
	return &RenderResult{Image: img, Labels: p.labels, Skipped: p.skipped, Warnings: p.warnings}, nil
}

// dotsPerInch gives the nominal resolution of a print head density.
func dotsPerInch(dpmm int) int {
	switch dpmm {
	case 6:
		return 152
	case 8:
		return 203
	case 12:
		return 300
	case 24:
		return 600
	}
	return int(math.Round(float64(dpmm) * 25.4))
}

// paintMode says how a field's ink combines with the label.
type paintMode uint8

const (
	paintBlack   paintMode = iota // ink is black
	paintWhite                    // ink erases (^GB/^GF line colour W)
	paintReverse                  // ink inverts what is below (^FR, ^LRY)
)

// orientation is a ZPL field rotation: N, R (90° clockwise), I (180°) or B (270°).
type orientation byte

const (
	orientN orientation = 'N'
	orientR orientation = 'R'
	orientI orientation = 'I'
	orientB orientation = 'B'
)

// fieldPlacement maps a field's unrotated coordinates (u right, v down, origin at the top left of its
// w×h box) onto label coordinates, rotated and placed at (x, y): the top left of the rotated box.
type fieldPlacement struct {
	o    orientation
	w, h float64
	x, y float64
}

// at maps an unrotated point to the label.
func (p fieldPlacement) at(u, v float64) (float64, float64) {
	switch p.o {
	case orientR:
		return p.x + p.h - v, p.y + u
	case orientI:
		return p.x + p.w - u, p.y + p.h - v
	case orientB:
		return p.x + v, p.y + p.w - u
	}
	return p.x + u, p.y + v
}

// rect maps an unrotated rectangle [u0,u1)×[v0,v1) to the label, snapped to whole dots.
func (p fieldPlacement) rect(u0, v0, u1, v1 float64) image.Rectangle {
	x0, y0 := p.at(u0, v0)
	x1, y1 := p.at(u1, v1)
	return image.Rect(roundDot(x0), roundDot(y0), roundDot(x1), roundDot(y1)).Canon()
}

// place returns the placement that puts the unrotated point (au, av) at label point (x, y) — for
// ^FT, whose origin is a text baseline or the bottom left of a barcode — or, with topLeft, the top left
// of the rotated box there (^FO).
func place(o orientation, w, h, au, av float64, x, y int, topLeft bool) fieldPlacement {
	p := fieldPlacement{o: o, w: w, h: h}
	if topLeft {
		p.x, p.y = float64(x), float64(y)
		return p
	}
	ax, ay := p.at(au, av)
	p.x, p.y = float64(x)-ax, float64(y)-ay
	return p
}

func roundDot(f float64) int {
	const lim = 1 << 30
	if f > lim {
		return lim
	}
	if f < -lim {
		return -lim
	}
	return int(math.Floor(f + 0.5))
}

// fieldMask is the ink of one field, clipped to the label: 1 where the field puts ink.
type fieldMask struct {
	r   image.Rectangle
	pix []uint8
}

// labelDrawer draws parsed fields onto the label image within a work budget.
type labelDrawer struct {
	img       *image.Paletted
	work      int
	workLimit int
	fonts     *fontCache
	warn      func(format string, args ...any)
	// lastText is where the last single-line text field ended, for ^FT without coordinates.
	lastText    image.Point
	hasLastText bool
}

// Work charged besides the pixels a field touches, in pixel operations (a few nanoseconds each).
const (
	costPerGlyph      = 64   // laying out one character
	costPerQRByte     = 4000 // boombuler's QR encoder: about 17 µs a byte
	costPerMatrixByte = 1000 // Data Matrix
	costPerBarByte    = 200  // Code 128 / Code 39
)

// spend charges n pixel operations to the label's work budget.
func (d *labelDrawer) spend(n int) error {
	d.work += n
	if d.work > d.workLimit {
		return fmt.Errorf("zpl render: drawing work exceeds %d pixel operations: %w", d.workLimit, ErrTooLarge)
	}
	return nil
}

// newMask allocates a mask for the label area r (clipped), charging the work budget.
func (d *labelDrawer) newMask(r image.Rectangle) (*fieldMask, error) {
	r = r.Intersect(d.img.Rect)
	n := r.Dx() * r.Dy()
	if err := d.spend(n + 1); err != nil {
		return nil, err
	}
	return &fieldMask{r: r, pix: make([]uint8, n)}, nil
}

// fill sets the mask over the label rectangle r.
func (m *fieldMask) fill(r image.Rectangle) {
	r = r.Intersect(m.r)
	if r.Empty() {
		return
	}
	w := m.r.Dx()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := m.pix[(y-m.r.Min.Y)*w:]
		for x := r.Min.X - m.r.Min.X; x < r.Max.X-m.r.Min.X; x++ {
			row[x] = 1
		}
	}
}

// paint combines a mask into the label.
func (d *labelDrawer) paint(m *fieldMask, mode paintMode) {
	if m == nil || m.r.Empty() {
		return
	}
	w := m.r.Dx()
	for y := m.r.Min.Y; y < m.r.Max.Y; y++ {
		src := m.pix[(y-m.r.Min.Y)*w : (y-m.r.Min.Y+1)*w]
		off := d.img.PixOffset(m.r.Min.X, y)
		dst := d.img.Pix[off : off+w]
		for i, s := range src {
			if s == 0 {
				continue
			}
			switch mode {
			case paintBlack:
				dst[i] = 1
			case paintWhite:
				dst[i] = 0
			case paintReverse:
				dst[i] ^= 1
			}
		}
	}
}

func mirrorImage(img *image.Paletted) {
	w := img.Rect.Dx()
	for y := 0; y < img.Rect.Dy(); y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+w]
		for i, j := 0, w-1; i < j; i, j = i+1, j-1 {
			row[i], row[j] = row[j], row[i]
		}
	}
}

func rotate180(img *image.Paletted) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	n := w * h
	for i, j := 0, n-1; i < j; i, j = i+1, j-1 {
		pi := (i/w)*img.Stride + i%w
		pj := (j/w)*img.Stride + j%w
		img.Pix[pi], img.Pix[pj] = img.Pix[pj], img.Pix[pi]
	}
}
