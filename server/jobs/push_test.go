package jobs

import (
	"errors"
	"slices"
	"testing"
	"time"

	"printdock/protocol"
)

func titles(js []protocol.Job) []string {
	var out []string
	for _, j := range js {
		out = append(out, j.Title+"="+string(j.Content))
	}
	return out
}

// A job submitted on this server is handed to the client's subscriptions with its content; anything else
// that may give the client work makes the subscriber ask the store.
func TestPushed(t *testing.T) {
	e := newEnv(t)
	client, prs := e.agent("p1", "key1", "inst1", "usb://a")
	sub, stop := e.svc.Subscribe(client)
	wake := sub.C()
	defer stop()
	pushed := func() ([]string, bool) {
		js, full := e.svc.Pushed(sub)
		return titles(js), full
	}
	if js, full := pushed(); !full || js != nil {
		t.Fatalf("first Pushed = %v, %v; want full", js, full)
	}
	if js, full := pushed(); full || js != nil {
		t.Fatalf("Pushed with nothing new = %v, %v", js, full)
	}
	e.submit(e.alice, prs[0], SubmitRequest{Title: "one", Content: []byte("1")})
	e.submit(e.alice, prs[0], SubmitRequest{Title: "two", Content: []byte("2")})
	waitWake(t, wake)
	if js, full := pushed(); full || !slices.Equal(js, []string{"one=1", "two=2"}) {
		t.Fatalf("Pushed = %v, %v; want both jobs in order", js, full)
	}
	for _, c := range []struct {
		name string
		do   func()
	}{
		{"printers", func() {
			e.must(e.svc.UpdatePrinters(t.Context(), client, []protocol.Printer{{ID: "usb://a", Status: "ready"}}))
		}},
		{"another replica", func() { e.svc.Wake(client) }},
		{"lost notifications", e.svc.WakeAll},
		{"a printer not listed", func() {
			e.must(e.svc.UpdatePrinters(t.Context(), client, nil))
			_, _ = e.svc.Pushed(sub)
			e.submit(e.alice, prs[0], SubmitRequest{Title: "waits"})
		}},
	} {
		c.do()
		waitWake(t, wake)
		if js, full := pushed(); !full || js != nil {
			t.Errorf("%s: Pushed = %v, %v; want full", c.name, js, full)
		}
	}
	e.must(e.svc.UpdatePrinters(t.Context(), client, []protocol.Printer{{ID: "usb://a", Status: "ready"}}))
	_, _ = e.svc.Pushed(sub)
	for i := range e.svc.o.BatchJobs + 1 {
		e.submit(e.alice, prs[0], SubmitRequest{Title: "many", Content: []byte{byte(i)}})
	}
	if js, full := pushed(); !full || js != nil {
		t.Errorf("more than a batch pushed: Pushed = %d jobs, %v; want full", len(js), full)
	}
	stop()
	if _, full := e.svc.Pushed(sub); !full {
		t.Error("Pushed after unsubscribing is not full")
	}
}

// MarkPushedAll sends a job only while it is queued: one sent meanwhile (by a PendingFor batch) or
// cancelled is refused, so it is not sent twice.
func TestMarkPushedAll(t *testing.T) {
	e := newEnv(t)
	client, prs := e.agent("p1", "key1", "inst1", "usb://a")
	// The test clock stands still unless advanced: jobs of one instant are ordered by their random IDs.
	a := e.submit(e.alice, prs[0], SubmitRequest{Title: "a"})
	e.clock.Advance(time.Millisecond)
	b := e.submit(e.alice, prs[0], SubmitRequest{Title: "b"})
	e.clock.Advance(time.Millisecond)
	c := e.submit(e.alice, prs[0], SubmitRequest{Title: "c"})
	e.must(e.svc.MarkSent(t.Context(), b.ID))
	_, err := e.svc.Cancel(t.Context(), e.alice, c.ID)
	e.must(err)
	errs, err := e.svc.MarkPushedAll(t.Context(), []string{a.ID, b.ID, c.ID})
	e.must(err)
	if errs[0] != nil || !errors.Is(errs[1], ErrConflict) || !errors.Is(errs[2], ErrConflict) {
		t.Fatalf("MarkPushedAll = %v; want nil, conflict, conflict", errs)
	}
	if got := e.state(a.ID); got != Sent {
		t.Errorf("pushed job is %s, want sent", got)
	}
	// A job sent in an earlier session and never received is still redelivered by PendingFor.
	_, _, err = e.svc.ClientConnected(t.Context(), "p1", "key1", protocol.Hello{ProtocolVersion: 1, InstallationID: "inst1"})
	e.must(err)
	if got := e.pending(client); !slices.Equal(got, []string{a.ID, b.ID}) {
		t.Errorf("pending after a reconnect = %v, want %v", got, []string{a.ID, b.ID})
	}
}
