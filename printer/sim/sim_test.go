package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"printdock/printer"
	"printdock/printer/zpl"
)

const label = "^XA^LL406^FO50,50^A0N,50,50^FDHello^FS^XZ\n"

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestWritePrints(t *testing.T) {
	ctx := testCtx(t)
	p := New("t1")
	job := []byte(label + label + label)
	if err := p.Write(ctx, job); err != nil {
		t.Fatal(err)
	}
	jobs, err := p.WaitJobs(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || !bytes.Equal(jobs[0].Data, job) || jobs[0].Labels != 3 || jobs[0].Seq != 1 ||
		jobs[0].Interrupted || jobs[0].Via != "direct" {
		t.Fatalf("jobs = %+v", jobs)
	}
	if p.Labels() != 3 || p.Pending() != 0 {
		t.Fatalf("labels %d pending %d", p.Labels(), p.Pending())
	}
	st, err := p.Status(ctx)
	if err != nil || st.State != printer.StateReady {
		t.Fatalf("status %+v, %v", st, err)
	}
	if got := p.Info(); got.ID != "sim://t1" || got.Language != printer.LangZPL || !got.Bidirectional {
		t.Fatalf("info %+v", got)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestConditions(t *testing.T) {
	tests := []struct {
		name     string
		set      func(p *Printer, v bool)
		state    printer.State
		silent   bool
		sentinel error
	}{
		{"media out", (*Printer).SetMediaOut, printer.StateMediaOut, true, nil},
		{"head open", (*Printer).SetHeadOpen, printer.StateHeadOpen, true, nil},
		{"paused", (*Printer).SetPaused, printer.StatePaused, false, printer.ErrPaused},
		{"ribbon out", (*Printer).SetRibbonOut, printer.StateRibbonOut, false, printer.ErrRibbonOut},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			p := New(tt.name)
			tt.set(p, true)
			if err := p.Write(ctx, []byte(label)); err != nil {
				t.Fatal(err)
			}
			if p.Pending() != 1 || len(p.Jobs()) != 0 {
				t.Fatalf("printed while %s: pending %d jobs %d", tt.name, p.Pending(), len(p.Jobs()))
			}
			st, err := p.Status(ctx)
			if tt.silent {
				if !errors.Is(err, printer.ErrNoStatus) || st.State != printer.StateUnknown || st.Reason != zpl.ReasonNoReply {
					t.Fatalf("status %+v, %v; want silent", st, err)
				}
				// What it would say if it spoke:
				if got := p.HostStatus().Status(time.Now()).State; got != tt.state {
					t.Fatalf("host status state %s, want %s", got, tt.state)
				}
			} else {
				if err != nil || st.State != tt.state || !errors.Is(st.Err(), tt.sentinel) || st.LabelsRemaining != 1 {
					t.Fatalf("status %+v, %v; want %s", st, err, tt.state)
				}
			}
			tt.set(p, false)
			jobs, err := p.WaitJobs(ctx, 1)
			if err != nil || jobs[0].Labels != 1 {
				t.Fatalf("after clearing: %+v, %v", jobs, err)
			}
			if st, err := p.Status(ctx); err != nil || st.State != printer.StateReady {
				t.Fatalf("status %+v, %v", st, err)
			}
		})
	}
}

func TestUnplugReplug(t *testing.T) {
	ctx := testCtx(t)
	p := New("unplug")
	p.Unplug()
	err := p.Write(ctx, []byte(label))
	if !errors.Is(err, printer.ErrDisconnected) {
		t.Fatalf("write while unplugged: %v", err)
	}
	if n, ok := printer.Written(err); !ok || n != 0 {
		t.Fatalf("written = %d, %v", n, ok)
	}
	if st, err := p.Status(ctx); !errors.Is(err, printer.ErrDisconnected) || st.State != printer.StateOffline {
		t.Fatalf("status while unplugged: %+v, %v", st, err)
	}
	p.Replug()
	if err := p.Write(ctx, []byte(label)); err != nil {
		t.Fatal(err)
	}
	if jobs, err := p.WaitJobs(ctx, 1); err != nil || len(jobs) != 1 {
		t.Fatal(jobs, err)
	}
}

func TestUnplugMidJob(t *testing.T) {
	ctx := testCtx(t)
	p := New("midjob")
	job := []byte(label + label + label)
	p.UnplugAfter(len(label)*2 + 5) // two whole labels and a bit of the third arrive
	err := p.Write(ctx, job)
	if !errors.Is(err, printer.ErrDisconnected) {
		t.Fatalf("err = %v", err)
	}
	if n, _ := printer.Written(err); n != len(label)*2+5 {
		t.Fatalf("written %d", n)
	}
	if p.Plugged() {
		t.Fatal("still plugged")
	}
	jobs, err := p.WaitJobs(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !jobs[0].Interrupted || jobs[0].Labels != 2 || !bytes.Equal(jobs[0].Data, job[:len(label)*2+5]) {
		t.Fatalf("interrupted job = %+v", jobs[0])
	}
	p.Replug()
	// A job of exactly the budget completes.
	p.UnplugAfter(len(label))
	if err := p.Write(ctx, []byte(label)); err != nil {
		t.Fatal(err)
	}
	if !p.Plugged() {
		t.Fatal("unplugged by an exact-size job")
	}
	p.UnplugAfter(-1)
}

func TestSlowPrinting(t *testing.T) {
	ctx := testCtx(t)
	p := New("slow")
	p.SetSpeed(1e-6) // effectively never finishes
	if err := p.Write(ctx, []byte(label+label)); err != nil {
		t.Fatal(err)
	}
	st, err := p.Status(ctx)
	if err != nil || st.State != printer.StateBusy || st.LabelsRemaining != 2 {
		t.Fatalf("status %+v, %v", st, err)
	}
	if h := p.HostStatus(); h.FormatsInBuffer != 2 {
		t.Fatalf("formats in buffer %d", h.FormatsInBuffer)
	}
	p.Reset()
	p.SetSpeed(1000) // 406 dots ≈ 2 in per label: a few ms
	if err := p.Write(ctx, []byte(label)); err != nil {
		t.Fatal(err)
	}
	if err := p.Write(ctx, []byte(label+label)); err != nil {
		t.Fatal(err)
	}
	jobs, err := p.WaitJobs(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if jobs[0].Labels != 1 || jobs[1].Labels != 2 || jobs[0].Seq != 1 || jobs[1].Seq != 2 {
		t.Fatalf("jobs %+v", jobs)
	}
	if err := p.WaitLabels(ctx, 3); err != nil {
		t.Fatal(err)
	}
}

func TestWaitRespectsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := New("w").WaitJobs(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if err := New("w").Write(ctx, []byte(label)); !errors.Is(err, context.Canceled) {
		t.Fatalf("write err = %v", err)
	}
}

func TestNamed(t *testing.T) {
	name := fmt.Sprint("named-test-", time.Now().UnixNano())
	if _, ok := Lookup(name); ok {
		t.Fatal("exists before Named")
	}
	a := Named(name)
	b := Named(name)
	c, ok := Lookup(name)
	if a != b || a != c || !ok {
		t.Fatal("Named does not return the same printer")
	}
}

// dialJob sends data on a fresh connection, half-closes and returns what the server sent back.
func dialJob(t *testing.T, addr string, data []byte) ([]byte, error) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := c.Write(data); err != nil {
		return nil, err
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return nil, err
	}
	return io.ReadAll(c)
}

func TestTCPJobsAndStatus(t *testing.T) {
	ctx := testCtx(t)
	srv, err := Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	p := srv.Printer()
	if srv.URI() != "tcp://"+srv.Addr() {
		t.Fatal(srv.URI())
	}

	// A job: received on close, printed.
	job := bytes.Repeat([]byte(label), 100)
	if back, err := dialJob(t, srv.Addr(), job); err != nil || len(back) != 0 {
		t.Fatalf("job: %q, %v", back, err)
	}
	jobs, err := p.WaitJobs(ctx, 1)
	if err != nil || !bytes.Equal(jobs[0].Data, job) || jobs[0].Labels != 100 || jobs[0].Via != "tcp" {
		t.Fatalf("jobs %v, %v", len(jobs), err)
	}

	// ~HS is answered and is not a job; ~HS inside a job is answered and removed from it.
	back, err := dialJob(t, srv.Addr(), []byte("~HS"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := zpl.ParseHostStatus(back)
	if err != nil || h.Status(time.Now()).State != printer.StateReady {
		t.Fatalf("~HS reply %q: %+v, %v", back, h, err)
	}
	back, err = dialJob(t, srv.Addr(), []byte("^XA^FDa~HS^FS^XZ"))
	if err != nil || !zpl.HostStatusComplete(back) {
		t.Fatalf("inline ~HS reply %q, %v", back, err)
	}
	jobs, err = p.WaitJobs(ctx, 2)
	if err != nil || len(jobs) != 2 || string(jobs[1].Data) != "^XA^FDa^FS^XZ" {
		t.Fatalf("jobs %+v, %v", jobs, err)
	}

	// Media out: silent to ~HS, and the job waits.
	p.SetMediaOut(true)
	before := p.StatusRequests()
	back, err = dialJob(t, srv.Addr(), []byte("~HS"))
	if err != nil || len(back) != 0 || p.StatusRequests() != before+1 {
		t.Fatalf("media out ~HS: %q, %v", back, err)
	}
	if _, err := dialJob(t, srv.Addr(), []byte(label)); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitPending(ctx, 1); err != nil {
		t.Fatal(err)
	}
	p.SetMediaOut(false)
	if _, err := p.WaitJobs(ctx, 3); err != nil {
		t.Fatal(err)
	}
}

func TestTCPUnplugMidJob(t *testing.T) {
	ctx := testCtx(t)
	p := New("tcp-unplug")
	srv, err := p.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	job := bytes.Repeat([]byte(label), 1000)
	p.UnplugAfter(len(label) * 10)
	if _, err := dialJob(t, srv.Addr(), job); err == nil {
		t.Fatal("no error from a connection dropped mid-job")
	}
	jobs, err := p.WaitJobs(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !jobs[0].Interrupted || jobs[0].Labels != 10 || !bytes.Equal(jobs[0].Data, job[:len(label)*10]) {
		t.Fatalf("job: interrupted %v labels %d len %d", jobs[0].Interrupted, jobs[0].Labels, len(jobs[0].Data))
	}
	// Unplugged: new connections are reset.
	if _, err := dialJob(t, srv.Addr(), []byte(label)); err == nil {
		t.Fatal("unplugged printer accepted a job")
	}
	p.Replug()
	if _, err := dialJob(t, srv.Addr(), []byte(label)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.WaitJobs(ctx, 2); err != nil {
		t.Fatal(err)
	}
}

func TestTCPUnplugDuringOpenConnection(t *testing.T) {
	ctx := testCtx(t)
	p := New("tcp-unplug-open")
	srv, err := p.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(label + "~HS")); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitStatusRequests(ctx, 1); err != nil { // the label has been read too
		t.Fatal(err)
	}
	p.Unplug()
	if _, err := io.ReadAll(c); err == nil {
		// The ~HS reply may arrive before the reset; either way the connection must not end cleanly.
		t.Log("connection ended with EOF after reply")
	}
	jobs, err := p.WaitJobs(ctx, 1)
	if err != nil || !jobs[0].Interrupted || jobs[0].Labels != 1 {
		t.Fatalf("jobs %+v, %v", jobs, err)
	}
}

func TestServerStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	srv, err := Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	// Close after the context's AfterFunc ran (or races with it) must be safe and wait for the listener.
	_ = srv.Close()
	if c, err := net.Dial("tcp", srv.Addr()); err == nil {
		c.Close()
		t.Fatal("still listening")
	}
}

func BenchmarkSimWriteTCP(b *testing.B) {
	ctx := b.Context()
	srv, err := Listen(ctx, "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	job := bytes.Repeat([]byte(label), 50)
	b.SetBytes(int64(len(job)))
	n := 0
	for b.Loop() {
		if n++; n%1024 == 0 {
			srv.Printer().Reset()
		}
		c, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Write(job); err != nil {
			b.Fatal(err)
		}
		_ = c.(*net.TCPConn).CloseWrite()
		_, _ = io.ReadAll(c)
		c.Close()
	}
}

func BenchmarkSimWriteDirect(b *testing.B) {
	ctx := b.Context()
	p := New("bench")
	job := bytes.Repeat([]byte(label), 50)
	b.SetBytes(int64(len(job)))
	n := 0
	for b.Loop() {
		if n++; n%1024 == 0 {
			p.Reset() // keep memory flat
		}
		if err := p.Write(ctx, job); err != nil {
			b.Fatal(err)
		}
	}
}
