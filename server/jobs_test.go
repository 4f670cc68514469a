package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"printdock/protocol"
	"printdock/server/api"
	"printdock/server/jobs"
	"printdock/server/servertest"
)

// Print jobs end to end: REST submission → hub delivery over a real websocket → job_status → REST
// reads, on a real server (SQLite, keys, hub, API).

// fakeClock is the job queue's clock in tests that expire jobs: it moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// label is ZPL with every byte value in a comment field, so a delivery that is not byte-exact shows.
func label(name string) []byte {
	b := []byte("^XA^FO40,40^A0N,40,40^FD" + name + "^FS^FX")
	for i := range 256 {
		if i != '^' && i != '~' {
			b = append(b, byte(i))
		}
	}
	return append(b, "^FS^XZ"...)
}

// connectWith connects an agent with secret that reports printers and waits until the server lists
// them online; it returns the agent and the printers' server IDs in order.
func connectWith(t *testing.T, s *servertest.Server, secret string, o servertest.DialOptions, ps ...protocol.Printer) (*servertest.Agent, []string) {
	t.Helper()
	if ps == nil {
		ps = []protocol.Printer{}
	}
	o.Printers = ps
	a := s.Connect(t, secret, o)
	var ids []string
	for _, p := range ps {
		ids = append(ids, s.WaitPrinter(t, a, p.ID, true).ID)
	}
	return a, ids
}

func expectJobID(t *testing.T, a *servertest.Agent, want string) protocol.Job {
	t.Helper()
	m := a.ExpectJob(t)
	if m.JobID != want {
		t.Fatalf("agent received job %s, want %s", m.JobID, want)
	}
	return m
}

// TestJobEndToEnd: a job submitted over REST reaches the connected agent byte-exact, and the agent's
// reports move it through sent → printing → done with a timestamp per state.
func TestJobEndToEnd(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	k := s.CreatePrintClient(t, "Packing table 1")
	zd := servertest.SimPrinter("zd421")
	a, ids := connectWith(t, s, k.Secret, servertest.DialOptions{}, zd, servertest.SimPrinter("spare"))
	if want := jobs.ClientID(s.PortalID, k.ID, a.Hello.InstallationID); a.Welcome.ClientID != want {
		t.Fatalf("welcome client_id %s, want the job queue's %s", a.Welcome.ClientID, want)
	}
	if want := jobs.PrinterID(s.PortalID, a.Welcome.ClientID, zd.ID); ids[0] != want {
		t.Fatalf("printer ID %s, want %s", ids[0], want)
	}
	content := label("Order 4711")
	j := s.SubmitJob(t, ids[0], content, servertest.JobOptions{Title: "Order 4711", Copies: 2, Want: http.StatusCreated})
	if j.State != jobs.Queued || j.PrinterID != ids[0] || j.ClientID != a.Welcome.ClientID || j.Size != int64(len(content)) ||
		j.Copies != 2 || j.CreatedAt.IsZero() || j.CreatedBy != s.AdminEmail {
		t.Fatalf("submitted job = %+v", j)
	}

	m := expectJobID(t, a, j.ID)
	if !bytes.Equal(m.Content, content) || m.PrinterID != zd.ID || m.Title != "Order 4711" || m.Copies != 2 ||
		!m.ExpiresAt.Equal(j.ExpiresAt) {
		t.Fatalf("job message = %+v (content equal: %v)", m, bytes.Equal(m.Content, content))
	}
	got := s.GetJob(t, j.ID)
	if got.State != jobs.Sent || got.SentAt == nil || got.ReceivedAt != nil || got.Attempts != 1 {
		t.Fatalf("after delivery: %+v", got)
	}
	a.Ack(t, j.ID, protocol.JobReceived)
	servertest.WaitFor(t, "the receipt", func() bool { got = s.GetJob(t, j.ID); return got.ReceivedAt != nil })
	if got.State != jobs.Sent {
		t.Fatalf("received job is %s", got.State)
	}
	a.Ack(t, j.ID, protocol.JobPrinting)
	got = s.WaitJob(t, j.ID, jobs.Printing)
	a.Ack(t, j.ID, protocol.JobDone)
	got = s.WaitJob(t, j.ID, jobs.Done)
	if got.PrintingAt == nil || got.FinishedAt == nil || got.Reason != "" {
		t.Fatalf("done job = %+v", got)
	}
	stamps := []time.Time{got.CreatedAt, *got.SentAt, *got.ReceivedAt, *got.PrintingAt, *got.FinishedAt}
	if !slices.IsSortedFunc(stamps, func(a, b time.Time) int { return a.Compare(b) }) {
		t.Fatalf("timestamps out of order: %v", stamps)
	}
	var states []string
	for _, e := range s.JobEvents(t, j.ID) {
		states = append(states, fmt.Sprintf("%s>%s by %s", e.From, e.To, strings.SplitN(e.Actor, ":", 2)[0]))
	}
	want := []string{">queued by " + s.AdminEmail, "queued>sent by server", "sent>sent by agent", "sent>printing by agent", "printing>done by agent"}
	if !slices.Equal(states, want) {
		t.Fatalf("events %q, want %q", states, want)
	}

	// The list filters by printer and state.
	other := s.SubmitJob(t, ids[1], label("spare"), servertest.JobOptions{Title: "spare"})
	expectJobID(t, a, other.ID)
	listJobs := func(query string) []jobs.Job {
		var list struct {
			Items []jobs.Job `json:"items"`
		}
		s.JSON(t, http.MethodGet, "/api/v1/jobs"+query, s.AdminKey, nil, http.StatusOK, &list)
		return list.Items
	}
	if l := listJobs("?printer=" + ids[0]); len(l) != 1 || l[0].ID != j.ID || l[0].State != jobs.Done {
		t.Fatalf("jobs of printer 0: %+v", l)
	}
	if l := listJobs("?state=sent&limit=5"); len(l) != 1 || l[0].ID != other.ID {
		t.Fatalf("sent jobs: %+v", l)
	}
	if l := listJobs(""); len(l) != 2 || l[0].ID != other.ID {
		t.Fatalf("all jobs, newest first: %+v", l)
	}

	want = []string{
		"printdock_jobs_sent_total 2",
		`printdock_job_status_total{state="done"} 1`,
		`printdock_jobs_submitted_total{result="created"} 2`,
	}
	_, b := s.Do(t, http.MethodGet, "/metrics", "", nil)
	for _, w := range want {
		if !strings.Contains(string(b), w) {
			t.Errorf("metrics lack %q", w)
		}
	}
}

// TestJobDeliveredOnConnect: a job submitted while its agent is offline waits, and is delivered when
// the agent is back — once it has reported its printers.
func TestJobDeliveredOnConnect(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	k := s.CreatePrintClient(t, "sometimes offline")
	p := servertest.SimPrinter("a")
	a, ids := connectWith(t, s, k.Secret, servertest.DialOptions{}, p)
	a.Conn.Close(websocket.StatusNormalClosure, "")
	s.WaitPrinter(t, a, p.ID, false)

	content := label("while offline")
	j := s.SubmitJob(t, ids[0], content, servertest.JobOptions{Title: "while offline", Want: http.StatusCreated})
	if j.State != jobs.Queued {
		t.Fatalf("job for an offline printer: %+v", j)
	}
	b := s.Connect(t, k.Secret, servertest.DialOptions{InstallationID: a.Hello.InstallationID})
	if b.Welcome.ClientID != a.Welcome.ClientID {
		t.Fatalf("client ID changed on reconnect: %s → %s", a.Welcome.ClientID, b.Welcome.ClientID)
	}
	// Nothing goes out before the agent's printers message (PendingFor follows its latest list).
	b.ExpectAlive(t)
	if st := s.GetJob(t, j.ID).State; st != jobs.Queued {
		t.Fatalf("job %s before the agent reported its printers", st)
	}
	if err := b.SendPrinters(ctx10(t), p); err != nil {
		t.Fatal(err)
	}
	m := expectJobID(t, b, j.ID)
	if !bytes.Equal(m.Content, content) {
		t.Fatal("content differs")
	}
}

// TestRedelivery: a job sent but never acknowledged is sent again after the agent reconnects (not
// within the same session); an acknowledged job is never sent again.
func TestRedelivery(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	k := s.CreatePrintClient(t, "flaky link")
	p := servertest.SimPrinter("a")
	a, ids := connectWith(t, s, k.Secret, servertest.DialOptions{}, p)
	inst := servertest.DialOptions{InstallationID: a.Hello.InstallationID}

	j1 := s.SubmitJob(t, ids[0], label("one"), servertest.JobOptions{Title: "one"})
	expectJobID(t, a, j1.ID)
	// Unacknowledged, but sent in this session: the next wake-up does not send it again.
	j2 := s.SubmitJob(t, ids[0], label("two"), servertest.JobOptions{Title: "two"})
	expectJobID(t, a, j2.ID)
	a.Ack(t, j2.ID, protocol.JobReceived)
	servertest.WaitFor(t, "j2 received", func() bool { return s.GetJob(t, j2.ID).ReceivedAt != nil })
	a.Conn.CloseNow() // the link dies before the agent acknowledged j1

	b, _ := connectWith(t, s, k.Secret, inst, p)
	m := expectJobID(t, b, j1.ID) // j1 again, j2 (received) not
	if !bytes.Equal(m.Content, label("one")) {
		t.Fatal("redelivered content differs")
	}
	got := s.GetJob(t, j1.ID)
	if got.Attempts != 2 || got.State != jobs.Sent {
		t.Fatalf("after redelivery: %+v", got)
	}
	b.Ack(t, j1.ID, protocol.JobReceived)
	servertest.WaitFor(t, "j1 received", func() bool { return s.GetJob(t, j1.ID).ReceivedAt != nil })
	b.Conn.CloseNow()

	c, _ := connectWith(t, s, k.Secret, inst, p)
	j3 := s.SubmitJob(t, ids[0], label("three"), servertest.JobOptions{Title: "three"})
	expectJobID(t, c, j3.ID) // received jobs are not redelivered: j3 is next
	if got := s.GetJob(t, j1.ID); got.Attempts != 2 {
		t.Fatalf("j1 delivered %d times", got.Attempts)
	}
	if got := s.GetJob(t, j2.ID); got.Attempts != 1 {
		t.Fatalf("j2 delivered %d times", got.Attempts)
	}
	// Done by a later session: the job finishes normally.
	c.Ack(t, j1.ID, protocol.JobDone)
	s.WaitJob(t, j1.ID, jobs.Done)
}

// TestJobIdempotency: the same idempotency key gives one job (also under concurrent submissions);
// reusing it for other content is 409; the agent receives each job once.
func TestJobIdempotency(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	k := s.CreatePrintClient(t, "idempotent")
	a, ids := connectWith(t, s, k.Secret, servertest.DialOptions{}, servertest.SimPrinter("a"))
	first := s.SubmitJob(t, ids[0], label("order-1"), servertest.JobOptions{Title: "order 1", IdempotencyKey: "order-1", Want: http.StatusCreated})
	again := s.SubmitJob(t, ids[0], label("order-1"), servertest.JobOptions{Title: "order 1", IdempotencyKey: "order-1", Want: http.StatusOK})
	if again.ID != first.ID {
		t.Fatalf("retry created job %s besides %s", again.ID, first.ID)
	}
	code, b := s.Do(t, http.MethodPost, "/api/v1/printers/"+ids[0]+"/jobs", s.AdminKey,
		servertest.JobRequest(label("something else"), servertest.JobOptions{Title: "order 1", IdempotencyKey: "order-1"}))
	if e := decodeError(t, "reused key", b); code != http.StatusConflict || !strings.Contains(e.Error.Message, "idempotency key") {
		t.Fatalf("key reused for other content: %d %s", code, b)
	}

	// Concurrent retries of one submission.
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]int{}
	created := 0
	for range 8 {
		wg.Go(func() {
			j, code, err := s.TrySubmitJob(context.Background(), ids[0], label("order-2"), servertest.JobOptions{Title: "order 2", IdempotencyKey: "order-2"})
			mu.Lock()
			defer mu.Unlock()
			if err != nil || code != http.StatusCreated && code != http.StatusOK {
				t.Errorf("concurrent submit: %d %v", code, err)
				return
			}
			seen[j.ID]++
			if code == http.StatusCreated {
				created++
			}
		})
	}
	wg.Wait()
	if len(seen) != 1 || created != 1 {
		t.Fatalf("concurrent submissions made jobs %v (%d created)", seen, created)
	}
	var second string
	for id := range seen {
		second = id
	}
	marker := s.SubmitJob(t, ids[0], label("marker"), servertest.JobOptions{Title: "marker"})
	for _, want := range []string{first.ID, second, marker.ID} {
		expectJobID(t, a, want)
	}
}

// TestExpiredJobNeverDelivered: a job that reaches its expiry before delivery — queued, or sent and
// never acknowledged — is marked expired and never sent; the sweeper expires jobs of offline agents.
func TestExpiredJobNeverDelivered(t *testing.T) {
	clock := &fakeClock{t: time.Now().UTC()}
	s := servertest.New(t, servertest.Options{JobClock: clock.Now})
	k := s.CreatePrintClient(t, "expiry")
	p := servertest.SimPrinter("a")
	a, ids := connectWith(t, s, k.Secret, servertest.DialOptions{}, p)
	inst := servertest.DialOptions{InstallationID: a.Hello.InstallationID}

	sentOnly := s.SubmitJob(t, ids[0], label("sent only"), servertest.JobOptions{ExpiresInSeconds: 60})
	expectJobID(t, a, sentOnly.ID)
	a.Conn.CloseNow()
	s.WaitPrinter(t, a, p.ID, false)
	queued := s.SubmitJob(t, ids[0], label("queued"), servertest.JobOptions{ExpiresInSeconds: 60})
	clock.Advance(61 * time.Second)

	b, _ := connectWith(t, s, k.Secret, inst, p)
	fresh := s.SubmitJob(t, ids[0], label("fresh"), servertest.JobOptions{})
	expectJobID(t, b, fresh.ID) // neither expired job came first
	for _, id := range []string{sentOnly.ID, queued.ID} {
		got := s.GetJob(t, id)
		if got.State != jobs.Expired || got.FinishedAt == nil || !strings.Contains(got.Reason, "expired") {
			t.Errorf("expired job = %+v", got)
		}
	}
	if got := s.GetJob(t, sentOnly.ID); got.Attempts != 1 {
		t.Errorf("the expired sent job was delivered %d times", got.Attempts)
	}

	// The sweeper, for an agent that does not come back.
	b.Conn.CloseNow()
	s.WaitPrinter(t, a, p.ID, false)
	swept := s.SubmitJob(t, ids[0], label("swept"), servertest.JobOptions{ExpiresInSeconds: 1})
	clock.Advance(time.Second)
	if n, err := s.S.Jobs.ExpireDue(context.Background(), clock.Now()); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	if got := s.GetJob(t, swept.ID); got.State != jobs.Expired {
		t.Fatalf("swept job = %+v", got)
	}
}

// TestCancelRules: a job can be cancelled while queued or sent, not once printing or finished; a
// cancelled job is never delivered; an agent reporting a cancelled job gets a conflict error.
func TestCancelRules(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	k := s.CreatePrintClient(t, "cancel")
	pa, pb := servertest.SimPrinter("a"), servertest.SimPrinter("b")
	a, ids := connectWith(t, s, k.Secret, servertest.DialOptions{}, pa, pb)
	ctx := ctx10(t)
	cancel := func(id string, want int) []byte {
		t.Helper()
		code, b := s.Do(t, http.MethodDelete, "/api/v1/jobs/"+id, s.AdminKey, nil)
		if code != want {
			t.Fatalf("cancel %s: %d, want %d: %s", id, code, want, b)
		}
		return b
	}

	// Queued (printer b unplugged, so the job waits), cancelled, never delivered when b returns.
	if err := a.SendPrinters(ctx, pa); err != nil {
		t.Fatal(err)
	}
	s.WaitPrinter(t, a, pb.ID, false)
	queued := s.SubmitJob(t, ids[1], label("queued"), servertest.JobOptions{})
	cancel(queued.ID, http.StatusOK)
	got := s.GetJob(t, queued.ID)
	if got.State != jobs.Cancelled || got.FinishedAt == nil || got.Reason != "cancelled by "+s.AdminEmail {
		t.Fatalf("cancelled job = %+v", got)
	}
	cancel(queued.ID, http.StatusConflict)
	if err := a.SendPrinters(ctx, pa, pb); err != nil {
		t.Fatal(err)
	}
	marker := s.SubmitJob(t, ids[1], label("marker"), servertest.JobOptions{})
	expectJobID(t, a, marker.ID)

	// Sent to the agent (whose spool will print it): 409, and the agent's report is accepted.
	sent := s.SubmitJob(t, ids[0], label("sent"), servertest.JobOptions{})
	expectJobID(t, a, sent.ID)
	if b := cancel(sent.ID, http.StatusConflict); !strings.Contains(decodeError(t, "cancel sent", b).Error.Message, "can no longer be cancelled") {
		t.Fatalf("cancel sent: %s", b)
	}
	a.Ack(t, sent.ID, protocol.JobDone)
	s.WaitJob(t, sent.ID, jobs.Done)

	// Printing: 409 "already printing"; done: 409.
	printing := s.SubmitJob(t, ids[0], label("printing"), servertest.JobOptions{})
	expectJobID(t, a, printing.ID)
	a.Ack(t, printing.ID, protocol.JobPrinting)
	s.WaitJob(t, printing.ID, jobs.Printing)
	if b := cancel(printing.ID, http.StatusConflict); !strings.Contains(decodeError(t, "cancel printing", b).Error.Message, "already printing") {
		t.Fatalf("cancel printing: %s", b)
	}
	a.Ack(t, printing.ID, protocol.JobDone)
	s.WaitJob(t, printing.ID, jobs.Done)
	cancel(printing.ID, http.StatusConflict)
	cancel("job_nope", http.StatusNotFound)
}

// TestPrinterIDsStable: printer IDs depend on portal, client and URI only: they survive reconnects,
// unplugging and key rotation; another installation or another key gets other IDs.
func TestPrinterIDsStable(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	k := s.CreatePrintClient(t, "stable")
	pa, pb, pc := servertest.SimPrinter("a"), servertest.SimPrinter("b"), servertest.SimPrinter("c")
	a, first := connectWith(t, s, k.Secret, servertest.DialOptions{}, pa, pb)
	inst := servertest.DialOptions{InstallationID: a.Hello.InstallationID}
	a.Conn.CloseNow()
	s.WaitPrinter(t, a, pa.ID, false)

	b, second := connectWith(t, s, k.Secret, inst, pb, pc)
	if b.Welcome.ClientID != a.Welcome.ClientID || second[0] != first[1] {
		t.Fatalf("IDs changed on reconnect: client %s → %s, printer b %s → %s", a.Welcome.ClientID, b.Welcome.ClientID, first[1], second[0])
	}
	byURI := map[string]jobs.Printer{}
	for _, p := range s.Printers(t) {
		byURI[p.URI] = p
	}
	if p := byURI[pa.ID]; p.ID != first[0] || p.Present || p.Online {
		t.Fatalf("unplugged printer a = %+v", p)
	}
	// A rotated key keeps its credential, so the client and printer IDs stay.
	rotated := s.KeyAction(t, k.ID, "rotate")
	b.ExpectLogout(t, protocol.ReasonRotated)
	c, third := connectWith(t, s, rotated.Secret, inst, pa)
	if c.Welcome.ClientID != a.Welcome.ClientID || third[0] != first[0] {
		t.Fatalf("IDs changed after rotation: %s / %s", c.Welcome.ClientID, third[0])
	}
	// Another installation with the same key, and the same installation ID under another key (a copied
	// state directory), are other clients with other printer IDs.
	d, fourth := connectWith(t, s, rotated.Secret, servertest.DialOptions{}, pa)
	k2 := s.CreatePrintClient(t, "copied installation")
	e, fifth := connectWith(t, s, k2.Secret, inst, pa)
	for _, x := range []struct {
		client, printer string
	}{{d.Welcome.ClientID, fourth[0]}, {e.Welcome.ClientID, fifth[0]}} {
		if x.client == a.Welcome.ClientID || x.printer == first[0] {
			t.Errorf("another client shares IDs: %s %s", x.client, x.printer)
		}
	}
}

// TestJobStatusOfAnotherClient: a job_status for a job the client does not own is refused with an
// `error` message (the session stays), also from a copied installation ID under another key.
func TestJobStatusOfAnotherClient(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	owner, ids := connectWith(t, s, s.CreatePrintClient(t, "owner").Secret, servertest.DialOptions{}, servertest.SimPrinter("a"))
	otherKey := s.CreatePrintClient(t, "other")
	other, _ := connectWith(t, s, otherKey.Secret, servertest.DialOptions{}, servertest.SimPrinter("a"))
	copied, _ := connectWith(t, s, otherKey.Secret, servertest.DialOptions{InstallationID: owner.Hello.InstallationID}, servertest.SimPrinter("a"))
	if copied.Welcome.ClientID == owner.Welcome.ClientID {
		t.Fatal("a copied installation ID under another key got the owner's client ID")
	}
	j := s.SubmitJob(t, ids[0], label("mine"), servertest.JobOptions{})
	expectJobID(t, owner, j.ID)
	for _, a := range []*servertest.Agent{other, copied} {
		a.Ack(t, j.ID, protocol.JobDone)
		if e := a.ExpectError(t, "forbidden"); !strings.Contains(e.Message, j.ID) {
			t.Errorf("error message %q", e.Message)
		}
		a.ExpectAlive(t)
	}
	other.Ack(t, "job_nope", protocol.JobDone)
	other.ExpectError(t, "not_found")
	if got := s.GetJob(t, j.ID); got.State != jobs.Sent || got.ReceivedAt != nil {
		t.Fatalf("another client's report changed the job: %+v", got)
	}
	owner.Ack(t, j.ID, protocol.JobDone)
	s.WaitJob(t, j.ID, jobs.Done)
}

// TestJobBadInput: every malformed submission is a JSON error with the right status and a clear message.
func TestJobBadInput(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	_, ids := connectWith(t, s, s.CreatePrintClient(t, "input").Secret, servertest.DialOptions{}, servertest.SimPrinter("a"))
	path := "/api/v1/printers/" + ids[0] + "/jobs"
	ok := func(f func(m map[string]any)) map[string]any {
		m := servertest.JobRequest([]byte("^XA^XZ"), servertest.JobOptions{Title: "t"})
		f(m)
		return m
	}
	for _, tc := range []struct {
		name string
		path string
		body any
		want int
		msg  string
	}{
		{"unknown printer", "/api/v1/printers/prn_nope/jobs", ok(func(map[string]any) {}), 404, `printer "prn_nope" not found`},
		{"bad base64", path, `{"content_base64":"^XA not base64"}`, 400, "base64"},
		{"empty content", path, ok(func(m map[string]any) { m["content_base64"] = "" }), 400, "empty"},
		{"no content", path, `{"title":"x"}`, 400, "empty"},
		{"copies too many", path, ok(func(m map[string]any) { m["copies"] = 1001 }), 400, "copies"},
		{"copies negative", path, ok(func(m map[string]any) { m["copies"] = -1 }), 400, "copies"},
		{"copies not a number", path, ok(func(m map[string]any) { m["copies"] = "two" }), 400, `"copies"`},
		{"content type", path, ok(func(m map[string]any) { m["content_type"] = "pdf" }), 400, "content_type"},
		{"expiry", path, ok(func(m map[string]any) { m["expires_in_seconds"] = -5 }), 400, "expires_in_seconds"},
		{"long title", path, ok(func(m map[string]any) { m["title"] = strings.Repeat("t", 257) }), 400, "title"},
		{"unknown field", path, ok(func(m map[string]any) { m["priority"] = 1 }), 400, `unknown field "priority"`},
		{"trailing data", path, `{"content_base64":"XlhB"} {}`, 400, "after the object"},
		{"empty body", path, ``, 400, "empty"},
		{"oversized content", path, ok(func(m map[string]any) { m["content_base64"] = make([]byte, jobs.MaxContentSize+1) }), 413, "larger than"},
		{"oversized body", path, `{"title":"` + strings.Repeat("x", api.MaxJobBodySize) + `"}`, 413, "larger than"},
		{"unknown job", "/api/v1/jobs/job_nope", nil, 404, `job "job_nope" not found`},
		{"bad state", "/api/v1/jobs?state=lost", nil, 400, "state"},
		{"bad limit", "/api/v1/jobs?limit=0", nil, 400, "limit"},
		{"unknown printer get", "/api/v1/printers/prn_nope", nil, 404, `printer "prn_nope" not found`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := http.MethodPost
			if tc.body == nil {
				method = http.MethodGet
			}
			code, b := s.Do(t, method, tc.path, s.AdminKey, tc.body)
			if code != tc.want {
				t.Fatalf("status %d, want %d: %.300s", code, tc.want, b)
			}
			if e := decodeError(t, tc.name, b); !strings.Contains(e.Error.Message, tc.msg) {
				t.Fatalf("message %q does not say %q", e.Error.Message, tc.msg)
			}
		})
	}
	var list struct {
		Items []jobs.Job `json:"items"`
	}
	s.JSON(t, http.MethodGet, "/api/v1/jobs", s.AdminKey, nil, http.StatusOK, &list)
	if len(list.Items) != 0 {
		t.Fatalf("refused submissions made jobs: %+v", list.Items)
	}
}

// TestLargestJobDelivered: content of jobs.MaxContentSize with the longest title travels in one job
// message, byte-exact.
func TestLargestJobDelivered(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	a, ids := connectWith(t, s, s.CreatePrintClient(t, "big").Secret, servertest.DialOptions{}, servertest.SimPrinter("a"))
	content := make([]byte, jobs.MaxContentSize)
	rand.Read(content)
	title := strings.Repeat("<", 256) // JSON escapes each to 6 bytes
	j := s.SubmitJob(t, ids[0], content, servertest.JobOptions{Title: title, Want: http.StatusCreated})
	m := expectJobID(t, a, j.ID)
	if !bytes.Equal(m.Content, content) || m.Title != title {
		t.Fatal("the largest job arrived altered")
	}
}

// TestClientsList: GET /api/v1/clients lists every agent the server has seen, online or not, with its
// printers and their last status.
func TestClientsList(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	k := s.CreatePrintClient(t, "Packing table 3")
	media := protocol.Printer{ID: "tcp://10.0.0.5:9100", Name: "ZT411", Make: "Zebra", Status: "media_out", Reason: "out of labels"}
	a, _ := connectWith(t, s, k.Secret, servertest.DialOptions{}, servertest.SimPrinter("a"), media)
	b, _ := connectWith(t, s, s.CreatePrintClient(t, "Returns").Secret, servertest.DialOptions{})
	b.Conn.CloseNow()
	var list struct {
		Items []api.ClientJSON `json:"items"`
	}
	servertest.WaitFor(t, "the second agent offline", func() bool {
		list.Items = nil // decoding into old items would keep fields the new answer omits
		s.JSON(t, http.MethodGet, "/api/v1/clients", s.AdminKey, nil, http.StatusOK, &list)
		return len(list.Items) == 2 && !list.Items[1].Online
	})
	on, off := list.Items[0], list.Items[1]
	if on.ID != a.Welcome.ClientID || !on.Online || on.Description != "Packing table 3" || on.Hostname != "test-host" ||
		on.AgentVersion != "test" || on.OS != "linux" || on.InstallationID != a.Hello.InstallationID || on.KeyKind != "print_client" ||
		on.ConnectedAt == nil || on.RemoteAddr == "" || len(on.Printers) != 2 {
		t.Fatalf("online client = %+v", on)
	}
	if p := on.Printers[1]; p.URI != media.ID || p.Status != "media_out" || p.Reason != "out of labels" || !p.Online {
		t.Fatalf("printer = %+v", p)
	}
	if off.ID != b.Welcome.ClientID || off.Online || off.ConnectedAt != nil || off.Description != "Returns" || off.LastSeenAt.IsZero() ||
		off.Printers == nil {
		t.Fatalf("offline client = %+v", off)
	}
}
