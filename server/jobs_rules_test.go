package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"printdock/protocol"
	"printdock/server/api"
	"printdock/server/jobs"
	"printdock/server/jobs/jobstest"
	"printdock/server/servertest"
)

// TestExpiredJobNeverDelivered: a job that reaches its expiry before delivery — queued, or sent and
// never acknowledged — is marked expired and never sent; the sweeper expires jobs of offline agents.
func TestExpiredJobNeverDelivered(t *testing.T) {
	clock := jobstest.NewClock(time.Now().UTC())
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
		{"unknown content type", path, ok(func(m map[string]any) { m["content_type"] = "postscript" }), 400, "content_type"},
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
