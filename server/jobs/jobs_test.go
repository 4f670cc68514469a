package jobs

import (
	"bytes"
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
				j := store.Job{ID: newJobID(t0), PortalID: "p1", PrinterID: p.ID, ClientID: p.ClientID, Title: "t",
					Content: []byte("x"), Copies: 1, Fingerprint: "f", CreatedBy: "test", State: from,
					CreatedAt: t0, UpdatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
				e.must(e.st.CreateJob(ctx, j))
				at := t0.Add(time.Minute)
				err := e.st.InTx(ctx, func(q store.Store) error {
					return e.svc.apply(ctx, q, &j, change{to: to, reason: "because", actor: "test"}, at)
				})
				got := e.job(j.ID)
				evs, _ := e.st.ListJobEvents(ctx, j.ID, store.Page{})
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
				if to.Terminal() != (got.FinishedAt != nil) || to == Printing && got.PrintingAt == nil {
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
		{"unknown content type", e.alice, prs[0], with(func(r *SubmitRequest) { r.ContentType = "postscript" }), ErrInvalid, `content_type must be "raw", "pdf" or "png"`},
		{"pdf without a converter", e.alice, prs[0], with(func(r *SubmitRequest) { r.ContentType = "pdf" }), ErrUnprocessable, "does not convert pdf"},
		{"label on raw content", e.alice, prs[0], with(func(r *SubmitRequest) { r.Label = &LabelSpec{DPI: 300} }), ErrInvalid, "label applies to pdf and png"},
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
	evs, err := e.svc.Events(t.Context(), e.alice, j.ID, store.Page{})
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
	ps, err := e.svc.ListPrinters(ctx, "p1", store.Page{})
	if err != nil || len(ps) != 3 {
		t.Fatalf("printers = %+v, %v", ps, err)
	}
	if n := len(e.pending(c1)); n != 0 {
		t.Errorf("pending = %d", n)
	}

	// Online follows the sessions: two are open for c1.
	online := func(id string) bool {
		cs, err := e.svc.ListClients(ctx, "p1", store.Page{})
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
	cs, _ := e.svc.ListClients(ctx, "p1", store.Page{})
	i := slices.IndexFunc(cs, func(c Client) bool { return c.ID == c1 })
	if i < 0 || cs[i].Hostname != "host-inst1" || cs[i].AgentVersion != "1.2.3" || cs[i].OS != "linux" ||
		cs[i].CredentialID != "key1" || cs[i].InstallationID != "inst1" {
		t.Errorf("clients = %+v", cs)
	}
	_, _, err = e.svc.ClientConnected(ctx, "p1", "key1", protocol.Hello{ProtocolVersion: 1})
	wantErr(t, "no installation ID", err, ErrInvalid)
	wantErr(t, "printers of unknown client", e.svc.UpdatePrinters(ctx, "cli_nope", nil), ErrNotFound)
	// Oversized hello fields are clipped, not stored whole.
	id, _, err := e.svc.ClientConnected(ctx, "p1", "key1", protocol.Hello{ProtocolVersion: 1, InstallationID: "big",
		Hostname: strings.Repeat("h", 10000)})
	e.must(err)
	c, _ := e.st.GetClient(ctx, id)
	if len(c.Hostname) != maxTextLen {
		t.Errorf("hostname stored with %d bytes", len(c.Hostname))
	}
}
