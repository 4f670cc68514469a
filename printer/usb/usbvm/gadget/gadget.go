// Package gadget is the printer side of the USB-in-QEMU suite (package usbvm): a Zebra-like label
// printer served through Linux's USB printer gadget function (configfs function "printer",
// /dev/g_printer0) on the dummy_hcd loopback controller, so that the same guest kernel sees it on its
// host side as a real USB printer-class device. It records every byte the host sends (minus ~HS
// commands), answers ~HS with a three-string host status, goes paper-out on command (the port status the
// host reads with GET_PORT_STATUS, and silence to ~HS), can stop reading (a full receive buffer) and can
// be unplugged and re-plugged through the gadget's UDC file.
//
// The guest tests drive it over a small JSON control protocol on a unix socket (Serve, Dial). The USB
// side sits behind the Port and Device interfaces so the protocol logic is unit-tested on any machine
// with an in-memory pipe; the configfs implementation (NewConfigFS) only works inside the guest.
package gadget

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"printdock/printer/zpl"
)

// Identity is what the printer tells the host about itself.
type Identity struct {
	Vendor, Product uint16
	Manufacturer    string // USB string descriptors
	ProductName     string
	Serial          string
	DeviceID        string // IEEE 1284 device ID answered to GET_DEVICE_ID (without the length prefix)
	Raw             bool   // not a ZPL printer: keeps ~HS in the job data and never answers it
}

// Zebra is the identity the guest tests expect. The USB product string differs from the 1284 model on
// purpose, so a test can tell which of the two a printer.Info was built from.
var Zebra = Identity{
	Vendor:       0x0a5f, // Zebra Technologies
	Product:      0x0120,
	Manufacturer: "Zebra Technologies",
	ProductName:  "ZD420 (USB gadget)",
	Serial:       "D2J123456789",
	DeviceID:     "MFG:Zebra Technologies;CMD:ZPL,EPL;MDL:ZTC ZD420-203dpi ZPL;CLS:PRINTER;DES:Zebra ZD420 thermal label printer;",
}

// Port status bits the gadget reports to GET_PORT_STATUS, as the kernel defines them
// (include/uapi/linux/usb/g_printer.h). Deliberately not shared with printer/usb: the test checks that
// package's reading of them against the kernel's.
const (
	PortNotError   byte = 0x08
	PortSelected   byte = 0x10
	PortPaperEmpty byte = 0x20
)

// Device is the printer end of the USB link: /dev/g_printer0 in the guest.
type Device interface {
	io.ReadWriteCloser
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
	// SetPortStatus sets the byte the host reads with GET_PORT_STATUS.
	SetPortStatus(s byte) error
}

// Port is the printer's USB connection: plugging binds the gadget to the UDC, and the device node
// appears; unplugging unbinds it (the host sees a disconnect).
type Port interface {
	Plug() error
	Unplug() error
	// SetIdentity changes what the gadget tells the host; only while unplugged.
	SetIdentity(id Identity) error
	// Open waits for the device node of a plugged gadget and opens it.
	Open(ctx context.Context) (Device, error)
}

// State is the printer's condition and counters as the control protocol reports them.
type State struct {
	Plugged    bool  `json:"plugged"` // bound to the UDC with the device open
	MediaOut   bool  `json:"media_out"`
	Paused     bool  `json:"paused"`
	Stalled    bool  `json:"stalled"`  // not reading: the receive buffer is "full"
	Received   int64 `json:"received"` // job bytes (without ~HS) since start
	Pending    int   `json:"pending"`  // job bytes recorded since the last Take
	Jobs       int   `json:"jobs"`     // complete ^XA…^XZ formats since start
	HSAnswered int   `json:"hs_answered"`
	HSIgnored  int   `json:"hs_ignored"` // ~HS seen while media out (no reply, like a Zebra) or by a Raw printer
	Plugs      int   `json:"plugs"`      // times the gadget was plugged in
	Unplugs    int   `json:"unplugs"`
	Port       byte  `json:"port"` // the port status byte in effect
}

// Printer is the fake Zebra. Run drives the USB side; the other methods are safe to call concurrently
// with it (the control server calls them).
type Printer struct {
	port Port
	log  *slog.Logger

	mu          sync.Mutex
	changed     chan struct{} // closed and replaced on every change of the fields below
	st          State
	wantPlugged bool
	unplugAt    int64 // unplug once Received reaches this; 0 = off
	dev         Device
	applied     int // port status applied to dev, -1 = none
	rec         recorder
	hs          hsFilter
	raw         bool // the profile is no Zebra (Identity.Raw)
}

// New returns a printer on port, plugged in once Run starts.
func New(port Port, log *slog.Logger) *Printer {
	if log == nil {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return &Printer{port: port, log: log, changed: make(chan struct{}), wantPlugged: true, applied: -1}
}

// notifyLocked wakes everyone waiting for a change.
func (p *Printer) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// portStatusLocked is the GET_PORT_STATUS byte for the current condition.
func (p *Printer) portStatusLocked() byte {
	if p.st.MediaOut {
		return PortPaperEmpty | PortSelected // paper empty, and the not-error bit cleared
	}
	if p.st.Paused {
		return PortNotError // not selected
	}
	return PortNotError | PortSelected
}

// applyLocked sets the port status on the open device when it changed.
func (p *Printer) applyLocked() error {
	s := p.portStatusLocked()
	p.st.Port = s
	if p.dev == nil || p.applied == int(s) {
		return nil
	}
	if err := p.dev.SetPortStatus(s); err != nil {
		return fmt.Errorf("gadget: set port status %#02x: %w", s, err)
	}
	p.applied = int(s)
	return nil
}

// State returns the current state.
func (p *Printer) State() State {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.st
	s.Pending = len(p.rec.data)
	return s
}

// Take returns the job bytes recorded since the last Take and forgets them.
func (p *Printer) Take() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rec.take()
}

// SetMediaOut puts the printer out of paper (true) or loads media (false). Out of paper it keeps taking
// data (a Zebra buffers formats) but reports paper-empty in its port status and stays silent to ~HS.
func (p *Printer) SetMediaOut(out bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st.MediaOut = out
	defer p.notifyLocked()
	return p.applyLocked()
}

// SetPaused pauses the printer: ~HS reports paused and the port status drops the select bit.
func (p *Printer) SetPaused(paused bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st.Paused = paused
	defer p.notifyLocked()
	return p.applyLocked()
}

// SetStalled stops (true) or resumes reading from the host, as a printer with a full receive buffer.
func (p *Printer) SetStalled(stalled bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st.Stalled = stalled
	p.notifyLocked()
}

// UnplugAfter arms an unplug once n more job bytes have arrived: the cable pulled mid-job.
func (p *Printer) UnplugAfter(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.unplugAt = p.st.Received + max(n, 1)
	p.notifyLocked()
}

// SetPlugged asks for the printer to be plugged in or out and waits until it is, or ctx ends.
func (p *Printer) SetPlugged(ctx context.Context, plugged bool) error {
	p.mu.Lock()
	p.wantPlugged = plugged
	p.unplugAt = 0
	p.notifyLocked()
	p.mu.Unlock()
	return p.WaitFor(ctx, func(s State) bool { return s.Plugged == plugged })
}

// WaitFor waits until cond holds for the state, or ctx ends.
func (p *Printer) WaitFor(ctx context.Context, cond func(State) bool) error {
	for {
		p.mu.Lock()
		s := p.st
		s.Pending = len(p.rec.data)
		ch := p.changed
		p.mu.Unlock()
		if cond(s) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gadget: wait: %w (state %+v)", ctx.Err(), s)
		case <-ch:
		}
	}
}

// wait blocks until something changes, d passes or ctx ends.
func (p *Printer) wait(ctx context.Context, d time.Duration) {
	p.mu.Lock()
	ch := p.changed
	p.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-ch:
	case <-t.C:
	}
}

// Run plugs the printer in and serves the host until ctx ends, plugging it in and out as asked. It
// returns ctx's error, or an error when the gadget cannot be plugged in or its device opened.
func (p *Printer) Run(ctx context.Context) error {
	defer p.unplug()
	for ctx.Err() == nil {
		p.mu.Lock()
		want := p.wantPlugged
		p.mu.Unlock()
		if !want {
			p.wait(ctx, time.Second)
			continue
		}
		if err := p.port.Plug(); err != nil {
			return fmt.Errorf("gadget: plug: %w", err)
		}
		dev, err := p.port.Open(ctx)
		if err != nil {
			_ = p.port.Unplug()
			if ctx.Err() != nil {
				break
			}
			return fmt.Errorf("gadget: open device: %w", err)
		}
		p.mu.Lock()
		p.dev, p.applied = dev, -1
		err = p.applyLocked()
		p.st.Plugged = true
		p.st.Plugs++
		p.hs = hsFilter{}
		p.notifyLocked()
		p.mu.Unlock()
		if err != nil {
			p.log.Error("gadget: port status", "err", err)
		}
		p.log.Info("gadget: plugged in")

		err = p.serve(ctx, dev)
		p.unplug()
		if err != nil && ctx.Err() == nil {
			// The device failed under us without an unplug being asked: plug in again, as a printer that
			// was power-cycled.
			p.log.Warn("gadget: device failed; plugging in again", "err", err)
			p.wait(ctx, 200*time.Millisecond)
		}
	}
	return ctx.Err()
}

// unplug unbinds the gadget first (the host sees the disconnect at once, mid-transfer if one is going
// on), then closes the device.
func (p *Printer) unplug() {
	p.mu.Lock()
	dev := p.dev
	p.dev = nil
	p.mu.Unlock()
	if dev == nil {
		return
	}
	if err := p.port.Unplug(); err != nil {
		p.log.Error("gadget: unplug", "err", err)
	}
	_ = dev.Close()
	p.mu.Lock()
	p.st.Plugged = false
	p.st.Unplugs++
	if pend := p.hs.flush(); len(pend) > 0 && !p.raw {
		p.rec.add(pend, p.log)
		p.st.Received += int64(len(pend))
	}
	p.notifyLocked()
	p.mu.Unlock()
	p.log.Info("gadget: unplugged")
}

// readSlice bounds each read so stall and unplug requests are seen promptly.
const readSlice = 100 * time.Millisecond

// serve reads from the host until an unplug is asked (nil) or the device fails (its error).
func (p *Printer) serve(ctx context.Context, dev Device) error {
	buf := make([]byte, 16<<10)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		p.mu.Lock()
		want, stalled := p.wantPlugged, p.st.Stalled
		p.mu.Unlock()
		if !want {
			return nil
		}
		if stalled {
			p.wait(ctx, readSlice)
			continue
		}
		_ = dev.SetReadDeadline(time.Now().Add(readSlice))
		n, err := dev.Read(buf)
		if n > 0 {
			for _, reply := range p.consume(buf[:n]) {
				_ = dev.SetWriteDeadline(time.Now().Add(2 * time.Second))
				if _, werr := dev.Write(reply); werr != nil {
					p.log.Warn("gadget: ~HS reply", "err", werr)
				}
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
		case errors.Is(err, io.EOF):
			// f_printer returns 0 bytes when a transfer ended with a zero-length packet; keep reading.
		default:
			return fmt.Errorf("gadget: read: %w", err)
		}
	}
}

// consume takes bytes from the host: records job data, counts ~HS and returns the replies to send. It
// also fires an armed unplug.
func (p *Printer) consume(b []byte) (replies [][]byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	data, hs := p.hs.feed(b)
	if p.raw {
		data = b // not a Zebra: ~HS is data it does not understand, counted as ignored
	}
	p.rec.add(data, p.log)
	p.st.Received += int64(len(data))
	p.st.Jobs = p.rec.jobs
	for range hs {
		if p.st.MediaOut || p.raw {
			p.st.HSIgnored++
			continue
		}
		p.st.HSAnswered++
		replies = append(replies, p.hostStatusLocked().Bytes())
	}
	if p.unplugAt > 0 && p.st.Received >= p.unplugAt {
		p.log.Info("gadget: unplugging mid-job", "received", p.st.Received)
		p.unplugAt = 0
		p.wantPlugged = false
	}
	p.notifyLocked()
	return replies
}

// hostStatusLocked is the ~HS reply for the current condition (a 203 dpi Zebra with 6-inch labels in
// tear-off mode that prints each format as soon as it arrives).
func (p *Printer) hostStatusLocked() zpl.HostStatus {
	return zpl.HostStatus{
		CommSettings:        30,
		PaperOut:            p.st.MediaOut,
		Paused:              p.st.Paused,
		LabelLength:         1218,
		FunctionSettings:    1,
		PrintMode:           "2",
		PrintWidthMode:      6,
		FormatWhilePrinting: true,
		Password:            "1234",
	}
}

// recorder keeps the job bytes since the last take and logs every complete ^XA…^XZ format.
type recorder struct {
	data     []byte
	jobStart int // offset in data where the current format began
	scanned  int // offset in data up to which ^XZ was searched
	jobs     int
}

func (r *recorder) add(b []byte, log *slog.Logger) {
	r.data = append(r.data, b...)
	for {
		from := max(r.scanned-2, r.jobStart) // a ^XZ may straddle two reads
		i := indexFold(r.data[from:], "^XZ")
		if i < 0 {
			r.scanned = len(r.data)
			return
		}
		end := from + i + 3
		job := r.data[r.jobStart:end]
		sum := sha256.Sum256(job)
		r.jobs++
		log.Info("gadget: job received", "job", r.jobs, "bytes", len(job), "sha256", hex.EncodeToString(sum[:8]))
		r.jobStart, r.scanned = end, end
	}
}

func (r *recorder) take() []byte {
	d := r.data
	r.data, r.jobStart, r.scanned = nil, 0, 0
	return d
}

// indexFold is bytes.Index for an upper-case ASCII needle, ignoring the case of b (ZPL commands are
// case-insensitive).
func indexFold(b []byte, needle string) int {
	for i := 0; i+len(needle) <= len(b); i++ {
		if bytes.EqualFold(b[i:i+len(needle)], []byte(needle)) {
			return i
		}
	}
	return -1
}

// hsFilter removes ~HS commands from a byte stream that arrives in arbitrary pieces, counting them: a
// Zebra executes tilde commands as they arrive instead of queueing them with the format.
type hsFilter struct {
	pend []byte // "~" or "~H" at the end of the last piece
}

func (f *hsFilter) feed(in []byte) (out []byte, hs int) {
	buf := in
	if len(f.pend) > 0 {
		buf = append(f.pend, in...)
		f.pend = nil
	}
	out = make([]byte, 0, len(buf))
	for {
		i := bytes.IndexByte(buf, '~')
		if i < 0 {
			return append(out, buf...), hs
		}
		out = append(out, buf[:i]...)
		rest := buf[i:]
		switch {
		case len(rest) >= 3 && bytes.EqualFold(rest[:3], []byte(zpl.HostStatusCommand)):
			hs++
			buf = rest[3:]
		case len(rest) == 1 || len(rest) == 2 && (rest[1] == 'H' || rest[1] == 'h'):
			f.pend = append([]byte(nil), rest...)
			return out, hs
		default:
			out = append(out, '~')
			buf = rest[1:]
		}
	}
}

// flush returns a pending partial "~"/"~H" at the end of the stream: it was data after all.
func (f *hsFilter) flush() []byte {
	p := f.pend
	f.pend = nil
	return p
}
