package jobs

import (
	"errors"
	"path/filepath"
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
