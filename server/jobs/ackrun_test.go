package jobs

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"printdock/protocol"
	"printdock/server/jobs/jobstest"
	"printdock/server/keys"
	"printdock/server/store"
	"printdock/server/store/postgres"
	"printdock/server/store/postgres/pgtest"
	"printdock/server/store/sqlite"
)

// TestAckRunEquivalence: AckAll applies each pattern of statuses (batches, in order) to a job with the
// same job row, job_events and events as the general path (ack, one status after the other) writes for
// a twin job, with the same answers — and, where the pattern is a run ackRun takes, without reading the
// job. In SQLite, and in PostgreSQL when PRINTDOCK_TEST_POSTGRES_URL is set.
func TestAckRunEquivalence(t *testing.T) {
	const rec, prt, done = protocol.JobReceived, protocol.JobPrinting, protocol.JobDone
	tests := []struct {
		name    string
		setup   string     // "": the job is sent; "cancel": and a cancel was requested; "received": and received; "other": it is another client's; "unknown": no such job
		batches [][]string // the statuses of each AckAll
		reads   int        // GetJob calls AckAll makes for the job (all batches)
	}{
		{"received+done", "", [][]string{{rec, done}}, 0},
		{"received+printing+done", "", [][]string{{rec, prt, done}}, 0},
		{"received+printing then done", "", [][]string{{rec, prt}, {done}}, 0},
		{"received then printing then done", "", [][]string{{rec}, {prt}, {done}}, 1},
		{"printing+done", "", [][]string{{prt, done}}, 0},
		{"received+printing+done+done", "", [][]string{{rec, prt, done, done}}, 1},
		{"received+done then done", "", [][]string{{rec, done}, {done}}, 1},
		{"received then done", "", [][]string{{rec}, {done}}, 2}, // a done alone takes the job for printing: missed, read
		{"cancel requested: received+printing+done", "cancel", [][]string{{rec, prt, done}}, 1},
		{"cancel requested: received+printing then done", "cancel", [][]string{{rec, prt}, {done}}, 2},
		{"other client: received+printing+done", "other", [][]string{{rec, prt, done}}, 1},
		{"already received: received+printing then done", "received", [][]string{{rec, prt}, {done}}, 1},
		{"already received: received+done", "received", [][]string{{rec, done}}, 1},
		{"unknown: received+printing+done", "unknown", [][]string{{rec, prt, done}}, 3},
	}
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					e := newAckEnv(t, backend)
					fast, ref := e.job(tc.setup), e.job(tc.setup)
					for _, b := range tc.batches {
						e.clock.Advance(time.Second)
						got := e.apply(fast, b, false)
						want := e.apply(ref, b, true)
						if strings.ReplaceAll(got, fast, "JOB") != strings.ReplaceAll(want, ref, "JOB") {
							t.Errorf("batch %v: answers\n%s\nwant (general path)\n%s", b, got, want)
						}
					}
					if got := e.reads; got != int64(tc.reads) {
						t.Errorf("AckAll read the job %d times, want %d", got, tc.reads)
					}
					if got, want := written(e.t, e.st, fast), written(e.t, e.st, ref); got != want {
						t.Errorf("AckAll wrote\n%s\nwant (general path)\n%s", got, want)
					}
				})
			}
		})
	}
}

type ackEnv struct {
	t       *testing.T
	st      store.Store
	svc     *Service
	clock   *jobstest.Clock
	client  string       // the agent reporting
	printer string       // its printer
	other   string       // a printer of another client
	gets    atomic.Int64 // GetJob calls on st
	reads   int64        // those of AckAll
	n       int
}

func newAckEnv(t *testing.T, backend string) *ackEnv {
	var st store.Store
	switch backend {
	case "sqlite":
		db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "printdock.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		st = db
	default:
		db, err := postgres.Open(t.Context(), pgtest.FreshSchema(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		st = db
	}
	e := &ackEnv{t: t, clock: jobstest.NewClock(t0)}
	e.st = countGets{st, &e.gets}
	e.svc = New(Options{Store: e.st, Clock: e.clock.Now})
	ctx := t.Context()
	must(t, st.CreatePortal(ctx, store.Portal{ID: "p1", Name: "p1", CreatedAt: t0}))
	connect := func(inst string) (string, string) {
		id, _, err := e.svc.ClientConnected(ctx, "p1", "key-"+inst, protocol.Hello{ProtocolVersion: 1, AgentVersion: "1",
			Hostname: inst, OS: "linux", InstallationID: inst, Features: []string{protocol.FeatureCancel}})
		must(t, err)
		must(t, e.svc.UpdatePrinters(ctx, id, []protocol.Printer{{ID: "usb://a", Name: "a", Status: "ready"}}))
		return id, PrinterID("p1", id, "usb://a")
	}
	e.client, e.printer = connect("inst1")
	_, e.other = connect("inst2")
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// job submits and sends a job in the state setup names (see the test's table) and returns its ID.
func (e *ackEnv) job(setup string) string {
	ctx := e.t.Context()
	alice := actor("p1", "alice@example.com", keys.RoleUser, keys.KindUser)
	if setup == "unknown" {
		e.n++
		return fmt.Sprintf("job-unknown-%d", e.n)
	}
	printer := e.printer
	if setup == "other" {
		printer = e.other
	}
	j, _, err := e.svc.Submit(ctx, alice, printer, SubmitRequest{Title: "twin", Content: []byte("^XA^XZ")})
	must(e.t, err)
	errs, err := e.svc.MarkSentAll(ctx, []string{j.ID})
	must(e.t, err)
	must(e.t, errs[0])
	switch setup {
	case "cancel":
		_, err = e.svc.Cancel(ctx, alice, j.ID)
		must(e.t, err)
	case "received":
		must(e.t, e.svc.Ack(ctx, e.client, protocol.JobStatus{JobID: j.ID, State: protocol.JobReceived}))
	}
	return j.ID
}

// apply applies one batch of statuses of job id, with AckAll or, when general, with ack alone (AckAll's
// general path: each status after the other), and returns the answers.
func (e *ackEnv) apply(id string, states []string, general bool) string {
	ctx := e.t.Context()
	sts := make([]protocol.JobStatus, len(states))
	for i, s := range states {
		sts[i] = protocol.JobStatus{JobID: id, State: s, At: e.clock.Now()}
	}
	var errs []error
	var err error
	if general {
		ids := make([]string, len(sts))
		for i := range ids {
			ids[i] = id
		}
		seen, now := map[string]*store.Job{}, e.svc.now()
		errs, err = e.svc.inBatch(ctx, ids, func(q store.Store, i int) error {
			return e.svc.ack(ctx, q, e.client, sts[i], sts[i+1:], seen, now)
		})
	} else {
		before := e.gets.Load()
		errs, err = e.svc.AckAll(ctx, e.client, sts)
		e.reads += e.gets.Load() - before
	}
	must(e.t, err)
	return fmt.Sprint(errs)
}

// countGets counts the GetJob calls on a store and the stores its transactions pass on.
type countGets struct {
	store.Store
	n *atomic.Int64
}

func (c countGets) GetJob(ctx context.Context, id string) (store.Job, error) {
	c.n.Add(1)
	return c.Store.GetJob(ctx, id)
}

func (c countGets) InTx(ctx context.Context, fn func(q store.Store) error) error {
	return c.Store.InTx(ctx, func(q store.Store) error { return fn(countGets{q, c.n}) })
}

// LockJobs passes the row locks on (store.JobLocker), when the store takes them.
func (c countGets) LockJobs(ctx context.Context, ids []string) error {
	if l, ok := c.Store.(store.JobLocker); ok {
		return l.LockJobs(ctx, ids)
	}
	return nil
}
