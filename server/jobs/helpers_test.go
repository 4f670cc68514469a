package jobs

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"printdock/protocol"
	"printdock/server/jobs/jobstest"
	"printdock/server/keys"
	"printdock/server/store"
	"printdock/server/store/sqlite"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

type env struct {
	t     *testing.T
	path  string
	st    *sqlite.DB
	svc   *Service
	clock *jobstest.Clock
	alice keys.Actor // user in p1
	admin keys.Actor // admin in p1
	oauth keys.Actor // OAuth token in p1
	bob   keys.Actor // user in p2
	// features are the hello features of the agents that agent connects (none: an older agent).
	features []string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "printdock.db")
	st, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, p := range []string{"p1", "p2"} {
		if err := st.CreatePortal(t.Context(), store.Portal{ID: p, Name: p, CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	clock := jobstest.NewClock(t0)
	e := &env{t: t, path: path, st: st, clock: clock,
		svc:   New(Options{Store: st, Clock: clock.Now}),
		alice: actor("p1", "alice@example.com", keys.RoleUser, keys.KindUser),
		admin: actor("p1", "admin@example.com", keys.RoleAdmin, keys.KindSession),
		oauth: actor("p1", "oauth:oac_1", keys.RoleUser, keys.KindOAuth),
		bob:   actor("p2", "bob@example.com", keys.RoleUser, keys.KindUser),
	}
	return e
}

func actor(portal, email string, role keys.Role, kind keys.Kind) keys.Actor {
	return keys.Actor{Principal: keys.Principal{PortalID: portal, Email: email, Role: role, Kind: kind,
		CredentialID: "cred-" + email}, RemoteAddr: "192.0.2.1:1234"}
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// agent connects an installation of portal with credential and reports printers with the given URIs.
func (e *env) agent(portal, credential, installation string, uris ...string) (clientID string, printerIDs []string) {
	e.t.Helper()
	id, _, err := e.svc.ClientConnected(e.t.Context(), portal, credential, protocol.Hello{ProtocolVersion: 1,
		AgentVersion: "1.2.3", Hostname: "host-" + installation, OS: "linux", InstallationID: installation,
		Features: e.features})
	e.must(err)
	var ps []protocol.Printer
	for _, u := range uris {
		ps = append(ps, protocol.Printer{ID: u, Name: "Zebra " + u, Make: "Zebra", Model: "ZD421", Status: "ready"})
		printerIDs = append(printerIDs, PrinterID(portal, id, u))
	}
	e.must(e.svc.UpdatePrinters(e.t.Context(), id, ps))
	return id, printerIDs
}

func (e *env) submit(a keys.Actor, printerID string, req SubmitRequest) Job {
	e.t.Helper()
	if req.Content == nil {
		req.Content = []byte("^XA^FDhello^FS^XZ")
	}
	j, created, err := e.svc.Submit(e.t.Context(), a, printerID, req)
	if err != nil || !created {
		e.t.Fatalf("submit = %+v, %v, %v", j, created, err)
	}
	return j
}

func (e *env) job(id string) store.Job {
	e.t.Helper()
	j, err := e.st.GetJob(e.t.Context(), id)
	e.must(err)
	return j
}

func (e *env) state(id string) State { e.t.Helper(); return e.job(id).State }

func (e *env) pending(clientID string) []string {
	e.t.Helper()
	js, err := e.svc.PendingFor(e.t.Context(), clientID)
	e.must(err)
	var ids []string
	for _, j := range js {
		ids = append(ids, j.JobID)
	}
	return ids
}

func (e *env) ack(clientID, jobID, state string, reason string, retry bool) error {
	return e.svc.Ack(e.t.Context(), clientID, protocol.JobStatus{JobID: jobID, State: state, Reason: reason, Retry: retry, At: e.clock.Now()})
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: %v, want %v", what, err, want)
	}
}

// written is what st holds of job id (of portal p1): its row, its job_events and its events, without IDs.
func written(t *testing.T, st store.Store, id string) string {
	ctx := t.Context()
	var b strings.Builder
	j, err := st.GetJob(ctx, id)
	if err == nil {
		tp := func(t *time.Time) string {
			if t == nil {
				return "-"
			}
			return t.UTC().Format(time.RFC3339Nano)
		}
		fmt.Fprintf(&b, "job: %s %q attempts %d session %d updated %s sent %s received %s printing %s finished %s cancel %s %q\n",
			j.State, j.Reason, j.Attempts, j.SentSession, tp(&j.UpdatedAt), tp(j.SentAt), tp(j.ReceivedAt), tp(j.PrintingAt),
			tp(j.FinishedAt), tp(j.CancelRequestedAt), j.CancelRequestedBy)
	}
	evs, err := st.ListJobEvents(ctx, id, store.Page{Limit: 100})
	must(t, err)
	for _, ev := range evs {
		fmt.Fprintf(&b, "job_event: %s %s→%s %q %s\n", ev.At.UTC().Format(time.RFC3339Nano), ev.From, ev.To, ev.Reason, ev.Actor)
	}
	all, err := st.ListEvents(ctx, store.EventFilter{PortalID: "p1", Limit: 1000})
	must(t, err)
	for _, ev := range all {
		if ev.Subject == id {
			fmt.Fprintf(&b, "event: %s %s %s %s\n", ev.Type, ev.At.UTC().Format(time.RFC3339Nano), ev.PrinterID, ev.Data)
		}
	}
	return strings.ReplaceAll(b.String(), id, "JOB")
}
