//go:build linux && cgo && !nousb

package usb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/google/gousb"

	"printdock/printer"
)

// Supported reports whether this build can talk to USB printers.
func Supported() bool { return true }

// devKey identifies an attached device for the scan cache: a re-plugged device gets a new address.
type devKey struct {
	bus, addr       int
	vendor, product gousb.ID
}

// known caches what Scan learnt about attached printers, so a scan every few seconds does not reopen
// them, and marks the ones this process has open (Scan must not touch those).
var known = struct {
	sync.Mutex
	info map[devKey]printer.Info
	open map[devKey]bool
}{info: map[devKey]printer.Info{}, open: map[devKey]bool{}}

// newContext is gousb.NewContext without its panic when libusb cannot start.
func newContext() (c *gousb.Context, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("usb: libusb init: %v", r)
		}
	}()
	return gousb.NewContext(), nil
}

// settingsOf lists the printer-class interface settings of a device.
func settingsOf(desc *gousb.DeviceDesc) []altSetting {
	var out []altSetting
	cfgs := make([]int, 0, len(desc.Configs))
	for n := range desc.Configs {
		cfgs = append(cfgs, n)
	}
	slices.Sort(cfgs)
	for idx, n := range cfgs {
		for _, intf := range desc.Configs[n].Interfaces {
			for _, alt := range intf.AltSettings {
				if alt.Class != gousb.ClassPrinter {
					continue
				}
				s := altSetting{ConfigIndex: idx, Config: n, Interface: alt.Number, Alt: alt.Alternate, Protocol: int(alt.Protocol)}
				for _, ep := range alt.Endpoints {
					if ep.TransferType != gousb.TransferTypeBulk {
						continue
					}
					if ep.Direction == gousb.EndpointDirectionOut && s.OutEP == 0 {
						s.OutEP, s.OutMaxPkt = ep.Number, ep.MaxPacketSize
					} else if ep.Direction == gousb.EndpointDirectionIn && s.InEP == 0 {
						s.InEP = ep.Number
					}
				}
				out = append(out, s)
			}
		}
	}
	return out
}

func isPrinter(desc *gousb.DeviceDesc) bool {
	_, ok := chooseSetting(settingsOf(desc))
	return ok
}

// deviceID asks for the IEEE 1284 device ID (GET_DEVICE_ID). Linux allows it even while another driver
// (usblp) has the interface.
func deviceID(dev *gousb.Device, s altSetting) (printer.DeviceID, error) {
	buf := make([]byte, deviceIDMax)
	n, err := dev.Control(requestTypeClassInterfaceIn, requestGetDeviceID, uint16(s.ConfigIndex),
		deviceIDIndex(s.Interface, s.Alt), buf)
	if err != nil {
		return printer.DeviceID{}, fmt.Errorf("usb: get device id: %w", err)
	}
	return printer.ParseDeviceID(buf[:n])
}

// describe reads a device's identity.
func describe(dev *gousb.Device, s altSetting) printer.Info {
	mfr, _ := dev.Manufacturer()
	product, _ := dev.Product()
	serial, _ := dev.SerialNumber()
	id, err := deviceID(dev, s)
	if err != nil {
		slog.Debug("usb: no device id", "device", dev.String(), "err", err)
	}
	return makeInfo(uint16(dev.Desc.Vendor), uint16(dev.Desc.Product), mfr, product, serial, id, s.bidirectional())
}

// Scan lists the USB printers attached now. Each call uses a fresh libusb context, so devices plugged
// in or out since the last call are seen even where libusb gets no hotplug events (no udevd). A device
// that cannot be opened (permissions) is listed by VID:PID with a note in its name.
func Scan(ctx context.Context) ([]printer.Info, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, err := newContext()
	if err != nil {
		return nil, err
	}
	defer c.Close()

	seen := map[devKey]altSetting{}
	var toOpen []devKey
	known.Lock()
	devs, err := c.OpenDevices(func(desc *gousb.DeviceDesc) bool {
		s, ok := chooseSetting(settingsOf(desc))
		if !ok {
			return false
		}
		k := devKey{desc.Bus, desc.Address, desc.Vendor, desc.Product}
		seen[k] = s
		if _, cached := known.info[k]; cached || known.open[k] {
			return false
		}
		toOpen = append(toOpen, k)
		return true
	})
	known.Unlock()
	opened := map[devKey]printer.Info{}
	for _, d := range devs {
		k := devKey{d.Desc.Bus, d.Desc.Address, d.Desc.Vendor, d.Desc.Product}
		opened[k] = describe(d, seen[k])
		d.Close()
	}
	if err != nil && len(seen) == 0 {
		return nil, fmt.Errorf("usb: scan: %w", err)
	}

	known.Lock()
	defer known.Unlock()
	for k, info := range opened {
		known.info[k] = info
	}
	for _, k := range toOpen {
		if _, ok := opened[k]; !ok { // could not open: list it anyway, do not cache (retry next scan)
			slog.Debug("usb: cannot open printer", "vid", k.vendor, "pid", k.product, "err", err)
			opened[k] = printer.Info{
				ID:   ID{Vendor: uint16(k.vendor), Product: uint16(k.product)}.String(),
				Name: fmt.Sprintf("USB printer %s:%s (cannot open: permissions?)", k.vendor, k.product),
			}
		}
	}
	for k := range known.info {
		if _, ok := seen[k]; !ok {
			delete(known.info, k)
		}
	}
	out := make([]printer.Info, 0, len(seen))
	for k := range seen {
		if info, ok := known.info[k]; ok {
			out = append(out, info)
		} else if info, ok := opened[k]; ok {
			out = append(out, info)
		}
	}
	slices.SortFunc(out, func(a, b printer.Info) int { return compareStrings(a.ID, b.ID) })
	return out, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// handle is one opened, claimed device.
type handle struct {
	ctx     *gousb.Context
	dev     *gousb.Device
	cfg     *gousb.Config
	intf    *gousb.Interface
	out     *gousb.OutEndpoint
	in      *gousb.InEndpoint
	setting altSetting
	key     devKey
	info    printer.Info
}

func (h *handle) close() {
	if h.intf != nil {
		h.intf.Close()
	}
	if h.cfg != nil {
		_ = h.cfg.Close()
	}
	if h.dev != nil {
		_ = h.dev.Close()
	}
	if h.ctx != nil {
		_ = h.ctx.Close()
	}
	known.Lock()
	delete(known.open, h.key)
	known.Unlock()
}

// openHandle finds the device id names in a fresh context and claims its printer interface.
func openHandle(id ID, opts Options) (*handle, error) {
	c, err := newContext()
	if err != nil {
		return nil, err
	}
	devs, openErr := c.OpenDevices(func(desc *gousb.DeviceDesc) bool {
		return uint16(desc.Vendor) == id.Vendor && uint16(desc.Product) == id.Product && isPrinter(desc)
	})
	h := &handle{ctx: c}
	for _, d := range devs {
		if h.dev != nil {
			d.Close()
			continue
		}
		s, _ := chooseSetting(settingsOf(d.Desc))
		d.ControlTimeout = opts.ControlTimeout
		info := describe(d, s)
		if !id.Matches(uint16(d.Desc.Vendor), uint16(d.Desc.Product), info.Serial) {
			d.Close()
			continue
		}
		h.dev, h.setting, h.info = d, s, info
		h.key = devKey{d.Desc.Bus, d.Desc.Address, d.Desc.Vendor, d.Desc.Product}
	}
	if h.dev == nil {
		_ = c.Close()
		if openErr != nil {
			return nil, fmt.Errorf("usb: open %s: %w (%v)", id, printer.ErrNotFound, openErr)
		}
		return nil, fmt.Errorf("usb: open %s: %w", id, printer.ErrNotFound)
	}
	fail := func(what string, err error) (*handle, error) {
		h.close()
		return nil, fmt.Errorf("usb: open %s: %s: %w", id, what, err)
	}
	if err := h.dev.SetAutoDetach(true); err != nil {
		return fail("auto-detach", err)
	}
	if h.cfg, err = h.dev.Config(h.setting.Config); err != nil {
		return fail("set configuration", err)
	}
	if h.intf, err = h.cfg.Interface(h.setting.Interface, h.setting.Alt); err != nil {
		return fail("claim interface", err)
	}
	if h.out, err = h.intf.OutEndpoint(h.setting.OutEP); err != nil {
		return fail("bulk out endpoint", err)
	}
	if h.setting.bidirectional() {
		if h.in, err = h.intf.InEndpoint(h.setting.InEP); err != nil {
			return fail("bulk in endpoint", err)
		}
	}
	known.Lock()
	known.open[h.key] = true
	known.info[h.key] = h.info
	known.Unlock()
	return h, nil
}

// Printer is an opened USB printer. Its methods are safe for concurrent use; a Status during a Write
// reports busy instead of waiting.
type Printer struct {
	id   ID
	opts Options

	mu     sync.Mutex
	h      *handle // nil after the device went away, until reopened
	info   printer.Info
	stale  bool // a ~HS reply may still be on its way in
	closed bool
}

var _ printer.Printer = (*Printer)(nil)

var errClosed = errors.New("usb: printer closed")

// Open finds the printer with the given ID (usb://VID:PID[/SERIAL]) and claims it, detaching a kernel
// driver (usblp) if one has it.
func Open(ctx context.Context, id string, opts Options) (printer.Printer, error) {
	pid, err := ParseID(id)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	h, err := openHandle(pid, opts)
	if err != nil {
		return nil, err
	}
	return &Printer{id: pid, opts: opts, h: h, info: h.info}, nil
}

// Info implements printer.Printer.
func (p *Printer) Info() printer.Info {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.info
}

// Close implements printer.Printer: it releases the interface and the device.
func (p *Printer) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.dropLocked()
	return nil
}

func (p *Printer) dropLocked() {
	if p.h != nil {
		p.h.close()
		p.h = nil
	}
}

// reopenLocked opens the device again in a fresh context: after a re-plug the old handle is dead and
// only a new enumeration finds the device at its new address.
func (p *Printer) reopenLocked() error {
	p.dropLocked()
	h, err := openHandle(p.id, p.opts)
	if err != nil {
		return err
	}
	p.h, p.info, p.stale = h, h.info, false
	return nil
}

// classify maps gousb errors onto the package's transfer errors.
func classify(ctx, tctx context.Context, err error) error {
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, gousb.TransferTimedOut),
		errors.Is(err, gousb.ErrorTimeout),
		errors.Is(err, gousb.TransferCancelled) && tctx.Err() != nil:
		return errTimeout
	case errors.Is(err, gousb.TransferNoDevice), errors.Is(err, gousb.ErrorNoDevice),
		errors.Is(err, gousb.ErrorIO), errors.Is(err, gousb.TransferError), errors.Is(err, gousb.ErrorNotFound):
		return fmt.Errorf("%w: %v", errGone, err)
	}
	return err
}

// Write implements printer.Printer. The job goes out in transfers of about 16 KiB, each with its own
// timeout; a device that accepts fewer bytes than sent fails the job. If the device went away before
// any byte of this job reached it (it was re-plugged), Write reopens it once and sends the job; if it
// went away mid-job, Write reopens it for the next job but does not resend (that could print labels
// twice) and returns printer.ErrDisconnected with the count in a *printer.WriteError.
func (p *Printer) Write(ctx context.Context, data []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	fail := func(n int, err error) error {
		return fmt.Errorf("usb: write %s: %w", p.id, &printer.WriteError{Written: n, Total: len(data), Err: err})
	}
	if p.closed {
		return fail(0, errClosed)
	}
	if p.h == nil {
		if err := p.reopenLocked(); err != nil {
			return fail(0, fmt.Errorf("%w: %v", printer.ErrDisconnected, err))
		}
	}
	n, err := p.sendLocked(ctx, data)
	if errors.Is(err, errGone) {
		retry := n == 0
		if rerr := p.reopenLocked(); rerr != nil {
			return fail(n, fmt.Errorf("%w: %v", printer.ErrDisconnected, err))
		}
		if !retry {
			return fail(n, fmt.Errorf("%w: %v", printer.ErrDisconnected, err))
		}
		slog.Info("usb: printer re-plugged, sending job again", "printer", p.id.String())
		n, err = p.sendLocked(ctx, data)
		if errors.Is(err, errGone) {
			p.dropLocked()
			return fail(n, fmt.Errorf("%w: %v", printer.ErrDisconnected, err))
		}
	}
	if errors.Is(err, errTimeout) {
		return fail(n, p.timeoutCauseLocked(err))
	}
	if err != nil {
		return fail(n, err)
	}
	return nil
}

func (p *Printer) sendLocked(ctx context.Context, data []byte) (int, error) {
	return writeAll(ctx, p.h.out, data, transferSize(p.setting().OutMaxPkt), p.opts.TransferTimeout, classify)
}

func (p *Printer) setting() altSetting { return p.h.setting }
