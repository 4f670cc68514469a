package agent

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"printdock/agent/localapi"
	"printdock/internal/testenv"
	"printdock/printer"
	"printdock/printer/registry"
	"printdock/printer/sim"
	"printdock/protocol"
)

// gatedPrinter holds every Write until its gate is opened (a job caught while it prints).
type gatedPrinter struct {
	printer.Printer
	gate chan struct{}
}

func (g gatedPrinter) Write(ctx context.Context, data []byte) error {
	select {
	case <-g.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.Printer.Write(ctx, data)
}

// cancelRig is an agent with an in-process sim printer talking to a scripted server.
type cancelRig struct {
	s    *scriptedServer
	a    *testAgent
	pid  string
	sim  *sim.Printer
	gate chan struct{}
}

func newCancelRig(t *testing.T, gated bool) *cancelRig {
	r := &cancelRig{s: newScriptedServer(t), gate: make(chan struct{})}
	if !gated {
		close(r.gate)
	}
	r.a = newTestAgent(t, func(c *Config) {
		c.Heartbeat = time.Second // a dead link after 3 s: never under a loaded CI machine
		c.PrinterPoll = 100 * time.Millisecond
		c.PrinterRetryMin = 10 * time.Millisecond
		c.PrinterRetryMax = 100 * time.Millisecond
		c.OpenPrinter = func(ctx context.Context, uri string) (printer.Printer, error) {
			p, err := registry.Open(ctx, uri)
			if err != nil {
				return nil, err
			}
			return gatedPrinter{Printer: p, gate: r.gate}, nil
		}
	})
	r.a.start(t)
	if _, err := r.a.Login(context.Background(), r.s.URL, mustSecret(t, protocol.KindPrintClient), ""); err != nil {
		t.Fatal(err)
	}
	r.pid = r.a.cfg.Printers[0]
	r.sim, _ = sim.Lookup(strings.TrimPrefix(r.pid, "sim://"))
	// The printer has answered ~HS once: from now on its silence means media out or head open.
	testenv.WaitFor(t, "the printer to be ready", func() bool {
		ps := r.a.printers.snapshot()
		return len(ps) == 1 && ps[0].State == string(printer.StateReady)
	})
	return r
}

func (r *cancelRig) job(id, text string) {
	r.s.jobs <- protocol.Job{JobID: id, PrinterID: r.pid, Content: label(text), Copies: 1}
}

func (r *cancelRig) wait(t *testing.T, id, state string) protocol.JobStatus {
	t.Helper()
	var st protocol.JobStatus
	testenv.WaitFor(t, id+" "+state, func() bool {
		var ok bool
		st, ok = r.s.status(id, state)
		return ok
	})
	return st
}

// printed reports the texts the sim printer printed.
func (r *cancelRig) printed() []string {
	var out []string
	for _, j := range r.sim.Jobs() {
		out = append(out, string(j.Data))
	}
	return out
}

func TestCancel(t *testing.T) {
	t.Run("before write: cancelled, never printed after media returns", func(t *testing.T) {
		r := newCancelRig(t, false)
		r.s.mu.Lock()
		features := r.s.hello.Features
		r.s.mu.Unlock()
		if !slices.Contains(features, protocol.FeatureCancel) {
			t.Fatalf("hello features %v lack %q", features, protocol.FeatureCancel)
		}
		r.sim.SetMediaOut(true)
		r.job("j1", "one")
		if st := r.wait(t, "j1", protocol.JobFailed); !st.Retry || st.Reason != ReasonNotAnswering {
			t.Fatalf("waiting status: %+v", st)
		}
		r.s.jobs <- protocol.Cancel{JobID: "j1"}
		if st := r.wait(t, "j1", protocol.JobCancelled); st.Reason != reasonCancelled {
			t.Fatalf("cancelled status: %+v", st)
		}
		r.sim.SetMediaOut(false)
		r.job("j2", "two")
		r.wait(t, "j2", protocol.JobDone)
		if got := r.printed(); len(got) != 1 || got[0] != string(label("two")) {
			t.Fatalf("printed %q, want only the second job", got)
		}
		js, _ := r.a.Client().Jobs(context.Background())
		for _, j := range js {
			if j.ID == "j1" && j.State != localapi.JobCancelled {
				t.Fatalf("local API: %+v", j)
			}
		}
	})
	t.Run("while printing or done: too late", func(t *testing.T) {
		r := newCancelRig(t, true)
		r.job("j3", "three")
		r.wait(t, "j3", protocol.JobPrinting)
		r.s.jobs <- protocol.Cancel{JobID: "j3"}
		testenv.WaitFor(t, "a too-late answer", func() bool {
			st, ok := r.s.status("j3", protocol.JobPrinting)
			return ok && strings.HasPrefix(st.Reason, "too late to cancel")
		})
		close(r.gate)
		r.wait(t, "j3", protocol.JobDone)
		r.s.jobs <- protocol.Cancel{JobID: "j3"}
		testenv.WaitFor(t, "a too-late answer for a done job", func() bool {
			st, ok := r.s.status("j3", protocol.JobDone)
			return ok && st.Reason == "too late to cancel: the job was already printed"
		})
		if _, ok := r.s.status("j3", protocol.JobCancelled); ok || len(r.printed()) != 1 {
			t.Fatalf("cancelled after printing, or printed %d times", len(r.printed()))
		}
	})
}

// A job waiting on its printer is discarded through the local API: reported cancelled, never printed.
func TestDiscardViaLocalAPI(t *testing.T) {
	r := newCancelRig(t, false)
	c := r.a.Client()
	defer c.Close()
	r.sim.SetPaused(true)
	r.job("j5", "five")
	r.wait(t, "j5", protocol.JobFailed)
	j, err := c.DiscardJob(context.Background(), "j5")
	if err != nil || j.State != localapi.JobCancelled {
		t.Fatalf("discard: %+v %v", j, err)
	}
	r.wait(t, "j5", protocol.JobCancelled)
	if _, err := c.DiscardJob(context.Background(), "j5"); localapi.ErrorCode(err) != localapi.CodeTooLate {
		t.Fatalf("discarding twice: %v", err)
	}
	if _, err := c.DiscardJob(context.Background(), "nope"); localapi.ErrorCode(err) != localapi.CodeNotFound {
		t.Fatalf("discarding an unknown job: %v", err)
	}
	r.sim.SetPaused(false)
	r.job("j6", "six")
	r.wait(t, "j6", protocol.JobDone)
	if _, err := c.DiscardJob(context.Background(), "j6"); localapi.ErrorCode(err) != localapi.CodeTooLate {
		t.Fatalf("discarding a printed job: %v", err)
	}
	if got := r.printed(); len(got) != 1 || !bytes.Equal([]byte(got[0]), label("six")) {
		t.Fatalf("printed %q", got)
	}
}
