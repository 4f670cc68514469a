package agent

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"printdock/agent/localapi"
	"printdock/agent/spool"
	"printdock/internal/testenv"
	"printdock/printer"
	"printdock/printer/netraw"
	"printdock/printer/registry"
	"printdock/printer/sim"
	"printdock/protocol"
	"printdock/server/jobs"
	"printdock/server/servertest"
)

// End-to-end print jobs: a real in-process server (REST submission, hub delivery), a real agent with its
// spool, and a simulated Zebra served over raw TCP 9100.

// quickNetraw opens tcp:// printers with short timeouts (a silent printer answers ~HS never).
func quickNetraw(ctx context.Context, uri string) (printer.Printer, error) {
	if strings.HasPrefix(uri, "tcp://") {
		return netraw.New(uri, netraw.Options{DialTimeout: time.Second, StatusTimeout: 300 * time.Millisecond, DrainTimeout: 2 * time.Second})
	}
	return registry.Open(ctx, uri)
}

// simTCP starts a simulated Zebra on a TCP port.
func simTCP(t testing.TB) *sim.Server {
	t.Helper()
	s, err := sim.Listen(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

type jobRig struct {
	ts        *testServer
	a         *testAgent
	sim       *sim.Server
	key       servertest.Key
	printerID string // the server's ID of the sim printer
}

// newJobRig starts a server, a sim printer on TCP and an agent logged in with a new print client key,
// and waits until the server lists the printer online.
func newJobRig(t *testing.T, mut func(*Config)) *jobRig {
	t.Helper()
	return newJobRigWith(t, simTCP(t), mut)
}

// newJobRigWith is newJobRig printing to the simulator s (set to a dialect, say).
func newJobRigWith(t testing.TB, s *sim.Server, mut func(*Config)) *jobRig {
	t.Helper()
	r := &jobRig{ts: newTestServer(t, serverOpts{}), sim: s}
	r.key = r.ts.CreatePrintClient(t, "dock "+t.Name())
	r.a = r.newAgent(t, "", mut)
	if _, err := r.a.Login(context.Background(), r.ts.URL, r.key.Secret, ""); err != nil {
		t.Fatalf("login: %v", err)
	}
	r.printerID = r.waitPrinter(t, true)
	return r
}

// newAgent starts an agent printing to the rig's sim printer, in dir ("" = a new state directory).
func (r *jobRig) newAgent(t testing.TB, dir string, mut func(*Config)) *testAgent {
	t.Helper()
	a := newTestAgent(t, func(c *Config) {
		if dir != "" {
			c.StateDir = dir
		}
		c.Printers = []string{r.sim.URI()}
		c.OpenPrinter = quickNetraw
		c.PrinterPoll = 200 * time.Millisecond
		c.PrinterRetryMin = 20 * time.Millisecond
		c.PrinterRetryMax = 200 * time.Millisecond
		if mut != nil {
			mut(c)
		}
	})
	a.start(t)
	return a
}

func (r *jobRig) waitPrinter(t testing.TB, online bool) string {
	t.Helper()
	var id string
	testenv.WaitFor(t, "the server to list the printer", func() bool {
		for _, p := range r.ts.Printers(t) {
			if p.URI == r.sim.URI() && p.Online == online {
				id = p.ID
				return true
			}
		}
		return false
	})
	return id
}

func (r *jobRig) submit(t *testing.T, content []byte, o servertest.JobOptions) jobs.Job {
	t.Helper()
	if o.Title == "" {
		o.Title = "label"
	}
	return r.ts.SubmitJob(t, r.printerID, content, o)
}

// waitJob polls the job on the server until cond holds.
func (r *jobRig) waitJob(t *testing.T, id, what string, cond func(jobs.Job) bool) jobs.Job {
	t.Helper()
	var j jobs.Job
	testenv.WaitFor(t, "job "+id+" "+what, func() bool {
		j = r.ts.GetJob(t, id)
		return cond(j)
	})
	return j
}

func stateIsJob(s jobs.State) func(jobs.Job) bool {
	return func(j jobs.Job) bool { return j.State == s }
}

func label(text string) []byte {
	return []byte("^XA\n^PW400\n^LL200\n^CF0,40\n^FO20,20^FD" + text + "^FS\n^XZ\n")
}

func waitSimJobs(t testing.TB, p *sim.Printer, n int) []sim.Job {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	js, err := p.WaitJobs(ctx, n)
	if err != nil {
		t.Fatalf("waiting for %d jobs at the printer (have %d): %v", n, len(p.Jobs()), err)
	}
	return js
}

func TestJobPrintsExactBytesWithCopies(t *testing.T) {
	r := newJobRig(t, nil)
	content := label("copies")
	j := r.submit(t, content, servertest.JobOptions{Copies: 3, IdempotencyKey: "order-42"})
	done := r.waitJob(t, j.ID, "done", stateIsJob(jobs.Done))
	if done.ReceivedAt == nil || done.PrintingAt == nil || done.Reason != "" {
		t.Fatalf("done job: %+v", done)
	}
	got := waitSimJobs(t, r.sim.Printer(), 3)
	for i, sj := range got {
		if !bytes.Equal(sj.Data, content) || sj.Interrupted || sj.Via != "tcp" {
			t.Fatalf("printer job %d: %q interrupted=%v", i, sj.Data, sj.Interrupted)
		}
	}
	// The same idempotency key: the same job, nothing printed again.
	again := r.submit(t, content, servertest.JobOptions{Copies: 3, IdempotencyKey: "order-42"})
	if again.ID != j.ID {
		t.Fatalf("idempotent resubmission created %s (first %s)", again.ID, j.ID)
	}
	// A later job goes through after it, so the idempotent one would have printed by now if it were sent.
	k := r.submit(t, label("after"), servertest.JobOptions{})
	r.waitJob(t, k.ID, "done", stateIsJob(jobs.Done))
	if n := len(waitSimJobs(t, r.sim.Printer(), 4)); n != 4 {
		t.Fatalf("printer has %d jobs, want 4", n)
	}

	// The local API lists the jobs from the spool, with a preview.
	c := r.a.Client()
	defer c.Close()
	js, err := c.Jobs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var found localapi.Job
	for _, x := range js {
		if x.ID == j.ID {
			found = x
		}
	}
	if found.State != protocol.JobDone || found.Copies != 3 || found.CopiesDone != 3 || !found.HasPrev || found.Title != "label" {
		t.Fatalf("local API job: %+v", found)
	}
	pv, err := c.JobPreview(context.Background(), j.ID)
	if err != nil || !bytes.HasPrefix(pv.PreviewPNG, []byte("\x89PNG")) || pv.PreviewPath == "" {
		t.Fatalf("preview: %v (%d bytes, %q)", err, len(pv.PreviewPNG), pv.PreviewPath)
	}
	if _, err := c.JobPreview(context.Background(), "job_nope"); err == nil {
		t.Fatal("preview of an unknown job")
	}
}

// A printer that cannot print: the job waits (failed, retry) with the reason, then prints once the
// printer is ready again; with policy "fail" it fails at once.
func TestJobPrinterProblems(t *testing.T) {
	cases := []struct {
		name   string
		set    func(p *sim.Printer, on bool)
		reason string
	}{
		{"media out", (*sim.Printer).SetMediaOut, ReasonNotAnswering}, // a Zebra out of media is silent
		{"head open", (*sim.Printer).SetHeadOpen, ReasonNotAnswering},
		{"paused", (*sim.Printer).SetPaused, "printer paused"},
		{"ribbon out", (*sim.Printer).SetRibbonOut, "printer ribbon out"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newJobRig(t, nil)
			p := r.sim.Printer()
			tc.set(p, true)
			content := label(tc.name)
			j := r.submit(t, content, servertest.JobOptions{})
			w := r.waitJob(t, j.ID, "waiting", func(j jobs.Job) bool { return j.Reason == tc.reason })
			if w.State != jobs.Sent || w.ReceivedAt == nil {
				t.Fatalf("waiting job: %+v", w)
			}
			if n := len(p.Jobs()) + p.Pending(); n != 0 {
				t.Fatalf("%d jobs reached a printer that cannot print", n)
			}
			// Reported once, not on every look at the printer.
			retries := 0
			for _, ev := range r.ts.JobEvents(t, j.ID) {
				if strings.Contains(ev.Reason, tc.reason) {
					retries++
				}
			}
			if retries != 1 {
				t.Fatalf("%d events name the reason, want 1", retries)
			}
			tc.set(p, false)
			r.waitJob(t, j.ID, "done", stateIsJob(jobs.Done))
			if got := waitSimJobs(t, p, 1); len(got) != 1 || !bytes.Equal(got[0].Data, content) {
				t.Fatalf("printed: %+v", got)
			}
		})
	}
	t.Run("policy fail", func(t *testing.T) {
		r := newJobRig(t, func(c *Config) { c.PrinterProblem = PolicyFail })
		r.sim.Printer().SetPaused(true)
		j := r.submit(t, label("x"), servertest.JobOptions{})
		f := r.waitJob(t, j.ID, "failed", stateIsJob(jobs.Failed))
		if f.Reason != "printer paused" {
			t.Fatalf("reason %q", f.Reason)
		}
		r.sim.Printer().SetPaused(false)
		k := r.submit(t, label("y"), servertest.JobOptions{})
		r.waitJob(t, k.ID, "done", stateIsJob(jobs.Done))
		if got := r.sim.Printer().Jobs(); len(got) != 1 {
			t.Fatalf("printer jobs: %d", len(got))
		}
	})
}

// The printer is unplugged in the middle of a job. Over TCP the agent only knows an upper bound of what
// reached the printer (what the socket accepted), so by default it fails the job rather than risk a
// second label; with policy "reprint" it prints it again once the printer is back. A transport that
// counts exactly (USB; here the in-process simulator) lets the agent see that no complete label went out
// and retry safely.
func TestJobUnplugMidJob(t *testing.T) {
	t.Run("tcp, default policy: failed, not printed again", func(t *testing.T) {
		r := newJobRig(t, nil)
		p := r.sim.Printer()
		content := label("unplug")
		p.UnplugAfter(len(content) / 2)
		j := r.submit(t, content, servertest.JobOptions{})
		f := r.waitJob(t, j.ID, "failed", stateIsJob(jobs.Failed))
		if f.Reason != ReasonDisconnectedMidJob || !strings.HasPrefix(f.Reason, ReasonDisconnected) {
			t.Fatalf("reason %q", f.Reason)
		}
		p.Replug()
		k := r.submit(t, label("next"), servertest.JobOptions{})
		r.waitJob(t, k.ID, "done", stateIsJob(jobs.Done))
		got := waitSimJobs(t, p, 2)
		if len(got) != 2 || !got[0].Interrupted || got[0].Labels != 0 || p.Labels() != 1 {
			t.Fatalf("printer: %+v", got)
		}
	})
	t.Run("tcp, policy reprint: retried when the printer is back", func(t *testing.T) {
		r := newJobRig(t, func(c *Config) { c.Interrupted = InterruptedReprint })
		p := r.sim.Printer()
		content := label("unplug")
		p.UnplugAfter(len(content) / 2)
		j := r.submit(t, content, servertest.JobOptions{})
		w := r.waitJob(t, j.ID, "waiting", func(j jobs.Job) bool { return j.Reason == ReasonDisconnected })
		if w.State != jobs.Printing {
			t.Fatalf("waiting job: %+v", w)
		}
		p.Replug()
		r.waitJob(t, j.ID, "done", stateIsJob(jobs.Done))
		got := waitSimJobs(t, p, 2)
		if !got[0].Interrupted || got[0].Labels != 0 || got[1].Interrupted || !bytes.Equal(got[1].Data, content) || p.Labels() != 1 {
			t.Fatalf("printer: %+v, %d labels", got, p.Labels())
		}
	})
	t.Run("exact count, no complete label out: retried", func(t *testing.T) {
		name := uniqueName("unplug-")
		p := sim.Named(name)
		a := newTestAgent(t, func(c *Config) {
			c.Printers = []string{"sim://" + name}
			c.PrinterRetryMin, c.PrinterRetryMax = 10*time.Millisecond, 50*time.Millisecond
		})
		a.start(t)
		first, second := label("one"), label("two")
		content := append(append([]byte{}, first...), second...)
		p.UnplugAfter(len(first) + 5) // the first label is out, the second cut
		a.jobSpooler().accept(context.Background(), protocol.Job{JobID: "j-cut", PrinterID: "sim://" + name, Content: content, Copies: 1})
		testenv.WaitFor(t, "failed, not retried", func() bool {
			j, err := a.spool.Get(context.Background(), "j-cut")
			return err == nil && j.State == spool.Failed && j.Reason == ReasonDisconnectedMidJob
		})
		p.Replug()
		p.UnplugAfter(10) // nothing complete goes out
		a.jobSpooler().accept(context.Background(), protocol.Job{JobID: "j-safe", PrinterID: "sim://" + name, Content: first, Copies: 1})
		testenv.WaitFor(t, "waiting", func() bool {
			j, err := a.spool.Get(context.Background(), "j-safe")
			return err == nil && j.Waiting && j.Reason == ReasonDisconnected && !j.InFlight
		})
		p.Replug()
		testenv.WaitFor(t, "done", func() bool {
			j, err := a.spool.Get(context.Background(), "j-safe")
			return err == nil && j.State == spool.Done
		})
		if p.Labels() != 2 { // "one" of j-cut, and j-safe once
			t.Fatalf("%d labels", p.Labels())
		}
	})
}

// A job for a printer the agent does not have fails at once; an expired job is not printed.
func TestJobUnknownPrinterAndExpired(t *testing.T) {
	a := newTestAgent(t, nil)
	a.start(t)
	spr := a.jobSpooler()
	ctx := context.Background()
	spr.accept(ctx, protocol.Job{JobID: "j-unknown", PrinterID: "tcp://192.0.2.1:9100", Content: label("x"), Copies: 1})
	spr.accept(ctx, protocol.Job{JobID: "j-expired", PrinterID: a.cfg.Printers[0], Content: label("x"), Copies: 1,
		ExpiresAt: time.Now().Add(-time.Second)})
	for id, want := range map[string]string{"j-unknown": "unknown printer tcp://192.0.2.1:9100", "j-expired": ReasonExpired} {
		testenv.WaitFor(t, id+" failed", func() bool {
			for _, j := range a.Jobs() {
				if j.ID == id && j.State == protocol.JobFailed && strings.HasPrefix(j.Reason, want) {
					return true
				}
			}
			return false
		})
	}
	p, _ := sim.Lookup(strings.TrimPrefix(a.cfg.Printers[0], "sim://"))
	if p != nil && len(p.Jobs()) != 0 {
		t.Fatal("the expired job was printed")
	}
}

// A job delivered twice (its receipt was lost) is printed once; its state is reported again.
func TestJobRedeliveryPrintsOnce(t *testing.T) {
	a := newTestAgent(t, nil)
	a.start(t)
	spr := a.jobSpooler()
	name := strings.TrimPrefix(a.cfg.Printers[0], "sim://")
	m := protocol.Job{JobID: "j-twice", PrinterID: a.cfg.Printers[0], Content: label("twice"), Copies: 2}
	spr.accept(context.Background(), m)
	p := sim.Named(name)
	waitSimJobs(t, p, 2)
	testenv.WaitFor(t, "done", func() bool {
		j, err := a.spool.Get(context.Background(), "j-twice")
		return err == nil && j.State == spool.Done
	})
	spr.accept(context.Background(), m)
	j, err := a.spool.Get(context.Background(), "j-twice")
	if err != nil || j.Deliveries != 2 || j.State != spool.Done {
		t.Fatalf("%+v %v", j, err)
	}
	// A third job after it proves the worker went on without printing the redelivery.
	spr.accept(context.Background(), protocol.Job{JobID: "j-next", PrinterID: a.cfg.Printers[0], Content: label("n"), Copies: 1})
	waitSimJobs(t, p, 3)
	testenv.WaitFor(t, "next done", func() bool {
		j, err := a.spool.Get(context.Background(), "j-next")
		return err == nil && j.State == spool.Done
	})
	if n := len(p.Jobs()); n != 3 {
		t.Fatalf("printer has %d jobs, want 3", n)
	}
}
