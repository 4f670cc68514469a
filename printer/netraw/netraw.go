// Package netraw prints to a network label printer over raw TCP (port 9100, "JetDirect"): each job is
// one connection that carries the job's bytes; status is a ~HS request on a connection of its own.
package netraw

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"printdock/printer"
	"printdock/printer/zpl"
)

// DefaultPort is the raw printing port.
const DefaultPort = "9100"

// ErrBadURI is returned for a URI that is not tcp://host[:port].
var ErrBadURI = errors.New("netraw: bad printer URI")

// Options tune a Printer; zero values take the defaults.
type Options struct {
	DialTimeout   time.Duration // connecting; default 5 s
	StatusTimeout time.Duration // waiting for the ~HS reply; default 3 s
	// DrainTimeout bounds the wait, after a job is sent and the connection half-closed, for the printer
	// to close its side (which confirms it read everything). A printer that keeps the connection open
	// this long is taken to have the job. Default 10 s.
	DrainTimeout time.Duration
	ChunkSize    int // bytes per socket write; default 64 KiB
}

func (o Options) withDefaults() Options {
	if o.DialTimeout <= 0 {
		o.DialTimeout = 5 * time.Second
	}
	if o.StatusTimeout <= 0 {
		o.StatusTimeout = 3 * time.Second
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 10 * time.Second
	}
	if o.ChunkSize <= 0 {
		o.ChunkSize = 64 << 10
	}
	return o
}

// Printer is a raw TCP printer. It holds no connection between calls, so it is safe for concurrent use;
// the agent still sends one job at a time.
type Printer struct {
	addr string
	opts Options
}

var _ printer.Printer = (*Printer)(nil)

// ParseURI checks a tcp://host[:port] URI and returns its dial address host:port (port 9100 when
// omitted) and canonical form tcp://host:port.
func ParseURI(uri string) (addr, canonical string, err error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", "", fmt.Errorf("%w: %q: %v", ErrBadURI, uri, err)
	}
	if !strings.EqualFold(u.Scheme, "tcp") || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") ||
		u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("%w: %q: want tcp://host[:port]", ErrBadURI, uri)
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		return "", "", fmt.Errorf("%w: %q: no host", ErrBadURI, uri)
	}
	if port == "" {
		if strings.HasSuffix(u.Host, ":") {
			return "", "", fmt.Errorf("%w: %q: empty port", ErrBadURI, uri)
		}
		port = DefaultPort
	}
	addr = net.JoinHostPort(strings.ToLower(host), port)
	return addr, "tcp://" + addr, nil
}

// New returns the printer at uri (tcp://host[:port]). It does not connect.
func New(uri string, opts Options) (*Printer, error) {
	addr, _, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	return &Printer{addr: addr, opts: opts.withDefaults()}, nil
}

// Addr returns the printer's host:port.
func (p *Printer) Addr() string { return p.addr }

// Info implements printer.Printer. Raw TCP cannot tell the make, model or language without asking: the
// language is unknown until configured (tcp://…?lang=epl) or learned (a printer that answers ~HS
// speaks ZPL).
func (p *Printer) Info() printer.Info {
	return printer.Info{ID: "tcp://" + p.addr, Name: p.addr, Language: printer.LangUnknown, Bidirectional: true}
}

// Close implements printer.Printer; there is nothing to release.
func (p *Printer) Close() error { return nil }

func (p *Printer) dial(ctx context.Context) (*net.TCPConn, error) {
	d := net.Dialer{Timeout: p.opts.DialTimeout}
	c, err := d.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %v", printer.ErrDisconnected, err)
	}
	return c.(*net.TCPConn), nil
}

// Write implements printer.Printer: connect, send data, half-close and wait for the printer to close its
// side. A connection refused, reset or dropped fails with printer.ErrDisconnected; the error carries a
// *printer.WriteError telling how many bytes left this machine.
func (p *Printer) Write(ctx context.Context, data []byte) error {
	fail := func(written int, err error) error {
		return fmt.Errorf("netraw: write %s: %w", p.addr, &printer.WriteError{Written: written, Total: len(data), Err: err})
	}
	c, err := p.dial(ctx)
	if err != nil {
		return fail(0, err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	written := 0
	for _, chunk := range printer.Chunks(data, p.opts.ChunkSize) {
		n, err := c.Write(chunk)
		written += n
		if err != nil {
			return fail(written, p.classify(ctx, err))
		}
		if n != len(chunk) {
			return fail(written, fmt.Errorf("%w: short write", printer.ErrDisconnected))
		}
	}
	if err := c.CloseWrite(); err != nil {
		return fail(written, p.classify(ctx, err))
	}
	// Wait for the printer to close: EOF means it read the whole job; a reset means it did not.
	drain := time.Now().Add(p.opts.DrainTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(drain) {
		drain = dl
	}
	_ = c.SetReadDeadline(drain)
	_, err = io.Copy(io.Discard, c)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fail(written, ctx.Err())
	case errors.Is(err, os.ErrDeadlineExceeded):
		// Sent, no reset, but the printer keeps the connection open: assume it has the job.
		slog.Debug("netraw: printer did not close the connection after the job", "addr", p.addr)
		return nil
	default:
		return fail(written, p.classify(ctx, err))
	}
}

// classify maps a socket error to a context error or printer.ErrDisconnected.
func (p *Printer) classify(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return context.DeadlineExceeded // the ctx deadline set on the socket fired first
	}
	// Reset, broken pipe, EOF, unreachable: the printer is gone for this job.
	return fmt.Errorf("%w: %v", printer.ErrDisconnected, err)
}

// Status implements printer.Printer with ~HS. A printer that cannot be reached is StateOffline with
// printer.ErrDisconnected; one that does not answer within StatusTimeout is StateUnknown with
// printer.ErrNoStatus and the reason zpl.ReasonNoReply (Zebras are silent when out of media or with
// the head open).
func (p *Printer) Status(ctx context.Context) (printer.Status, error) {
	now := time.Now()
	fail := func(st printer.State, reason string, err error) (printer.Status, error) {
		return printer.Status{State: st, Reason: reason, CheckedAt: now}, fmt.Errorf("netraw: status %s: %w", p.addr, err)
	}
	c, err := p.dial(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return fail(printer.StateUnknown, "", err)
		}
		return fail(printer.StateOffline, "cannot connect to "+p.addr, err)
	}
	defer c.Close()
	deadline := now.Add(p.opts.StatusTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = c.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	if _, err := c.Write([]byte(zpl.HostStatusCommand)); err != nil {
		return fail(printer.StateOffline, "connection lost", p.classify(ctx, err))
	}
	var reply []byte
	buf := make([]byte, 512)
	for !zpl.HostStatusComplete(reply) {
		n, err := c.Read(buf)
		reply = append(reply, buf[:n]...)
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return fail(printer.StateUnknown, "", ctx.Err())
		}
		if h, perr := zpl.ParseHostStatus(reply); perr == nil {
			return h.Status(now), nil // two strings, then silence or close: enough
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return fail(printer.StateUnknown, zpl.ReasonNoReply,
				fmt.Errorf("%s: %w", zpl.ReasonNoReply, printer.ErrNoStatus))
		}
		return fail(printer.StateOffline, "connection lost", p.classify(ctx, err))
	}
	h, err := zpl.ParseHostStatus(reply)
	if err != nil {
		return fail(printer.StateUnknown, "unreadable ~HS reply", err)
	}
	return h.Status(now), nil
}
