package hub_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"printdock/internal/testenv"
	"printdock/protocol"
	"printdock/server/api"
	"printdock/server/hub"
	"printdock/server/jobs"
	"printdock/server/keys"
	"printdock/server/servertest"
	"printdock/server/store"
	"printdock/server/store/sqlite"
)

func ctx10(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// env is a hub with real keys (SQLite), optionally the real job queue (wrapped by a test), behind the
// real API's agent endpoint.
type env struct {
	db     *sqlite.DB
	svc    *keys.Service
	jobs   *jobs.Service
	hub    *hub.Hub
	url    string
	secret string // a print client secret
	admin  keys.Principal
}

func newEnv(t *testing.T, o hub.Options, wrap func(*jobs.Service) hub.Jobs) *env {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "printdock.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	pepper := make([]byte, keys.PepperLen)
	rand.Read(pepper)
	svc, err := keys.New(db, pepper, keys.WithPasswordParams(servertest.CheapPasswords))
	if err != nil {
		t.Fatal(err)
	}
	init, err := svc.Init(ctx, "Hub test", "admin@example.com")
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.Authenticate(ctx, init.AdminAPIKey, "", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	k, err := svc.CreateClientKey(ctx, keys.Actor{Principal: p, RemoteAddr: "127.0.0.1"}, keys.NewClientKey{Description: "hub test"})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, svc: svc, secret: k.Secret, admin: p}
	o.Keys = svc
	if wrap != nil {
		e.jobs = jobs.New(jobs.Options{Store: db})
		o.Jobs = wrap(e.jobs)
	}
	e.hub = hub.New(o)
	srv := httptest.NewServer(api.New(api.Options{Keys: svc, Jobs: e.jobs, Hub: e.hub}))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = e.hub.Shutdown(sctx)
		srv.Close()
	})
	e.url = "ws" + strings.TrimPrefix(srv.URL, "http") + protocol.Path
	return e
}

func (e *env) dial(t *testing.T) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(ctx10(t), e.url, &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + e.secret}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// connect dials, says hello and returns the connection and the welcome.
func (e *env) connect(t *testing.T) (*websocket.Conn, protocol.Welcome) {
	t.Helper()
	c := e.dial(t)
	send(t, c, servertest.Hello())
	m, err := read(ctx10(t), c)
	w, ok := m.(protocol.Welcome)
	if err != nil || !ok {
		t.Fatalf("welcome: %v %v", m, err)
	}
	return c, w
}

func send(t *testing.T, c *websocket.Conn, m protocol.Message) {
	t.Helper()
	b, err := protocol.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Write(ctx10(t), websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
}

// read returns the next message that is not a ping (pings are answered).
func read(ctx context.Context, c *websocket.Conn) (protocol.Message, error) {
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			return nil, err
		}
		m, err := protocol.Decode(b)
		if err != nil {
			return nil, err
		}
		if p, ok := m.(protocol.Ping); ok {
			pb, _ := protocol.Encode(protocol.Pong{Nonce: p.Nonce})
			_ = c.Write(ctx, websocket.MessageText, pb)
			continue
		}
		return m, nil
	}
}

// countingJobs counts the job queue's printers updates.
type countingJobs struct {
	*jobs.Service
	updates atomic.Int32
}

func (c *countingJobs) UpdatePrinters(ctx context.Context, clientID string, ps []protocol.Printer) error {
	c.updates.Add(1)
	return c.Service.UpdatePrinters(ctx, clientID, ps)
}

// TestPrintersCoalesced: an agent flooding printers messages costs at most one job-queue update per
// PrintersEvery, and the newest list is the one recorded in the end.
func TestPrintersCoalesced(t *testing.T) {
	const every = 200 * time.Millisecond
	var cj *countingJobs
	e := newEnv(t, hub.Options{PrintersEvery: every}, func(js *jobs.Service) hub.Jobs {
		cj = &countingJobs{Service: js}
		return cj
	})
	c, w := e.connect(t)
	start := time.Now()
	const n = 50
	for i := range n {
		send(t, c, protocol.Printers{Printers: []protocol.Printer{{ID: fmt.Sprintf("sim://p%d", i), Name: "p", Status: "ready"}}})
	}
	last := e.jobs
	testenv.WaitFor(t, "the newest printers list recorded", func() bool {
		ps, err := last.ListPrinters(context.Background(), w.Portal, store.Page{})
		if err != nil {
			return false
		}
		for _, p := range ps {
			if p.URI == fmt.Sprintf("sim://p%d", n-1) && p.Present {
				return true
			}
		}
		return false
	})
	elapsed := time.Since(start)
	// One at once, then at most one per interval begun since.
	if got, most := cj.updates.Load(), int32(2+elapsed/every); got > most {
		t.Errorf("%d printers messages in %v caused %d updates, want at most %d", n, elapsed, got, most)
	}
	// Only the newest is present.
	ps, err := last.ListPrinters(context.Background(), w.Portal, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.Present != (p.URI == fmt.Sprintf("sim://p%d", n-1)) {
			t.Errorf("printer %s present=%v", p.URI, p.Present)
		}
	}
}

// TestTooManyPrintersReported: printers beyond jobs.MaxPrintersPerClient are not recorded and the agent
// is told so (too_many_printers); the session stays.
func TestTooManyPrintersReported(t *testing.T) {
	e := newEnv(t, hub.Options{}, func(js *jobs.Service) hub.Jobs { return js })
	c := e.dial(t)
	send(t, c, servertest.Hello())
	if _, err := read(ctx10(t), c); err != nil {
		t.Fatal(err)
	}
	var ps []protocol.Printer
	for i := range jobs.MaxPrintersPerClient + 10 {
		ps = append(ps, protocol.Printer{ID: fmt.Sprintf("sim://%d", i), Name: "p", Status: "ready"})
	}
	send(t, c, protocol.Printers{Printers: ps})
	m, err := read(ctx10(t), c)
	if pe, ok := m.(protocol.Error); err != nil || !ok || pe.Code != "too_many_printers" {
		t.Fatalf("got %#v %v, want error too_many_printers", m, err)
	}
	send(t, c, protocol.Ping{Nonce: 7})
	if m, err := read(ctx10(t), c); err != nil || m.(protocol.Pong).Nonce != 7 {
		t.Fatalf("session after the refusal: %v %v", m, err)
	}
}

// TestStillValidStoreErrorCloses1013: when the key cannot be re-checked after registration (a store
// error), the session is closed with 1013 (try again later) instead of running unchecked.
func TestStillValidStoreErrorCloses1013(t *testing.T) {
	e := newEnv(t, hub.Options{}, nil)
	c := e.dial(t) // authenticated
	e.db.Close()   // now every store access of the keys service fails
	send(t, c, servertest.Hello())
	ctx := ctx10(t)
	for {
		m, err := read(ctx, c)
		if err != nil {
			if got := websocket.CloseStatus(err); got != websocket.StatusTryAgainLater {
				t.Fatalf("closed with %v (%v), want 1013", got, err)
			}
			return
		}
		if _, ok := m.(protocol.Welcome); !ok {
			t.Fatalf("unexpected %s", m.MessageType())
		}
	}
}

// TestAgentTextRedactedInLogs: job IDs, states and host names an agent sends are redacted in the
// server's log and in the answers (servertest fails the test on any secret-shaped string there).
func TestAgentTextRedactedInLogs(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	k := s.CreatePrintClient(t, "redaction")
	fake := "pdt_" + strings.Repeat("A1b2C3d4", 4) // secret-shaped, as if pasted by mistake
	c, _, err := s.Dial(ctx10(t), k.Secret, servertest.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	ctx := ctx10(t)
	// A session whose hello carries the text…
	send(t, c, protocol.Hello{ProtocolVersion: protocol.Version, AgentVersion: "v " + fake, Hostname: "host " + fake,
		OS: "linux", InstallationID: "inst-redact"})
	if _, err := read(ctx, c); err != nil {
		t.Fatal(err)
	}
	// …and one (whose reads servertest records) reporting it as job IDs and reasons.
	a := s.Connect(t, k.Secret, servertest.DialOptions{})
	if err := a.Send(ctx, protocol.Printers{Printers: []protocol.Printer{{ID: "sim://x", Name: "x"}}}); err != nil {
		t.Fatal(err)
	}
	for _, st := range []protocol.JobStatus{
		{JobID: fake, State: protocol.JobDone},                          // unknown job
		{JobID: "job_" + fake, State: protocol.JobFailed, Reason: fake}, // unknown job, with a reason
	} {
		if err := a.Send(ctx, st); err != nil {
			t.Fatal(err)
		}
		m, err := a.Read(ctx)
		if pe, ok := m.(protocol.Error); err != nil || !ok || pe.Code != "not_found" {
			t.Fatalf("got %#v %v, want error not_found", m, err)
		}
	}
	testenv.WaitFor(t, "the reports logged", func() bool {
		return strings.Count(s.Recorder().Log(), "agent reported an unknown job") >= 2
	})
}
