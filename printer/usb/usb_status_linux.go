//go:build linux && cgo && !nousb

package usb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"printdock/printer"
)

// timeoutCauseLocked adds what the port status says to a transfer timeout (out of paper, error, paused).
func (p *Printer) timeoutCauseLocked(err error) error {
	ps, perr := p.portStatusLocked()
	if perr != nil {
		return fmt.Errorf("%w: printer not accepting data", err)
	}
	st, reason := ps.State()
	if sentinel := (printer.Status{State: st}).Err(); sentinel != nil {
		return fmt.Errorf("%w: %s: %w", err, reason, sentinel)
	}
	return fmt.Errorf("%w: printer not accepting data", err)
}

func (p *Printer) portStatusLocked() (PortStatus, error) {
	buf := make([]byte, 1)
	n, err := p.h.dev.Control(requestTypeClassInterfaceIn, requestGetPortStatus, 0, uint16(p.h.setting.Interface), buf)
	if err != nil {
		return 0, classify(context.Background(), context.Background(), err)
	}
	if n != 1 {
		return 0, fmt.Errorf("usb: port status: %d bytes", n)
	}
	return PortStatus(buf[0]), nil
}

// Status implements printer.Printer: ~HS over bulk OUT/IN on a bidirectional interface, combined with
// GET_PORT_STATUS. A unidirectional printer, one whose 1284 ID names another language than ZPL (a TSPL
// or EPL printer would print "~HS" as text or ignore it) and one opened with PortStatusOnly report what
// the port status says, without sending ~HS. While a Write is in
// progress it reports StateBusy without asking the printer.
func (p *Printer) Status(ctx context.Context) (printer.Status, error) {
	now := time.Now()
	if !p.mu.TryLock() {
		return printer.Status{State: printer.StateBusy, Reason: "printing", CheckedAt: now}, nil
	}
	defer p.mu.Unlock()
	offline := func(err error) (printer.Status, error) {
		return printer.Status{State: printer.StateOffline, Reason: "unplugged", CheckedAt: now},
			fmt.Errorf("usb: status %s: %w: %v", p.id, printer.ErrDisconnected, err)
	}
	if p.closed {
		return offline(errClosed)
	}
	if p.h == nil {
		if err := p.reopenLocked(); err != nil {
			return offline(err)
		}
	}
	port, perr := p.portStatusLocked()
	if errors.Is(perr, errGone) {
		if err := p.reopenLocked(); err != nil {
			return offline(err)
		}
		port, perr = p.portStatusLocked()
	}
	if p.h.in == nil || !asksHostStatus(p.info, p.opts) {
		if perr != nil {
			return printer.Status{State: printer.StateUnknown, CheckedAt: now}, nil // cannot tell
		}
		st, reason := port.State()
		return printer.Status{State: st, Reason: reason, CheckedAt: now}, nil
	}
	reply, err := p.askHostStatusLocked(ctx)
	if errors.Is(err, errGone) {
		p.dropLocked()
		return offline(err)
	}
	if err != nil && !errors.Is(err, errTimeout) {
		return printer.Status{State: printer.StateUnknown, CheckedAt: now}, fmt.Errorf("usb: status %s: %w", p.id, err)
	}
	silent := errors.Is(err, errTimeout) && !hostStatusParses(reply)
	st, serr := statusFrom(reply, silent, port, perr == nil, now)
	if serr != nil {
		return st, fmt.Errorf("usb: status %s: %w", p.id, serr)
	}
	return st, nil
}

func (p *Printer) askHostStatusLocked(ctx context.Context) ([]byte, error) {
	in := p.h.in
	maxPkt := in.Desc.MaxPacketSize
	if p.stale { // drop a late reply to an earlier ~HS
		_, _ = readHostStatus(ctx, in, maxPkt, 50*time.Millisecond, classify)
		p.stale = false
	}
	if _, err := writeAll(ctx, p.h.out, []byte("~HS"), 64, p.opts.TransferTimeout, classify); err != nil {
		return nil, err
	}
	reply, err := readHostStatus(ctx, in, maxPkt, p.opts.StatusTimeout, classify)
	if errors.Is(err, errTimeout) {
		p.stale = true
	}
	return reply, err
}
