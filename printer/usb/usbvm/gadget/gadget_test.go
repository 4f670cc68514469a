package gadget

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"printdock/printer/zpl"
)

func TestHSFilter(t *testing.T) {
	tests := []struct {
		name   string
		pieces []string
		want   string
		hs     int
	}{
		{"none", []string{"^XA^XZ"}, "^XA^XZ", 0},
		{"alone", []string{"~HS"}, "", 1},
		{"lower case", []string{"~hs"}, "", 1},
		{"inside", []string{"^XA~HS^XZ"}, "^XA^XZ", 1},
		{"split after tilde", []string{"^XA~", "HS^XZ"}, "^XA^XZ", 1},
		{"split after H", []string{"^XA~H", "S^XZ"}, "^XA^XZ", 1},
		{"split three ways", []string{"~", "H", "S"}, "", 1},
		{"other tilde command", []string{"~JA~HS"}, "~JA", 1},
		{"tilde then H then other", []string{"~H", "Q"}, "~HQ", 0},
		{"two", []string{"~HS~HS"}, "", 2},
		{"trailing tilde flushed", []string{"abc~"}, "abc~", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f hsFilter
			var got []byte
			hs := 0
			for _, p := range tt.pieces {
				out, n := f.feed([]byte(p))
				got = append(got, out...)
				hs += n
			}
			got = append(got, f.flush()...)
			if string(got) != tt.want || hs != tt.hs {
				t.Fatalf("got %q, %d ~HS; want %q, %d", got, hs, tt.want, tt.hs)
			}
		})
	}
}

func TestRecorderJobsAcrossPieces(t *testing.T) {
	var r recorder
	log := slog.New(slog.DiscardHandler)
	for _, p := range []string{"^XA^FDone^FS^", "X", "Z^xa^FDtwo^FS^x", "z^XA^FDopen"} {
		r.add([]byte(p), log)
	}
	if r.jobs != 2 {
		t.Fatalf("jobs = %d, want 2", r.jobs)
	}
	if got := string(r.take()); got != "^XA^FDone^FS^XZ^xa^FDtwo^FS^xz^XA^FDopen" {
		t.Fatalf("take = %q", got)
	}
	if len(r.take()) != 0 {
		t.Fatal("second take not empty")
	}
}

// fakePort is the USB side of the printer for tests on any machine: each plug makes a new in-memory
// pipe whose far end plays the host.
type fakePort struct {
	mu      sync.Mutex
	plugged bool
	id      Identity
	host    chan net.Conn
	status  []byte
}

type pipeDevice struct {
	net.Conn
	port *fakePort
}

func (d pipeDevice) SetPortStatus(s byte) error {
	d.port.mu.Lock()
	defer d.port.mu.Unlock()
	d.port.status = append(d.port.status, s)
	return nil
}

func (p *fakePort) Plug() error   { p.mu.Lock(); p.plugged = true; p.mu.Unlock(); return nil }
func (p *fakePort) Unplug() error { p.mu.Lock(); p.plugged = false; p.mu.Unlock(); return nil }
func (p *fakePort) SetIdentity(id Identity) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.plugged {
		return errors.New("plugged")
	}
	p.id = id
	return nil
}
func (p *fakePort) Open(ctx context.Context) (Device, error) {
	dev, host := net.Pipe()
	select {
	case p.host <- host:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return pipeDevice{dev, p}, nil
}

func (p *fakePort) lastStatus() byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.status) == 0 {
		return 0
	}
	return p.status[len(p.status)-1]
}

func startPrinter(t *testing.T) (*Printer, *fakePort, *Client) {
	t.Helper()
	port := &fakePort{host: make(chan net.Conn, 1)}
	p := New(port, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	dir, err := os.MkdirTemp("", "gadget") // short: unix socket paths are limited to 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "ctl.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = p.Run(ctx) })
	wg.Go(func() { _ = p.Serve(ctx, l) })
	c, err := Dial(ctx, sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		cancel()
		wg.Wait()
		os.RemoveAll(dir)
	})
	return p, port, c
}

func hostEnd(t *testing.T, port *fakePort) net.Conn {
	t.Helper()
	select {
	case h := <-port.host:
		return h
	case <-time.After(5 * time.Second):
		t.Fatal("printer never plugged in")
	}
	return nil
}

func TestPrinterOverControlSocket(t *testing.T) {
	ctx := t.Context()
	_, port, c := startPrinter(t)
	host := hostEnd(t, port)
	if _, err := c.WaitFor(ctx, func(s State) bool { return s.Plugged }); err != nil {
		t.Fatal(err)
	}
	if got := port.lastStatus(); got != PortNotError|PortSelected {
		t.Fatalf("port status %#02x, want selected and no error", got)
	}

	// A job with a ~HS inside it: the job is recorded without it, the ~HS is answered.
	if _, err := host.Write([]byte("^XA^FDhello^FS^XZ~H")); err != nil {
		t.Fatal(err)
	}
	if _, err := host.Write([]byte("S")); err != nil {
		t.Fatal(err)
	}
	reply := readReply(t, host)
	h, err := zpl.ParseHostStatus(reply)
	if err != nil || h.PaperOut || h.Paused || !zpl.HostStatusComplete(reply) {
		t.Fatalf("~HS reply %q: %+v, %v", reply, h, err)
	}
	data, err := c.Take(ctx)
	if err != nil || string(data) != "^XA^FDhello^FS^XZ" {
		t.Fatalf("take = %q, %v", data, err)
	}
	s, _ := c.State(ctx)
	if s.Jobs != 1 || s.HSAnswered != 1 || s.Received != 17 {
		t.Fatalf("state %+v", s)
	}

	// Out of media: paper-empty in the port status, and silence to ~HS.
	if _, err := c.Do(ctx, OpMediaOut, 0); err != nil {
		t.Fatal(err)
	}
	if got := port.lastStatus(); got != PortPaperEmpty|PortSelected {
		t.Fatalf("port status %#02x, want paper empty", got)
	}
	if _, err := host.Write([]byte("~HS")); err != nil {
		t.Fatal(err)
	}
	_ = host.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := host.Read(make([]byte, 64)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("media out: read %d bytes, %v; want silence", n, err)
	}
	if s, _ := c.State(ctx); s.HSIgnored != 1 || !s.MediaOut {
		t.Fatalf("state %+v", s)
	}
	if _, err := c.Do(ctx, OpMediaIn, 0); err != nil {
		t.Fatal(err)
	}

	// Paused: ~HS says so, the port status drops the select bit.
	if _, err := c.Do(ctx, OpPause, 0); err != nil {
		t.Fatal(err)
	}
	if got := port.lastStatus(); got != PortNotError {
		t.Fatalf("paused port status %#02x", got)
	}
	if _, err := host.Write([]byte("~HS")); err != nil {
		t.Fatal(err)
	}
	if h, err := zpl.ParseHostStatus(readReply(t, host)); err != nil || !h.Paused {
		t.Fatalf("paused ~HS: %+v, %v", h, err)
	}
	if _, err := c.Do(ctx, OpUnpause, 0); err != nil {
		t.Fatal(err)
	}

	// Cable pulled mid-job, then plugged back in.
	if _, err := c.Do(ctx, OpUnplugAfter, 4); err != nil {
		t.Fatal(err)
	}
	if _, err := host.Write([]byte("^XA^FD")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitFor(ctx, func(s State) bool { return !s.Plugged }); err != nil {
		t.Fatal(err)
	}
	if _, err := host.Write([]byte("more")); err == nil {
		t.Fatal("write after unplug succeeded")
	}
	if r, err := c.Do(ctx, OpPlug, 0); err != nil || !r.State.Plugged || r.State.Plugs != 2 || r.State.Unplugs != 1 {
		t.Fatalf("plug: %+v, %v", r.State, err)
	}
	host = hostEnd(t, port)
	if _, err := host.Write([]byte("^XZ")); err != nil {
		t.Fatal(err)
	}
	if s, err := c.WaitFor(ctx, func(s State) bool { return s.Jobs == 2 }); err != nil {
		t.Fatal(err, s)
	}
	if r, err := c.Do(ctx, "bogus", 0); err == nil || r.Error == "" {
		t.Fatalf("unknown op: %+v, %v", r, err)
	}
}

func readReply(t *testing.T, host net.Conn) []byte {
	t.Helper()
	_ = host.SetReadDeadline(time.Now().Add(5 * time.Second))
	var reply []byte
	buf := make([]byte, 256)
	for !zpl.HostStatusComplete(reply) {
		n, err := host.Read(buf)
		reply = append(reply, buf[:n]...)
		if err != nil && !errors.Is(err, io.EOF) {
			t.Fatalf("read ~HS reply: %v (got %q)", err, reply)
		}
	}
	return bytes.Clone(reply)
}
