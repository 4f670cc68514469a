package netraw

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"printdock/printer"
	"printdock/printer/sim"
	"printdock/printer/zpl"
)

const label = "^XA^FO50,50^A0N,50,50^FDHello^FS^XZ\n"

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestParseURI(t *testing.T) {
	tests := []struct {
		in, addr, canon string
		wantErr         bool
	}{
		{in: "tcp://10.0.0.5", addr: "10.0.0.5:9100", canon: "tcp://10.0.0.5:9100"},
		{in: "tcp://10.0.0.5:9101", addr: "10.0.0.5:9101", canon: "tcp://10.0.0.5:9101"},
		{in: "TCP://Printer.Local:9100/", addr: "printer.local:9100", canon: "tcp://printer.local:9100"},
		{in: "tcp://[fe80::1]:9100", addr: "[fe80::1]:9100", canon: "tcp://[fe80::1]:9100"},
		{in: "tcp://[::1]", addr: "[::1]:9100", canon: "tcp://[::1]:9100"},
		{in: "tcp://", wantErr: true},
		{in: "tcp://host:", wantErr: true},
		{in: "http://host:9100", wantErr: true},
		{in: "tcp://host/queue", wantErr: true},
		{in: "tcp://user@host", wantErr: true},
		{in: "tcp://host?x=1", wantErr: true},
		{in: "host:9100", wantErr: true},
		{in: "tcp://ho st", wantErr: true},
	}
	for _, tt := range tests {
		addr, canon, err := ParseURI(tt.in)
		if tt.wantErr {
			if !errors.Is(err, ErrBadURI) {
				t.Errorf("%q: err = %v, want ErrBadURI", tt.in, err)
			}
			continue
		}
		if err != nil || addr != tt.addr || canon != tt.canon {
			t.Errorf("%q: got %q %q %v; want %q %q", tt.in, addr, canon, err, tt.addr, tt.canon)
		}
	}
}

func newSim(t *testing.T) (*sim.Printer, *Printer) {
	t.Helper()
	ctx := testCtx(t)
	srv, err := sim.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	p, err := New(srv.URI(), Options{StatusTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if p.Info().ID != srv.URI() {
		t.Fatalf("ID %q != %q", p.Info().ID, srv.URI())
	}
	return srv.Printer(), p
}

func TestWriteAndStatus(t *testing.T) {
	ctx := testCtx(t)
	s, p := newSim(t)
	job := bytes.Repeat([]byte(label), 5000) // ~190 KB: several chunks
	if err := p.Write(ctx, job); err != nil {
		t.Fatal(err)
	}
	jobs, err := s.WaitJobs(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(jobs[0].Data, job) || jobs[0].Labels != 5000 || jobs[0].Interrupted {
		t.Fatalf("job: %d bytes, %d labels", len(jobs[0].Data), jobs[0].Labels)
	}
	st, err := p.Status(ctx)
	if err != nil || st.State != printer.StateReady || st.CheckedAt.IsZero() {
		t.Fatalf("status %+v, %v", st, err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestStatusConditions(t *testing.T) {
	tests := []struct {
		name   string
		set    func(*sim.Printer)
		state  printer.State
		err    error
		reason string
	}{
		{"paused", func(s *sim.Printer) { s.SetPaused(true) }, printer.StatePaused, nil, ""},
		{"ribbon out", func(s *sim.Printer) { s.SetRibbonOut(true) }, printer.StateRibbonOut, nil, ""},
		{"media out is silent", func(s *sim.Printer) { s.SetMediaOut(true) }, printer.StateUnknown, printer.ErrNoStatus, zpl.ReasonNoReply},
		{"head open is silent", func(s *sim.Printer) { s.SetHeadOpen(true) }, printer.StateUnknown, printer.ErrNoStatus, zpl.ReasonNoReply},
		{"unplugged", func(s *sim.Printer) { s.Unplug() }, printer.StateOffline, printer.ErrDisconnected, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			s, p := newSim(t)
			tt.set(s)
			st, err := p.Status(ctx)
			if tt.err == nil && err != nil || tt.err != nil && !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if st.State != tt.state {
				t.Fatalf("state %s, want %s", st.State, tt.state)
			}
			if tt.reason != "" && st.Reason != tt.reason {
				t.Fatalf("reason %q, want %q", st.Reason, tt.reason)
			}
			if st.State != printer.StateReady && st.Reason == "" {
				t.Fatal("no reason")
			}
		})
	}
}

func TestWriteUnplugged(t *testing.T) {
	ctx := testCtx(t)
	s, p := newSim(t)
	s.Unplug()
	err := p.Write(ctx, []byte(label))
	if !errors.Is(err, printer.ErrDisconnected) {
		t.Fatalf("err = %v", err)
	}
	if _, ok := printer.Written(err); !ok {
		t.Fatal("no WriteError")
	}
	s.Replug()
	if err := p.Write(ctx, []byte(label)); err != nil {
		t.Fatal(err)
	}
	if jobs, err := s.WaitJobs(ctx, 1); err != nil || len(jobs) != 1 || jobs[0].Interrupted {
		t.Fatalf("%+v %v", jobs, err)
	}
}

func TestWriteUnplugMidJob(t *testing.T) {
	ctx := testCtx(t)
	s, p := newSim(t)
	job := bytes.Repeat([]byte(label), 2000)
	s.UnplugAfter(len(label) * 7)
	err := p.Write(ctx, job)
	if !errors.Is(err, printer.ErrDisconnected) {
		t.Fatalf("err = %v", err)
	}
	if n, ok := printer.Written(err); !ok || n < len(label)*7 {
		t.Fatalf("written %d, %v", n, ok)
	}
	jobs, err := s.WaitJobs(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !jobs[0].Interrupted || jobs[0].Labels != 7 {
		t.Fatalf("job interrupted=%v labels=%d", jobs[0].Interrupted, jobs[0].Labels)
	}
}

func TestWriteRefused(t *testing.T) {
	ctx := testCtx(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p, err := New("tcp://"+addr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Write(ctx, []byte(label))
	if n, ok := printer.Written(err); !errors.Is(err, printer.ErrDisconnected) || !ok || n != 0 {
		t.Fatalf("err = %v (written %d)", err, n)
	}
	st, err := p.Status(ctx)
	if !errors.Is(err, printer.ErrDisconnected) || st.State != printer.StateOffline {
		t.Fatalf("status %+v, %v", st, err)
	}
}

// rawServer accepts one connection and hands it to fn.
func rawServer(t *testing.T, fn func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		fn(c)
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return "tcp://" + ln.Addr().String()
}

func TestWriteCancel(t *testing.T) {
	accepted := make(chan struct{})
	release := make(chan struct{})
	uri := rawServer(t, func(c net.Conn) {
		close(accepted)
		<-release // never reads: the client's socket buffer fills
	})
	defer close(release)
	p, err := New(uri, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(testCtx(t))
	go func() { <-accepted; cancel() }()
	err = p.Write(ctx, make([]byte, 64<<20))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestWriteDeadline(t *testing.T) {
	release := make(chan struct{})
	uri := rawServer(t, func(c net.Conn) { <-release })
	defer close(release)
	p, err := New(uri, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(testCtx(t), 200*time.Millisecond)
	defer cancel()
	if err := p.Write(ctx, make([]byte, 64<<20)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

func TestWritePrinterKeepsConnectionOpen(t *testing.T) {
	got := make(chan []byte, 1)
	release := make(chan struct{})
	uri := rawServer(t, func(c net.Conn) {
		b, _ := io.ReadAll(c) // reads to the client's half-close, then does not close
		got <- b
		<-release
	})
	defer close(release)
	p, err := New(uri, Options{DrainTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Write(testCtx(t), []byte(label)); err != nil {
		t.Fatal(err)
	}
	if b := <-got; string(b) != label {
		t.Fatalf("server read %q", b)
	}
}

func TestStatusPartialAndGarbage(t *testing.T) {
	tests := []struct {
		name  string
		reply string
		close bool
		state printer.State
		err   error
	}{
		{"two strings then silence", "\x02030,0,1,1218,000,0,0,0,000,0,0,0\x03\r\n\x02001,0,0,0,1,2,6,0,00000000,1,000\x03\r\n", false, printer.StatePaused, nil},
		{"one string then close", "\x02030,0,1,1218,000,0,0,0,000,0,0,0\x03\r\n", true, printer.StateOffline, printer.ErrDisconnected},
		{"garbage", "\x02x\x03\x02y\x03\x02z\x03", false, printer.StateUnknown, zpl.ErrBadHostStatus},
		{"nothing, closed", "", true, printer.StateOffline, printer.ErrDisconnected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			uri := rawServer(t, func(c net.Conn) {
				buf := make([]byte, 3)
				if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "~HS" {
					return
				}
				c.Write([]byte(tt.reply))
				if !tt.close {
					<-release
				}
			})
			defer close(release)
			p, err := New(uri, Options{StatusTimeout: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			st, err := p.Status(testCtx(t))
			if tt.err == nil && err != nil || tt.err != nil && !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if st.State != tt.state {
				t.Fatalf("state %s, want %s", st.State, tt.state)
			}
		})
	}
}

func BenchmarkNetrawWriteToSim(b *testing.B) {
	srv, err := sim.Listen(b.Context(), "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	p, err := New(srv.URI(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	job := bytes.Repeat([]byte(label), 50)
	b.SetBytes(int64(len(job)))
	n := 0
	for b.Loop() {
		if n++; n%1024 == 0 {
			srv.Printer().Reset()
		}
		if err := p.Write(b.Context(), job); err != nil {
			b.Fatal(err)
		}
	}
}
