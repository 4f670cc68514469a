package jobs

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"printdock/protocol"
	"printdock/server/keys"
	"printdock/server/store"
	"printdock/server/store/sqlite"
)

// legal is the whole transition matrix: rows are from-states, columns to-states in States order
// (queued, sent, printing, done, failed, cancelled, expired).
var legal = map[State]string{
	Queued:    ".x...xx",
	Sent:      ".xxxxxx",
	Printing:  "..xxx..",
	Done:      ".......",
	Failed:    ".......",
	Cancelled: ".......",
	Expired:   ".......",
}

func TestTransitionMatrix(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	_, prs := e.agent("p1", "key1", "inst1", "usb://a")
	p, err := e.st.GetPrinter(ctx, prs[0])
	e.must(err)
	for _, from := range States {
		for i, to := range States {
			want := legal[from][i] == 'x'
			t.Run(fmt.Sprintf("%s_to_%s", from, to), func(t *testing.T) {
				if got := CanTransition(from, to); got != want {
					t.Fatalf("CanTransition = %v, want %v", got, want)
				}
				// The same rule holds on a real job in the store.
				j := store.Job{ID: newID("job_"), PortalID: "p1", PrinterID: p.ID, ClientID: p.ClientID, Title: "t",
					Content: []byte("x"), Copies: 1, Fingerprint: "f", CreatedBy: "test", State: from,
					CreatedAt: t0, UpdatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
				e.must(e.st.CreateJob(ctx, j))
				at := t0.Add(time.Minute)
				err := e.st.InTx(ctx, func(q store.Store) error {
					return e.svc.apply(ctx, q, &j, change{to: to, reason: "because", actor: "test"}, at)
				})
				got := e.job(j.ID)
				evs, _ := e.st.ListJobEvents(ctx, j.ID)
				if !want {
					wantErr(t, "illegal transition", err, ErrConflict)
					if got.State != from || len(evs) != 0 {
						t.Errorf("illegal transition changed the job: %s, %d events", got.State, len(evs))
					}
					return
				}
				if err != nil {
					t.Fatalf("legal transition: %v", err)
				}
				if got.State != to || got.Reason != "because" || !got.UpdatedAt.Equal(at) {
					t.Errorf("job = %+v", got)
				}
				if Terminal(to) != (got.FinishedAt != nil) || to == Printing && got.PrintingAt == nil {
					t.Errorf("state timestamps: finished %v printing %v", got.FinishedAt, got.PrintingAt)
				}
				if len(evs) != 1 || evs[0].From != from || evs[0].To != to || evs[0].Reason != "because" || !evs[0].At.Equal(at) {
					t.Errorf("events = %+v", evs)
				}
			})
		}
	}
}

func TestSubmitValidation(t *testing.T) {
	e := newEnv(t)
	_, prs := e.agent("p1", "key1", "inst1", "usb://a")
	_, prs2 := e.agent("p2", "key2", "inst2", "usb://b")
	printerDev := actor("p1", "", "", keys.KindPrintClient)
	sharedDev := actor("p1", "", "", keys.KindSharedDev)
	roleless := actor("p1", "x@example.com", "", keys.KindUser)
	ok := SubmitRequest{ContentType: "raw", Content: []byte("^XA^XZ"), Title: "label", Copies: 1}
	with := func(f func(r *SubmitRequest)) SubmitRequest { r := ok; f(&r); return r }
	for _, tc := range []struct {
		name    string
		a       keys.Actor
		printer string
		req     SubmitRequest
		want    error
		msg     string
	}{
		{"content type", e.alice, prs[0], with(func(r *SubmitRequest) { r.ContentType = "pdf" }), ErrInvalid, `content_type must be "raw"`},
		{"empty", e.alice, prs[0], with(func(r *SubmitRequest) { r.Content = nil }), ErrInvalid, "empty"},
		{"too large", e.alice, prs[0], with(func(r *SubmitRequest) { r.Content = make([]byte, MaxContentSize+1) }), ErrTooLarge, "larger than"},
		{"copies 1001", e.alice, prs[0], with(func(r *SubmitRequest) { r.Copies = 1001 }), ErrInvalid, "copies"},
		{"copies -1", e.alice, prs[0], with(func(r *SubmitRequest) { r.Copies = -1 }), ErrInvalid, "copies"},
		{"long title", e.alice, prs[0], with(func(r *SubmitRequest) { r.Title = strings.Repeat("t", 257) }), ErrInvalid, "title"},
		{"long key", e.alice, prs[0], with(func(r *SubmitRequest) { r.IdempotencyKey = strings.Repeat("k", 257) }), ErrInvalid, "idempotency_key"},
		{"negative expiry", e.alice, prs[0], with(func(r *SubmitRequest) { r.ExpiresInSeconds = -1 }), ErrInvalid, "expires_in_seconds"},
		{"expiry too long", e.alice, prs[0], with(func(r *SubmitRequest) { r.ExpiresInSeconds = 91 * 86400 }), ErrInvalid, "expires_in_seconds"},
		{"unknown printer", e.alice, "prn_nope", ok, ErrNotFound, `printer "prn_nope" not found`},
		{"other portal's printer", e.alice, prs2[0], ok, ErrNotFound, "not found"},
		{"print client key", printerDev, prs[0], ok, ErrForbidden, ""},
		{"shared device", sharedDev, prs[0], ok, ErrForbidden, ""},
		{"user without role", roleless, prs[0], ok, ErrForbidden, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := e.svc.Submit(t.Context(), tc.a, tc.printer, tc.req)
			wantErr(t, tc.name, err, tc.want)
			if err != nil && !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("message %q does not say %q", err, tc.msg)
			}
		})
	}
	if js, _ := e.st.ListJobs(t.Context(), store.JobFilter{AllPortals: true}); len(js) != 0 {
		t.Errorf("refused submissions stored %d jobs", len(js))
	}
	// Who may submit: users (user, admin), portal sessions, OAuth tokens; the largest content fits.
	for _, a := range []keys.Actor{e.alice, e.admin, e.oauth} {
		e.submit(a, prs[0], with(func(r *SubmitRequest) { r.ContentType = ""; r.Copies = 0 }))
	}
	big := e.submit(e.alice, prs[0], with(func(r *SubmitRequest) {
		r.Content = bytes.Repeat([]byte("^"), MaxContentSize)
		r.Copies = 1000
		r.Title = strings.Repeat("\x01", 256) // escaped to 6 bytes each in JSON
	}))
	if big.Size != MaxContentSize || big.Copies != 1000 {
		t.Errorf("big job = %+v", big)
	}
	// Its job message fits the protocol's message limit, even with the longest printer URI.
	if _, err := protocol.Encode(protocol.Job{JobID: big.ID, PrinterID: strings.Repeat("\x02", 256), Title: big.Title,
		Content: bytes.Repeat([]byte("^"), MaxContentSize), Copies: 1000, ExpiresAt: big.ExpiresAt}); err != nil {
		t.Errorf("the largest job does not fit a message: %v", err)
	}
}

func TestSubmitPersistsBeforeReturning(t *testing.T) {
	e := newEnv(t)
	client, prs := e.agent("p1", "key1", "inst1", "usb://a")
	content := []byte("^XA^FDpersist^FS^XZ")
	j := e.submit(e.alice, prs[0], SubmitRequest{ContentType: "raw", Content: content, Title: "Order 1", Copies: 2})
	if j.State != Queued || j.PrinterID != prs[0] || j.ClientID != client || j.Copies != 2 || j.Title != "Order 1" ||
		j.CreatedBy != "alice@example.com" || !j.CreatedAt.Equal(t0) || !j.ExpiresAt.Equal(t0.Add(DefaultExpiry)) ||
		j.Size != int64(len(content)) {
		t.Errorf("job = %+v", j)
	}
	// A second connection to the same file sees the committed job, its content and its event.
	other, err := sqlite.Open(t.Context(), e.path)
	e.must(err)
	defer other.Close()
	got, err := other.GetJob(t.Context(), j.ID)
	if err != nil || got.State != Queued {
		t.Fatalf("job from another connection = %+v, %v", got, err)
	}
	if b, err := other.JobContent(t.Context(), j.ID); err != nil || !bytes.Equal(b, content) {
		t.Errorf("content = %q, %v", b, err)
	}
	evs, err := e.svc.Events(t.Context(), e.alice, j.ID)
	if err != nil || len(evs) != 1 || evs[0].To != Queued || evs[0].From != "" || evs[0].Actor != "alice@example.com" {
		t.Errorf("events = %+v, %v", evs, err)
	}
	g, err := e.svc.Get(t.Context(), e.alice, j.ID)
	if err != nil || g.ID != j.ID || g.State != Queued || !g.CreatedAt.Equal(j.CreatedAt) {
		t.Errorf("get = %+v, %v", g, err)
	}
	custom := e.submit(e.alice, prs[0], SubmitRequest{Content: content, ExpiresInSeconds: 3600})
	if !custom.ExpiresAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("expires_at = %v, want %v", custom.ExpiresAt, t0.Add(time.Hour))
	}
}

func TestIdempotency(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	_, prs := e.agent("p1", "key1", "inst1", "usb://a", "usb://b")
	_, prs2 := e.agent("p2", "key2", "inst2", "usb://a")
	req := SubmitRequest{ContentType: "raw", Content: []byte("^XA^FD1^FS^XZ"), Title: "Order 1", Copies: 1, IdempotencyKey: "order-1"}
	first := e.submit(e.alice, prs[0], req)
	e.clock.Advance(time.Minute)
	again, created, err := e.svc.Submit(ctx, e.oauth, prs[0], req) // another submitter of the same portal
	if err != nil || created || again.ID != first.ID || !again.CreatedAt.Equal(first.CreatedAt) {
		t.Errorf("retry = %+v, created %v, %v", again, created, err)
	}
	for name, r := range map[string]SubmitRequest{
		"content": {Content: []byte("^XA^FD2^FS^XZ"), Title: "Order 1", IdempotencyKey: "order-1"},
		"printer": {Content: req.Content, Title: "Order 1", IdempotencyKey: "order-1"},
		"copies":  {Content: req.Content, Title: "Order 1", Copies: 2, IdempotencyKey: "order-1"},
	} {
		printer := prs[0]
		if name == "printer" {
			printer = prs[1]
		}
		_, _, err := e.svc.Submit(ctx, e.alice, printer, r)
		wantErr(t, "same key, different "+name, err, ErrIdempotencyMismatch)
		wantErr(t, "same key, different "+name, err, ErrConflict)
	}
	// Keys are per portal.
	other := e.submit(e.bob, prs2[0], req)
	if other.ID == first.ID {
		t.Error("the same key in another portal returned the first portal's job")
	}

	// The same key from 10 goroutines at once: exactly one job.
	req.IdempotencyKey = "order-2"
	var wg sync.WaitGroup
	ids := make([]string, 10)
	createdN := make([]bool, 10)
	errs := make([]error, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j, c, err := e.svc.Submit(ctx, e.alice, prs[0], req)
			ids[i], createdN[i], errs[i] = j.ID, c, err
		}()
	}
	wg.Wait()
	n := 0
	for i := range 10 {
		if errs[i] != nil {
			t.Errorf("goroutine %d: %v", i, errs[i])
		}
		if createdN[i] {
			n++
		}
		if ids[i] != ids[0] {
			t.Errorf("goroutine %d got job %s, goroutine 0 %s", i, ids[i], ids[0])
		}
	}
	if n != 1 {
		t.Errorf("%d goroutines created a job, want 1", n)
	}
	js, err := e.st.ListJobs(ctx, store.JobFilter{PortalID: "p1"})
	if err != nil || len(js) != 2 {
		t.Errorf("jobs in p1 = %d, %v; want 2 (order-1, order-2)", len(js), err)
	}
}

func TestExpiry(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	client, prs := e.agent("p1", "key1", "inst1", "usb://a")
	short := SubmitRequest{Content: []byte("^XA^XZ"), ExpiresInSeconds: 60}
	queued := e.submit(e.alice, prs[0], short)
	sentUnacked := e.submit(e.alice, prs[0], short)
	sentAcked := e.submit(e.alice, prs[0], short)
	printing := e.submit(e.alice, prs[0], short)
	long := e.submit(e.alice, prs[0], SubmitRequest{Content: []byte("^XA^XZ")})
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
	evs, _ := e.svc.Events(ctx, e.alice, j2.ID)
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
	wake, stop := e.svc.Subscribe(client)
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
	evs, _ := e.svc.Events(ctx, e.alice, k.ID)
	var path []string
	for _, ev := range evs {
		path = append(path, string(ev.From)+">"+string(ev.To))
	}
	if !slices.Equal(path, []string{">queued", "queued>sent", "sent>printing"}) {
		t.Errorf("events = %v", path)
	}
}

func TestCancel(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	client, prs := e.agent("p1", "key1", "inst1", "usb://a")
	mk := func() Job { return e.submit(e.alice, prs[0], SubmitRequest{Content: []byte("x")}) }
	queued, sent, received, printing, done := mk(), mk(), mk(), mk(), mk()
	for _, j := range []Job{sent, received, printing, done} {
		e.must(e.svc.MarkSent(ctx, j.ID))
	}
	e.must(e.ack(client, received.ID, "received", "", false))
	e.must(e.ack(client, printing.ID, "printing", "", false))
	e.must(e.ack(client, done.ID, "done", "", false))
	for _, tc := range []struct {
		name string
		id   string
		a    keys.Actor
		want error
		msg  string
	}{
		{"queued", queued.ID, e.alice, nil, ""},
		{"sent", sent.ID, e.oauth, ErrAlreadySent, "can no longer be cancelled"},
		{"sent and received", received.ID, e.admin, ErrAlreadySent, "can no longer be cancelled"},
		{"printing", printing.ID, e.alice, ErrAlreadyPrinting, "already printing"},
		{"done", done.ID, e.alice, ErrConflict, "already done"},
		{"twice", queued.ID, e.alice, ErrConflict, "already cancelled"},
		{"other portal", sent.ID, e.bob, ErrNotFound, "not found"},
		{"unknown", "job_nope", e.alice, ErrNotFound, "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before State
			if tc.id != "job_nope" {
				before = e.state(tc.id)
			}
			j, err := e.svc.Cancel(t.Context(), tc.a, tc.id)
			if tc.want == nil {
				if err != nil || j.State != Cancelled || !strings.Contains(j.Reason, "cancelled by "+tc.a.Email) || j.FinishedAt == nil {
					t.Fatalf("cancel = %+v, %v", j, err)
				}
				return
			}
			wantErr(t, tc.name, err, tc.want)
			if err != nil && !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("message %q does not say %q", err, tc.msg)
			}
			if tc.id != "job_nope" && e.state(tc.id) != before {
				t.Errorf("refused cancel changed the state")
			}
		})
	}
	if got := e.pending(client); len(got) != 0 {
		t.Errorf("cancelled jobs pending: %v", got)
	}
	wantErr(t, "mark sent of a cancelled job", e.svc.MarkSent(ctx, queued.ID), ErrConflict)
}

func TestPortalIsolation(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	_, prs := e.agent("p1", "key1", "inst1", "usb://a")
	_, prs2 := e.agent("p2", "key2", "inst2", "usb://a")
	j := e.submit(e.alice, prs[0], SubmitRequest{Content: []byte("x")})
	j2 := e.submit(e.bob, prs2[0], SubmitRequest{Content: []byte("y")})
	_, err := e.svc.Get(ctx, e.bob, j.ID)
	wantErr(t, "get", err, ErrNotFound)
	_, err = e.svc.Events(ctx, e.bob, j.ID)
	wantErr(t, "events", err, ErrNotFound)
	_, err = e.svc.Cancel(ctx, e.bob, j.ID)
	wantErr(t, "cancel", err, ErrNotFound)
	_, _, err = e.svc.Submit(ctx, e.bob, prs[0], SubmitRequest{Content: []byte("x")})
	wantErr(t, "submit", err, ErrNotFound)
	_, err = e.svc.GetPrinter(ctx, "p2", prs[0])
	wantErr(t, "get printer", err, ErrNotFound)
	for _, tc := range []struct {
		a    keys.Actor
		want string
	}{{e.alice, j.ID}, {e.bob, j2.ID}} {
		list, err := e.svc.List(ctx, tc.a, ListFilter{})
		if err != nil || len(list) != 1 || list[0].ID != tc.want {
			t.Errorf("list of %s = %+v, %v", tc.a.Email, list, err)
		}
		list, _ = e.svc.List(ctx, tc.a, ListFilter{PrinterID: prs[0]})
		if (tc.a.PortalID == "p1") != (len(list) == 1) {
			t.Errorf("list of %s by p1's printer = %d jobs", tc.a.Email, len(list))
		}
	}
	for portal, want := range map[string]string{"p1": prs[0], "p2": prs2[0]} {
		ps, err := e.svc.ListPrinters(ctx, portal)
		if err != nil || len(ps) != 1 || ps[0].ID != want {
			t.Errorf("printers of %s = %+v, %v", portal, ps, err)
		}
		cs, err := e.svc.ListClients(ctx, portal)
		if err != nil || len(cs) != 1 {
			t.Errorf("clients of %s = %+v, %v", portal, cs, err)
		}
	}
	if prs[0] == prs2[0] {
		t.Error("the same URI in two portals has one printer ID")
	}
}

func TestListFilter(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	_, prs := e.agent("p1", "key1", "inst1", "usb://a", "usb://b")
	var ids []string
	for i := range 4 {
		e.clock.Advance(time.Second)
		ids = append(ids, e.submit(e.alice, prs[i%2], SubmitRequest{Content: []byte("x")}).ID)
	}
	_, err := e.svc.Cancel(ctx, e.alice, ids[0])
	e.must(err)
	for _, tc := range []struct {
		name string
		f    ListFilter
		want []string
	}{
		{"all newest first", ListFilter{}, []string{ids[3], ids[2], ids[1], ids[0]}},
		{"printer", ListFilter{PrinterID: prs[0]}, []string{ids[2], ids[0]}},
		{"state", ListFilter{State: Cancelled}, []string{ids[0]}},
		{"printer and state", ListFilter{PrinterID: prs[0], State: Queued}, []string{ids[2]}},
		{"limit", ListFilter{Limit: 1}, []string{ids[3]}},
	} {
		list, err := e.svc.List(ctx, e.alice, tc.f)
		var got []string
		for _, j := range list {
			got = append(got, j.ID)
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	_, err = e.svc.List(ctx, e.alice, ListFilter{State: "weird"})
	wantErr(t, "unknown state", err, ErrInvalid)
	_, err = e.svc.List(ctx, actor("p1", "", "", keys.KindPrintClient), ListFilter{})
	wantErr(t, "print client lists jobs", err, ErrForbidden)
}

func TestStableIDs(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c1, p1 := e.agent("p1", "key1", "inst1", "usb://0a5f:0181/A", "tcp://10.0.0.5:9100")
	c2, p2 := e.agent("p1", "key1", "inst1", "tcp://10.0.0.5:9100", "usb://0a5f:0181/A") // reconnect, other order
	if c1 != c2 || p1[0] != p2[1] || p1[1] != p2[0] {
		t.Errorf("IDs changed across reconnects: %s %v / %s %v", c1, p1, c2, p2)
	}
	if c1 != ClientID("p1", "key1", "inst1") || p1[0] != PrinterID("p1", c1, "usb://0a5f:0181/A") {
		t.Error("IDs are not the documented derivation")
	}
	other, _ := e.agent("p1", "key9", "inst1", "usb://0a5f:0181/A") // another key claims the installation ID
	if other == c1 {
		t.Error("another credential with the same installation ID got the same client")
	}
	ps, err := e.svc.ListPrinters(ctx, "p1")
	if err != nil || len(ps) != 3 {
		t.Fatalf("printers = %+v, %v", ps, err)
	}
	if n := len(e.pending(c1)); n != 0 {
		t.Errorf("pending = %d", n)
	}

	// Online follows the sessions: two are open for c1.
	online := func(id string) bool {
		cs, err := e.svc.ListClients(ctx, "p1")
		e.must(err)
		for _, c := range cs {
			if c.ID == id {
				return c.Online
			}
		}
		t.Fatalf("client %s not listed", id)
		return false
	}
	e.must(e.svc.ClientDisconnected(ctx, c1))
	if !online(c1) {
		t.Error("offline while a second session is open")
	}
	e.must(e.svc.ClientDisconnected(ctx, c1))
	if online(c1) {
		t.Error("online after every session ended")
	}
	p, _ := e.svc.GetPrinter(ctx, "p1", p1[0])
	if p.Online || !p.Present || p.Status != "ready" || p.URI != "usb://0a5f:0181/A" || p.ClientID != c1 {
		t.Errorf("printer of an offline client = %+v", p)
	}
	wantErr(t, "disconnect unknown", e.svc.ClientDisconnected(ctx, "cli_nope"), ErrNotFound)
	e.must(e.svc.ResetPresence(ctx))
	if online(other) {
		t.Error("online after ResetPresence")
	}
	cs, _ := e.svc.ListClients(ctx, "p1")
	i := slices.IndexFunc(cs, func(c Client) bool { return c.ID == c1 })
	if i < 0 || cs[i].Hostname != "host-inst1" || cs[i].AgentVersion != "1.2.3" || cs[i].OS != "linux" ||
		cs[i].CredentialID != "key1" || cs[i].InstallationID != "inst1" {
		t.Errorf("clients = %+v", cs)
	}
	_, err = e.svc.ClientConnected(ctx, "p1", "key1", protocol.Hello{ProtocolVersion: 1})
	wantErr(t, "no installation ID", err, ErrInvalid)
	wantErr(t, "printers of unknown client", e.svc.UpdatePrinters(ctx, "cli_nope", nil), ErrNotFound)
	// Oversized hello fields are clipped, not stored whole.
	id, err := e.svc.ClientConnected(ctx, "p1", "key1", protocol.Hello{ProtocolVersion: 1, InstallationID: "big",
		Hostname: strings.Repeat("h", 10000)})
	e.must(err)
	c, _ := e.st.GetClient(ctx, id)
	if len(c.Hostname) != maxTextLen {
		t.Errorf("hostname stored with %d bytes", len(c.Hostname))
	}
}

func TestSubscribe(t *testing.T) {
	e := newEnv(t)
	client, prs := e.agent("p1", "key1", "inst1", "usb://a")
	other, prs2 := e.agent("p1", "key1", "inst2", "usb://b")
	wake, stop := e.svc.Subscribe(client)
	wakeOther, stopOther := e.svc.Subscribe(other)
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
