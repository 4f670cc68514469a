package jobs

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"printdock/protocol"
	"printdock/server/store"
)

func TestExpiry(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	client, prs := e.agent("p1", "key1", "inst1", "usb://a")
	short := SubmitRequest{Content: []byte("^XA^XZ"), ExpiresInSeconds: 60}
	queued := e.submit(e.alice, prs[0], short)
	sentUnacked := e.submit(e.alice, prs[0], short)
	sentAcked := e.submit(e.alice, prs[0], short)
	printing := e.submit(e.alice, prs[0], short)
	long := e.submit(e.alice, prs[0], SubmitRequest{Content: []byte("^XA^XZ"), ExpiresInSeconds: 7 * 24 * 3600})
	for _, id := range []string{sentUnacked.ID, sentAcked.ID, printing.ID} {
		e.must(e.svc.MarkSent(ctx, id))
	}
	e.must(e.ack(client, sentAcked.ID, protocol.JobReceived, "", false))
	e.must(e.ack(client, printing.ID, protocol.JobPrinting, "", false))

	if n, err := e.svc.ExpireDue(ctx, e.clock.Now().Add(59*time.Second)); err != nil || n != 0 {
		t.Errorf("expire before due = %d, %v", n, err)
	}
	e.clock.Advance(60 * time.Second) // expiry is inclusive
	if n, err := e.svc.ExpireDue(ctx, e.clock.Now()); err != nil || n != 2 {
		t.Errorf("expire at due = %d, %v; want queued and sent-unacknowledged", n, err)
	}
	for id, want := range map[string]State{queued.ID: Expired, sentUnacked.ID: Expired, sentAcked.ID: Sent, printing.ID: Printing, long.ID: Queued} {
		if got := e.job(id); got.State != want || (want == Expired) != (got.FinishedAt != nil) {
			t.Errorf("job %s = %s (finished %v), want %s", id, got.State, got.FinishedAt, want)
		}
	}
	if r := e.job(queued.ID).Reason; !strings.Contains(r, "expired") {
		t.Errorf("reason = %q", r)
	}
	// The agent holds the acknowledged ones; without a result ResultWait after expiry they fail.
	e.clock.Advance(DefaultResultWait - time.Second)
	if n, _ := e.svc.ExpireDue(ctx, e.clock.Now()); n != 0 {
		t.Errorf("failed %d acknowledged jobs before ResultWait", n)
	}
	e.clock.Advance(time.Second)
	if n, err := e.svc.ExpireDue(ctx, e.clock.Now()); err != nil || n != 2 {
		t.Errorf("after ResultWait = %d, %v", n, err)
	}
	for _, id := range []string{sentAcked.ID, printing.ID} {
		if j := e.job(id); j.State != Failed || !strings.Contains(j.Reason, "no result") {
			t.Errorf("job %s = %s %q", id, j.State, j.Reason)
		}
	}
	if got := e.pending(client); !slices.Equal(got, []string{long.ID}) {
		t.Errorf("pending = %v, want only the long-lived job", got)
	}
}

func TestExpiredNeverDelivered(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	client, prs := e.agent("p1", "key1", "inst1", "usb://a")
	a := e.submit(e.alice, prs[0], SubmitRequest{Content: []byte("a"), ExpiresInSeconds: 10})
	b := e.submit(e.alice, prs[0], SubmitRequest{Content: []byte("b"), ExpiresInSeconds: 100})
	e.clock.Advance(10 * time.Second)
	// PendingFor leaves the expired job out and marks it, without the sweeper.
	if got := e.pending(client); !slices.Equal(got, []string{b.ID}) {
		t.Errorf("pending = %v, want [%s]", got, b.ID)
	}
	if e.state(a.ID) != Expired {
		t.Errorf("a = %s", e.state(a.ID))
	}
	// MarkSent refuses a job that expired since PendingFor answered, and records the expiry.
	e.clock.Advance(90 * time.Second)
	wantErr(t, "mark sent after expiry", e.svc.MarkSent(ctx, b.ID), ErrConflict)
	if e.state(b.ID) != Expired {
		t.Errorf("b = %s", e.state(b.ID))
	}
	// A full batch of expired jobs does not hide a live one behind it.
	svc := New(Options{Store: e.st, Clock: e.clock.Now, BatchJobs: 2})
	for range 5 {
		e.submit(e.alice, prs[0], SubmitRequest{Content: []byte("x"), ExpiresInSeconds: 1})
	}
	e.clock.Advance(time.Second)
	live := e.submit(e.alice, prs[0], SubmitRequest{Content: []byte("live")})
	js, err := svc.PendingFor(ctx, client)
	if err != nil || len(js) != 1 || js[0].JobID != live.ID {
		t.Errorf("pending behind expired jobs = %+v, %v", js, err)
	}
}

func TestDeliveryAndRedelivery(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	client, prs := e.agent("p1", "key1", "inst1", "usb://0a5f:0181/A", "usb://0a5f:0181/B")
	j1 := e.submit(e.alice, prs[0], SubmitRequest{Content: []byte("one"), Title: "first", Copies: 3})
	e.clock.Advance(time.Second)
	j2 := e.submit(e.alice, prs[1], SubmitRequest{Content: []byte("two")})
	e.clock.Advance(time.Second)

	js, err := e.svc.PendingFor(ctx, client)
	e.must(err)
	if len(js) != 2 || js[0].JobID != j1.ID || js[1].JobID != j2.ID {
		t.Fatalf("pending = %+v", js)
	}
	want := protocol.Job{JobID: j1.ID, PrinterID: "usb://0a5f:0181/A", Title: "first", Content: []byte("one"), Copies: 3, ExpiresAt: j1.ExpiresAt}
	if got := js[0]; got.JobID != want.JobID || got.PrinterID != want.PrinterID || got.Title != want.Title ||
		!bytes.Equal(got.Content, want.Content) || got.Copies != 3 || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Errorf("job message = %+v, want %+v (PrinterID is the agent's URI)", got, want)
	}
	if _, err := protocol.Encode(js[0]); err != nil {
		t.Errorf("job message does not encode: %v", err)
	}
	e.must(e.svc.MarkSent(ctx, j1.ID))
	e.must(e.svc.MarkSent(ctx, j2.ID))
	if got := e.pending(client); len(got) != 0 {
		t.Errorf("pending in the same session after sending = %v", got)
	}
	e.must(e.ack(client, j1.ID, protocol.JobReceived, "", false))
	if j := e.job(j1.ID); j.State != Sent || j.ReceivedAt == nil || j.Attempts != 1 {
		t.Errorf("j1 after receipt = %+v", j)
	}

	// The connection drops; the agent reconnects (a new session): j2 was never acknowledged.
	e.must(e.svc.ClientDisconnected(ctx, client))
	e.clock.Advance(time.Minute)
	again, _ := e.agent("p1", "key1", "inst1", "usb://0a5f:0181/A", "usb://0a5f:0181/B")
	if again != client {
		t.Fatalf("client ID changed on reconnect: %s → %s", client, again)
	}
	if got := e.pending(client); !slices.Equal(got, []string{j2.ID}) {
		t.Errorf("pending after reconnect = %v, want [%s] (received jobs are not redelivered)", got, j2.ID)
	}
	e.must(e.svc.MarkSent(ctx, j2.ID))
	if j := e.job(j2.ID); j.Attempts != 2 || !j.SentAt.Equal(e.clock.Now()) {
		t.Errorf("j2 after redelivery = %+v", j)
	}
	evs, _ := e.svc.Events(ctx, e.alice, j2.ID, store.Page{})
	if len(evs) != 3 || !strings.Contains(evs[2].Reason, "again (attempt 2)") {
		t.Errorf("j2 events = %+v", evs)
	}
	wantErr(t, "mark sent of a received job", e.svc.MarkSent(ctx, j1.ID), ErrConflict)
	e.must(e.ack(client, j2.ID, protocol.JobPrinting, "", false))
	e.must(e.ack(client, j2.ID, protocol.JobDone, "", false))
	e.must(e.svc.ClientDisconnected(ctx, client))
	e.agent("p1", "key1", "inst1", "usb://0a5f:0181/A", "usb://0a5f:0181/B")
	if got := e.pending(client); len(got) != 0 {
		t.Errorf("pending after everything was acknowledged = %v", got)
	}
}

func TestAbsentPrinterJobsWait(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	client, prs := e.agent("p1", "key1", "inst1", "usb://a", "usb://b")
	e.must(e.svc.UpdatePrinters(ctx, client, []protocol.Printer{{ID: "usb://b", Name: "b", Status: "ready"}})) // a unplugged
	ja := e.submit(e.alice, prs[0], SubmitRequest{Content: []byte("a")})
	e.clock.Advance(time.Microsecond)
	jb := e.submit(e.alice, prs[1], SubmitRequest{Content: []byte("b")})
	if got := e.pending(client); !slices.Equal(got, []string{jb.ID}) {
		t.Errorf("pending with a unplugged = %v", got)
	}
	p, err := e.svc.GetPrinter(ctx, "p1", prs[0])
	if err != nil || p.Present || p.Online || p.ID != prs[0] {
		t.Errorf("unplugged printer = %+v, %v", p, err)
	}
	sub, stop := e.svc.Subscribe(client)
	wake := sub.C()
	defer stop()
	e.must(e.svc.UpdatePrinters(ctx, client, []protocol.Printer{{ID: "usb://a", Name: "a"}, {ID: "usb://b", Name: "b"}}))
	waitWake(t, wake)
	if got := e.pending(client); !slices.Equal(got, []string{ja.ID, jb.ID}) {
		t.Errorf("pending after a came back = %v", got)
	}
}

func waitWake(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no wake-up")
	}
}

func TestAck(t *testing.T) {
	type step struct {
		state  string
		reason string
		retry  bool
		want   State
		err    error
	}
	for _, tc := range []struct {
		name       string
		steps      []step
		wantReason string
	}{
		{"received printing done", []step{{state: "received", want: Sent}, {state: "printing", want: Printing},
			{state: "printing", want: Printing}, {state: "done", want: Done}, {state: "done", want: Done}}, ""},
		{"done without printing", []step{{state: "done", want: Done}}, ""},
		{"failed", []step{{state: "printing", want: Printing}, {state: "failed", reason: "head open", want: Failed},
			{state: "failed", reason: "head open", want: Failed}}, "head open"},
		{"failed without reason", []step{{state: "failed", want: Failed}}, "the agent reported a failure without a reason"},
		{"retry keeps sent", []step{{state: "failed", reason: "media out", retry: true, want: Sent}}, "media out"},
		{"retry keeps printing, then done", []step{{state: "printing", want: Printing},
			{state: "failed", reason: "paused", retry: true, want: Printing}, {state: "done", want: Done}}, ""},
		{"late received", []step{{state: "printing", want: Printing}, {state: "received", want: Printing}}, ""},
		{"different outcome after done", []step{{state: "done", want: Done}, {state: "failed", reason: "x", want: Done, err: ErrConflict}}, ""},
		{"unknown state", []step{{state: "exploded", want: Sent, err: ErrInvalid}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			client, prs := e.agent("p1", "key1", "inst1", "usb://a")
			j := e.submit(e.alice, prs[0], SubmitRequest{Content: []byte("x")})
			e.must(e.svc.MarkSent(t.Context(), j.ID))
			for i, s := range tc.steps {
				e.clock.Advance(time.Second)
				err := e.ack(client, j.ID, s.state, s.reason, s.retry)
				if s.err == nil && err != nil || s.err != nil && !errors.Is(err, s.err) {
					t.Fatalf("step %d (%s): %v, want %v", i, s.state, err, s.err)
				}
				if got := e.state(j.ID); got != s.want {
					t.Fatalf("step %d (%s): state %s, want %s", i, s.state, got, s.want)
				}
			}
			got := e.job(j.ID)
			if got.Reason != tc.wantReason || got.ReceivedAt == nil && tc.steps[0].err == nil {
				t.Errorf("job = reason %q received %v; want reason %q", got.Reason, got.ReceivedAt, tc.wantReason)
			}
			if got.State == Printing || got.State == Done && slices.ContainsFunc(tc.steps, func(s step) bool { return s.state == "printing" }) {
				if got.PrintingAt == nil {
					t.Error("printing_at not set")
				}
			}
		})
	}
}

func TestAckRules(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	client, prs := e.agent("p1", "key1", "inst1", "usb://a")
	otherClient, _ := e.agent("p1", "key1", "inst2", "usb://a") // same key, another installation
	foreign, _ := e.agent("p2", "key2", "inst3", "usb://a")
	j := e.submit(e.alice, prs[0], SubmitRequest{Content: []byte("x")})
	e.must(e.svc.MarkSent(ctx, j.ID))
	wantErr(t, "ack by another client of the portal", e.ack(otherClient, j.ID, "done", "", false), ErrForbidden)
	wantErr(t, "ack by another portal's client", e.ack(foreign, j.ID, "done", "", false), ErrForbidden)
	wantErr(t, "ack of an unknown job", e.ack(client, "job_nope", "done", "", false), ErrNotFound)
	if e.state(j.ID) != Sent {
		t.Errorf("refused acks changed the job: %s", e.state(j.ID))
	}
	// A status that arrives before MarkSent committed still counts as the delivery.
	k := e.submit(e.alice, prs[0], SubmitRequest{Content: []byte("y")})
	e.must(e.ack(client, k.ID, "printing", "", false))
	if got := e.job(k.ID); got.State != Printing || got.Attempts != 1 || got.SentAt == nil {
		t.Errorf("ack before mark sent = %+v", got)
	}
	evs, _ := e.svc.Events(ctx, e.alice, k.ID, store.Page{})
	var path []string
	for _, ev := range evs {
		path = append(path, string(ev.From)+">"+string(ev.To))
	}
	if !slices.Equal(path, []string{">queued", "queued>sent", "sent>printing"}) {
		t.Errorf("events = %v", path)
	}
}

func TestSubscribe(t *testing.T) {
	e := newEnv(t)
	client, prs := e.agent("p1", "key1", "inst1", "usb://a")
	other, prs2 := e.agent("p1", "key1", "inst2", "usb://b")
	sub, stop := e.svc.Subscribe(client)
	wake := sub.C()
	subOther, stopOther := e.svc.Subscribe(other)
	wakeOther := subOther.C()
	defer stopOther()
	e.submit(e.alice, prs[0], SubmitRequest{Content: []byte("1")})
	e.submit(e.alice, prs[0], SubmitRequest{Content: []byte("2")})
	waitWake(t, wake)
	select {
	case <-wake:
		t.Error("two submissions left two wake-ups (they coalesce)")
	default:
	}
	select {
	case <-wakeOther:
		t.Error("another client was woken")
	default:
	}
	stop()
	e.submit(e.alice, prs[0], SubmitRequest{Content: []byte("3")})
	select {
	case <-wake:
		t.Error("woken after unsubscribing")
	default:
	}
	e.submit(e.alice, prs2[0], SubmitRequest{Content: []byte("4")})
	waitWake(t, wakeOther)
}

// Several statuses of one job in one AckAll batch (the job read once) each apply and record their event.
func TestAckAllOneJobSeveralStatuses(t *testing.T) {
	e := newEnv(t)
	client, prs := e.agent("p1", "key1", "inst1", "usb://a")
	j := e.submit(e.alice, prs[0], SubmitRequest{})
	e.must(e.svc.MarkSent(t.Context(), j.ID))
	errs, err := e.svc.AckAll(t.Context(), client, []protocol.JobStatus{{JobID: j.ID, State: protocol.JobReceived},
		{JobID: j.ID, State: protocol.JobPrinting}, {JobID: j.ID, State: protocol.JobDone}, {JobID: j.ID, State: protocol.JobDone}})
	e.must(err)
	for i, err := range errs {
		if err != nil {
			t.Errorf("status %d: %v", i, err)
		}
	}
	got := e.job(j.ID)
	if got.State != Done || got.ReceivedAt == nil || got.PrintingAt == nil || got.FinishedAt == nil {
		t.Fatalf("job after the batch: %+v", got)
	}
	evs, err := e.svc.Events(t.Context(), e.alice, j.ID, store.Page{})
	e.must(err)
	var reasons []string
	for _, ev := range evs {
		reasons = append(reasons, ev.Reason)
	}
	want := []string{"submitted", "delivered to the agent", "received by the agent", "printing", "printed"}
	if !slices.Equal(reasons, want) {
		t.Errorf("events %q, want %q", reasons, want)
	}
}
