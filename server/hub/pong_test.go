package hub_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"printdock/internal/testenv"
	"printdock/protocol"
	"printdock/server/hub"
	"printdock/server/jobs"
	"printdock/server/keys"
	"printdock/server/store"
)

// gatedJobs holds AckAll for a while, or fails it, as a slow or broken store would.
type gatedJobs struct {
	*jobs.Service
	hold     time.Duration // AckAll waits this long first
	fail     atomic.Bool   // AckAll fails (a store error no request can fix)
	recorded atomic.Bool   // an AckAll returned successfully
}

func (g *gatedJobs) AckAll(ctx context.Context, clientID string, sts []protocol.JobStatus) ([]error, error) {
	if g.fail.Load() {
		return nil, errors.New("injected: database is locked")
	}
	time.Sleep(g.hold) // the slow store whose answer the pong must wait for
	errs, err := g.Service.AckAll(ctx, clientID, sts)
	if err == nil {
		g.recorded.Store(true)
	}
	return errs, err
}

// deliveredJob connects an agent with one printer, submits a job to it and returns the connection and the
// job's ID once the agent has it (within 10 s).
func deliveredJob(t *testing.T, e *env, name string) (*websocket.Conn, string) {
	t.Helper()
	c, w := e.connect(t)
	send(t, c, protocol.Printers{Printers: []protocol.Printer{{ID: "sim://" + name, Name: name, Status: "ready"}}})
	var printerID string
	testenv.WaitFor(t, "the printer recorded", func() bool {
		ps, err := e.jobs.ListPrinters(context.Background(), w.Portal, store.Page{})
		if err == nil && len(ps) == 1 {
			printerID = ps[0].ID
		}
		return printerID != ""
	})
	j, _, err := e.jobs.Submit(context.Background(), keys.Actor{Principal: e.admin, RemoteAddr: "127.0.0.1"}, printerID,
		jobs.SubmitRequest{Content: []byte("^XA^XZ"), Title: name, Copies: 1})
	if err != nil {
		t.Fatal(err)
	}
	for ctx := ctx10(t); ; {
		m, err := read(ctx, c)
		if err != nil {
			t.Fatalf("no job %s within 10 s: %v", name, err)
		}
		if m, ok := m.(protocol.Job); ok && m.JobID == j.ID {
			return c, j.ID
		}
	}
}

// The agent's outbox forgets the statuses it wrote before a ping once the pong comes: the server writes
// that pong only after it recorded them, even when the store is slow.
func TestPongAfterStatusesRecorded(t *testing.T) {
	var g *gatedJobs
	e := newEnv(t, hub.Options{}, func(js *jobs.Service) hub.Jobs {
		g = &gatedJobs{Service: js, hold: 300 * time.Millisecond}
		return g
	})
	c, id := deliveredJob(t, e, "pong")
	send(t, c, protocol.JobStatus{JobID: id, State: protocol.JobReceived, At: time.Now().UTC()})
	send(t, c, protocol.Ping{Nonce: 71})
	for ctx := ctx10(t); ; {
		m, err := read(ctx, c)
		if err != nil {
			t.Fatalf("no pong: %v", err)
		}
		if p, ok := m.(protocol.Pong); ok && p.Nonce == 71 {
			break
		}
	}
	if !g.recorded.Load() {
		t.Fatal("pong written before the status read ahead of its ping was recorded")
	}
	if j, err := e.jobs.Get(context.Background(), keys.Actor{Principal: e.admin}, id); err != nil || j.ReceivedAt == nil {
		t.Fatalf("job after pong: %+v %v, want it acknowledged as received", j, err)
	}
}

// A status the store could not record ends the session (1011) without a pong for the ping behind it, so
// the agent reconnects and reports it again instead of taking it as delivered.
func TestUnrecordedStatusEndsSession(t *testing.T) {
	var g *gatedJobs
	e := newEnv(t, hub.Options{}, func(js *jobs.Service) hub.Jobs {
		g = &gatedJobs{Service: js}
		return g
	})
	c, id := deliveredJob(t, e, "pong")
	g.fail.Store(true)
	send(t, c, protocol.JobStatus{JobID: id, State: protocol.JobReceived, At: time.Now().UTC()})
	send(t, c, protocol.Ping{Nonce: 72})
	for ctx := ctx10(t); ; {
		m, err := read(ctx, c)
		if err != nil {
			if got := websocket.CloseStatus(err); got != websocket.StatusInternalError {
				t.Fatalf("closed with %v (%v), want 1011", got, err)
			}
			return
		}
		switch m := m.(type) {
		case protocol.Pong:
			t.Fatalf("pong %d for a ping behind a status that was not recorded", m.Nonce)
		case protocol.Error:
			t.Fatalf("error %+v: the session should end instead", m)
		}
	}
}
