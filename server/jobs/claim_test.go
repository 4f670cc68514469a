package jobs

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"printdock/protocol"
)

// session subscribes as the hub does for the client's newest session, and takes the first (full) answer.
func (e *env) session(client string) (*Subscription, func()) {
	e.t.Helper()
	c, err := e.st.GetClient(e.t.Context(), client)
	e.must(err)
	sub, stop := e.svc.SubscribeFunc(client, c.SessionSeq, func() {})
	if _, full := e.svc.Pushed(sub); !full {
		e.t.Fatal("a new subscription's first Pushed is not full")
	}
	return sub, stop
}

// A job submitted while its client's newest session is subscribed here is created sent in that session
// and handed over as claimed; otherwise it is queued and pushed as before.
func TestClaimed(t *testing.T) {
	for _, c := range []struct {
		name    string
		setup   func(e *env, client, printer string, sub *Subscription)
		claimed bool
	}{
		{"newest session", func(*env, string, string, *Subscription) {}, true},
		{"a newer session registered", func(e *env, _, _ string, _ *Subscription) {
			_, _, err := e.svc.ClientConnected(t.Context(), "p1", "key1", protocol.Hello{ProtocolVersion: 1, InstallationID: "inst1"})
			e.must(err)
		}, false},
		{"subscription behind (full)", func(e *env, client, _ string, _ *Subscription) { e.svc.Wake(client) }, false},
		{"a batch already claimed", func(e *env, _, printer string, sub *Subscription) {
			for range e.svc.o.BatchJobs {
				e.submit(e.alice, printer, SubmitRequest{Title: "filler"})
			}
			if n := len(sub.claimed); n != e.svc.o.BatchJobs {
				e.t.Fatalf("%d fillers claimed, want %d", n, e.svc.o.BatchJobs)
			}
		}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			client, prs := e.agent("p1", "key1", "inst1", "usb://a")
			sub, stop := e.session(client)
			defer stop()
			c.setup(e, client, prs[0], sub)
			j := e.submit(e.alice, prs[0], SubmitRequest{Title: "new", Content: []byte("^XA^XZ")})
			got := e.svc.Claimed(sub)
			if !c.claimed {
				got = slices.DeleteFunc(got, func(j protocol.Job) bool { return j.Title == "filler" })
			}
			pushed, _ := e.svc.Pushed(sub)
			row := e.job(j.ID)
			if !c.claimed {
				if len(got) != 0 || row.State != Queued || j.State != Queued {
					t.Fatalf("claimed %v; job is %s (answered %s); want queued, not claimed", titles(got), row.State, j.State)
				}
				return
			}
			if !slices.Equal(titles(got), []string{"new=^XA^XZ"}) || len(pushed) != 0 {
				t.Fatalf("Claimed = %v, Pushed = %v; want the job claimed only", titles(got), titles(pushed))
			}
			cl, err := e.st.GetClient(t.Context(), client)
			e.must(err)
			if row.State != Sent || j.State != Sent || row.Attempts != 1 || row.SentSession != cl.SessionSeq || row.SentAt == nil {
				t.Fatalf("claimed job = %+v (answered %s); want sent once in session %d", row, j.State, cl.SessionSeq)
			}
			// Not pending for the session that has it; pending for the client's next session.
			if ids := e.pending(client); len(ids) != 0 {
				t.Errorf("pending in the claiming session = %v", ids)
			}
			_, _, err = e.svc.ClientConnected(t.Context(), "p1", "key1", protocol.Hello{ProtocolVersion: 1, InstallationID: "inst1"})
			e.must(err)
			if ids := e.pending(client); !slices.Equal(ids, []string{j.ID}) {
				t.Errorf("pending in the next session = %v, want the claimed job", ids)
			}
		})
	}
}

// What makes a subscription ask the store keeps the jobs claimed for it (the store does not list them as
// pending for its session). Unsubscribing drops them and tells the client's other subscriptions here to
// look in the store, where a newer session finds them; so does a claim handed to a subscription that
// ended before its transaction committed.
func TestClaimedKeptUntilUnsubscribed(t *testing.T) {
	e := newEnv(t)
	client, prs := e.agent("p1", "key1", "inst1", "usb://a")
	sub, stop := e.session(client)
	other, stopOther := e.svc.Subscribe(client) // another session's subscription here (claims nothing)
	defer stopOther()
	e.svc.Pushed(other)
	e.submit(e.alice, prs[0], SubmitRequest{Title: "one", Content: []byte("1")})
	e.svc.Wake(client)
	if got := titles(e.svc.Claimed(sub)); !slices.Equal(got, []string{"one=1"}) {
		t.Fatalf("Claimed after a wake-up = %v", got)
	}
	for _, f := range []*Subscription{sub, other} {
		if _, full := e.svc.Pushed(f); !full {
			t.Fatal("a wake-up did not make the subscriptions look in the store")
		}
	}
	e.submit(e.alice, prs[0], SubmitRequest{Title: "two", Content: []byte("2")})
	if len(sub.claimed) != 1 || sub.cbytes != 1 {
		t.Fatalf("claimed before unsubscribing = %v (%d bytes), want two", titles(sub.claimed), sub.cbytes)
	}
	stop()
	if sub.claimed != nil || sub.cbytes != 0 || e.svc.Claimed(sub) != nil {
		t.Fatalf("claimed after unsubscribing = %v", titles(sub.claimed))
	}
	if _, full := e.svc.Pushed(other); !full {
		t.Error("dropping claimed jobs did not make the client's other subscription look in the store")
	}
	// A claim committed for a subscription that is gone by then.
	e.svc.handClaimed(client, sub, protocol.Job{JobID: "late", Title: "late"})
	if _, full := e.svc.Pushed(other); !full || sub.claimed != nil {
		t.Error("a claim for an ended session did not make the client's other subscription look in the store")
	}
}

// A claimed job's rows are those of a job submitted, then marked sent by its session: the same job row,
// job events and event stream entries.
func TestClaimedRowsAsMarked(t *testing.T) {
	e := newEnv(t)
	client, prs := e.agent("p1", "key1", "inst1", "usb://a")
	sub, stop := e.session(client)
	claimed := e.submit(e.alice, prs[0], SubmitRequest{Title: "same", Content: []byte("x")})
	if len(e.svc.Claimed(sub)) != 1 {
		t.Fatal("the job was not claimed")
	}
	stop()
	marked := e.submit(e.alice, prs[0], SubmitRequest{Title: "same", Content: []byte("x")})
	errs, err := e.svc.MarkPushedAll(t.Context(), []string{marked.ID})
	e.must(err)
	e.must(errs[0])

	a, b := e.job(claimed.ID), e.job(marked.ID)
	a.ID, a.Fingerprint, b.ID, b.Fingerprint = "", "", "", ""
	if ja, jb := asJSON(t, a), asJSON(t, b); ja != jb {
		t.Errorf("job rows differ:\nclaimed %s\nmarked  %s", ja, jb)
	}
	wa, wb := written(t, e.st, claimed.ID), written(t, e.st, marked.ID)
	if wa != wb {
		t.Errorf("stored rows differ:\nclaimed %s\nmarked  %s", wa, wb)
	}
	if n := strings.Count(wa, "event: job.state_changed"); n != 2 {
		t.Errorf("claimed job has %d state changes in the event stream, want 2 (queued, sent):\n%s", n, wa)
	}
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
