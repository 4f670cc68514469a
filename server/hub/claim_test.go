package hub_test

import (
	"context"
	"sync/atomic"
	"testing"

	"printdock/protocol"
	"printdock/server/hub"
	"printdock/server/jobs"
	"printdock/server/keys"
	"printdock/server/store"
)

// markCounter counts the calls that mark jobs sent from the session's side.
type markCounter struct {
	*jobs.Service
	marks atomic.Int32
}

func (m *markCounter) MarkPushedAll(ctx context.Context, ids []string) ([]error, error) {
	m.marks.Add(1)
	return m.Service.MarkPushedAll(ctx, ids)
}

func (m *markCounter) MarkSentAll(ctx context.Context, ids []string) ([]error, error) {
	m.marks.Add(1)
	return m.Service.MarkSentAll(ctx, ids)
}

// A job submitted while the agent's session is subscribed here and keeps up is claimed: it is created
// sent in the session and reaches the agent without the session marking it.
func TestClaimedJobSentWithoutMarking(t *testing.T) {
	var m *markCounter
	e := newEnv(t, hub.Options{}, func(js *jobs.Service) hub.Jobs {
		m = &markCounter{Service: js}
		return m
	})
	c, _ := deliveredJob(t, e, "claim") // once a job reached the agent, the session's first look is done
	ps, err := e.jobs.ListPrinters(context.Background(), e.admin.PortalID, store.Page{})
	if err != nil || len(ps) != 1 {
		t.Fatalf("printers = %v, %v", ps, err)
	}
	before := m.marks.Load()
	j, _, err := e.jobs.Submit(context.Background(), keys.Actor{Principal: e.admin, RemoteAddr: "127.0.0.1"}, ps[0].ID,
		jobs.SubmitRequest{Content: []byte("^XA^XZ"), Title: "claimed", Copies: 1})
	if err != nil {
		t.Fatal(err)
	}
	if j.State != jobs.Sent || j.Attempts != 1 {
		t.Fatalf("submitted job = %s, %d attempts; want sent once (claimed)", j.State, j.Attempts)
	}
	for ctx := ctx10(t); ; {
		msg, err := read(ctx, c)
		if err != nil {
			t.Fatalf("no claimed job within 10 s: %v", err)
		}
		if got, ok := msg.(protocol.Job); ok && got.JobID == j.ID {
			if got.Title != "claimed" || string(got.Content) != "^XA^XZ" {
				t.Fatalf("job message = %+v", got)
			}
			break
		}
	}
	if n := m.marks.Load() - before; n != 0 {
		t.Errorf("the session marked jobs %d times for a claimed job", n)
	}
}
