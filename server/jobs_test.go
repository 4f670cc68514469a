package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"printdock/protocol"
	"printdock/server/jobs"
	"printdock/server/servertest"
)

// Print jobs end to end: REST submission → hub delivery over a real websocket → job_status → REST
// reads, on a real server (SQLite, keys, hub, API).

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
	// Its agent is connected here: the job is handed over as it is created (sent), unless the session's
	// delivery had not yet made its first look (queued).
	if j.State != jobs.Sent && j.State != jobs.Queued || j.PrinterID != ids[0] || j.ClientID != a.Welcome.ClientID || j.Size != int64(len(content)) ||
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
