package zpl

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"printdock/printer"
)

// HostStatusCommand asks a Zebra for its host status. It is an immediate (tilde) command: the printer
// answers it even in the middle of a job, except when it is out of media or its head is open, when
// many models stay silent.
const HostStatusCommand = "~HS"

// ReasonNoReply is the plain-language reason given when a Zebra does not answer ~HS.
const ReasonNoReply = "no reply to ~HS: media out or head open?"

// Control bytes framing each ~HS string.
const (
	STX = 0x02
	ETX = 0x03
)

// ErrBadHostStatus is returned for a ~HS reply that cannot be parsed.
var ErrBadHostStatus = errors.New("zpl: bad ~HS reply")

// HostStatus is a parsed ~HS reply. Field letters refer to the ZPL programming guide's description:
//
//	string 1: <STX>aaa,b,c,dddd,eee,f,g,h,iii,j,k,l<ETX><CR><LF>
//	string 2: <STX>mmm,n,o,p,q,r,s,t,uuuuuuuu,v,www<ETX><CR><LF>
//	string 3: <STX>xxxx,y<ETX><CR><LF>
type HostStatus struct {
	// String 1.
	CommSettings     int  // aaa: communication (interface) settings
	PaperOut         bool // b
	Paused           bool // c
	LabelLength      int  // dddd: label length in dots
	FormatsInBuffer  int  // eee: number of formats in the receive buffer
	BufferFull       bool // f: receive buffer full
	DiagnosticMode   bool // g: communications diagnostic mode
	PartialFormat    bool // h: a partial format is in progress
	CorruptRAM       bool // j: configuration data lost
	UnderTemperature bool // k
	OverTemperature  bool // l

	// String 2.
	FunctionSettings    int    // mmm
	HeadUp              bool   // o: print head open
	RibbonOut           bool   // p
	ThermalTransfer     bool   // q: thermal transfer mode (else direct thermal)
	PrintMode           string // r: 0 rewind, 1 peel-off, 2 tear-off, 3 cutter, 4 applicator, …
	PrintWidthMode      int    // s
	LabelWaiting        bool   // t: label waiting to be taken (peel-off mode)
	LabelsRemaining     int    // uuuuuuuu: labels remaining in the batch
	FormatWhilePrinting bool   // v: always 1
	GraphicsStored      int    // www: number of graphic images in memory

	// String 3 (optional: some firmware sends only two strings).
	Password  string // xxxx
	StaticRAM bool   // y: static RAM installed
}

// minimum field counts of strings 1 and 2; printers may append more, which are ignored.
const (
	minFields1 = 12
	minFields2 = 11
	minFields3 = 2
)

// HostStatusComplete reports whether b holds a whole ~HS reply (three ETX-terminated strings), so a
// reader knows when to stop.
func HostStatusComplete(b []byte) bool {
	return len(frames(b)) >= 3
}

// frames returns the contents of each complete STX…ETX frame in b. Bytes outside frames (CR, LF, noise)
// are ignored; an STX inside a frame restarts it.
func frames(b []byte) [][]byte {
	var out [][]byte
	start := -1
	for i, c := range b {
		switch c {
		case STX:
			start = i + 1
		case ETX:
			if start >= 0 {
				out = append(out, b[start:i])
				start = -1
			}
		}
	}
	return out
}

// ParseHostStatus parses a ~HS reply. It needs strings 1 and 2; string 3 is parsed when present.
func ParseHostStatus(b []byte) (HostStatus, error) {
	fr := frames(b)
	if len(fr) < 2 {
		return HostStatus{}, fmt.Errorf("%w: %d of 3 strings", ErrBadHostStatus, len(fr))
	}
	var h HostStatus
	p := fieldParser{}

	f := strings.Split(string(fr[0]), ",")
	if len(f) < minFields1 {
		return HostStatus{}, fmt.Errorf("%w: string 1 has %d fields, want %d", ErrBadHostStatus, len(f), minFields1)
	}
	h.CommSettings = p.num(f[0], "aaa")
	h.PaperOut = p.flag(f[1], "paper out")
	h.Paused = p.flag(f[2], "pause")
	h.LabelLength = p.num(f[3], "label length")
	h.FormatsInBuffer = p.num(f[4], "formats in buffer")
	h.BufferFull = p.flag(f[5], "buffer full")
	h.DiagnosticMode = p.flag(f[6], "diagnostic mode")
	h.PartialFormat = p.flag(f[7], "partial format")
	p.num(f[8], "iii")
	h.CorruptRAM = p.flag(f[9], "corrupt RAM")
	h.UnderTemperature = p.flag(f[10], "under temperature")
	h.OverTemperature = p.flag(f[11], "over temperature")

	f = strings.Split(string(fr[1]), ",")
	if len(f) < minFields2 {
		return HostStatus{}, fmt.Errorf("%w: string 2 has %d fields, want %d", ErrBadHostStatus, len(f), minFields2)
	}
	h.FunctionSettings = p.num(f[0], "mmm")
	h.HeadUp = p.flag(f[2], "head up")
	h.RibbonOut = p.flag(f[3], "ribbon out")
	h.ThermalTransfer = p.flag(f[4], "thermal transfer")
	h.PrintMode = strings.TrimSpace(f[5])
	h.PrintWidthMode = p.num(f[6], "print width mode")
	h.LabelWaiting = p.flag(f[7], "label waiting")
	h.LabelsRemaining = p.num(f[8], "labels remaining")
	h.FormatWhilePrinting = p.flag(f[9], "format while printing")
	h.GraphicsStored = p.num(f[10], "graphics stored")

	if len(fr) >= 3 {
		f = strings.Split(string(fr[2]), ",")
		if len(f) < minFields3 {
			return HostStatus{}, fmt.Errorf("%w: string 3 has %d fields, want %d", ErrBadHostStatus, len(f), minFields3)
		}
		h.Password = strings.TrimSpace(f[0])
		h.StaticRAM = p.flag(f[1], "static RAM")
	}
	if p.err != nil {
		return HostStatus{}, p.err
	}
	return h, nil
}

// fieldParser keeps the first error so the field list reads straight.
type fieldParser struct{ err error }

func (p *fieldParser) num(s, name string) int {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 9 || strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		p.fail(name, s)
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		p.fail(name, s)
	}
	return n
}

func (p *fieldParser) flag(s, name string) bool {
	switch strings.TrimSpace(s) {
	case "0":
		return false
	case "1":
		return true
	}
	p.fail(name, s)
	return false
}

func (p *fieldParser) fail(name, s string) {
	if p.err == nil {
		p.err = fmt.Errorf("%w: field %s = %q", ErrBadHostStatus, name, s)
	}
}

func b01(v bool) int {
	if v {
		return 1
	}
	return 0
}

// Bytes formats h as a printer would send it: three STX…ETX CR LF strings. The simulator answers ~HS
// with it. PrintMode and Password are written as they are (a real printer sends e.g. "2" and "1234").
func (h HostStatus) Bytes() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "\x02%03d,%d,%d,%04d,%03d,%d,%d,%d,000,%d,%d,%d\x03\r\n",
		h.CommSettings, b01(h.PaperOut), b01(h.Paused), h.LabelLength, h.FormatsInBuffer, b01(h.BufferFull),
		b01(h.DiagnosticMode), b01(h.PartialFormat), b01(h.CorruptRAM), b01(h.UnderTemperature), b01(h.OverTemperature))
	fmt.Fprintf(&b, "\x02%03d,0,%d,%d,%d,%s,%d,%d,%08d,%d,%03d\x03\r\n",
		h.FunctionSettings, b01(h.HeadUp), b01(h.RibbonOut), b01(h.ThermalTransfer), h.PrintMode, h.PrintWidthMode,
		b01(h.LabelWaiting), h.LabelsRemaining, b01(h.FormatWhilePrinting), h.GraphicsStored)
	fmt.Fprintf(&b, "\x02%s,%d\x03\r\n", h.Password, b01(h.StaticRAM))
	return b.Bytes()
}

// Status turns h into the printer's condition as staff see it. The most pressing problem wins: head
// open, media out, ribbon out, a fault, paused; otherwise busy while formats or labels are pending, else
// ready.
func (h HostStatus) Status(checkedAt time.Time) printer.Status {
	s := printer.Status{
		LabelsRemaining: h.LabelsRemaining,
		BufferFull:      h.BufferFull,
		CheckedAt:       checkedAt,
	}
	switch {
	case h.HeadUp:
		s.State, s.Reason = printer.StateHeadOpen, "print head open: close the head"
	case h.PaperOut:
		s.State, s.Reason = printer.StateMediaOut, "out of labels: load media"
	case h.RibbonOut:
		s.State, s.Reason = printer.StateRibbonOut, "ribbon out: load a ribbon"
	case h.CorruptRAM:
		s.State, s.Reason = printer.StateError, "configuration memory corrupt: reset the printer"
	case h.OverTemperature:
		s.State, s.Reason = printer.StateError, "print head too hot"
	case h.UnderTemperature:
		s.State, s.Reason = printer.StateError, "print head too cold"
	case h.Paused:
		s.State, s.Reason = printer.StatePaused, "paused: press the pause button to resume"
	case h.FormatsInBuffer > 0 || h.LabelsRemaining > 0 || h.PartialFormat:
		s.State = printer.StateBusy
		s.Reason = fmt.Sprintf("printing: %d formats queued, %d labels remaining", h.FormatsInBuffer, h.LabelsRemaining)
	default:
		s.State = printer.StateReady
	}
	if h.BufferFull && s.Reason == "" {
		s.Reason = "receive buffer full"
	}
	return s
}
