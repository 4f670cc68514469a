package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"printdock/protocol"
	"printdock/server"
	"printdock/server/jobs"
	"printdock/server/keys"
	"printdock/server/servertest"
	"printdock/server/store/postgres"
	"printdock/server/store/postgres/pgtest"
)

// Replicas: two or more servers on one PostgreSQL schema, each with its own listener, as behind a load
// balancer. PRINTDOCK_TEST_POSTGRES_URL names the cluster (scripts/pg-throwaway.sh).

// cluster is replica A (bootstrapped, via servertest) and how to start more replicas on its database.
type cluster struct {
	A       *servertest.Server
	url     string
	dataDir string // A's: holds the pepper
}

func newCluster(t testing.TB, configure func(*server.Config)) *cluster {
	t.Helper()
	c := &cluster{url: pgtest.FreshSchema(t)}
	c.A = servertest.New(t, servertest.Options{Config: func(cfg *server.Config) {
		cfg.DatabaseURL = c.url
		c.dataDir = cfg.DataDir
		if configure != nil {
			configure(cfg)
		}
	}})
	return c
}

// copyPepper gives a new data directory A's pepper, as docs/postgres.md tells operators to.
func (c *cluster) copyPepper(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join(c.dataDir, keys.PepperFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, keys.PepperFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// replica starts another server on the cluster's database with its own listener.
func (c *cluster) replica(t testing.TB, configure func(*server.Config)) *servertest.Server {
	t.Helper()
	cfg := server.Config{DataDir: c.copyPepper(t), DatabaseURL: c.url, Version: "test",
		KeysOptions: []keys.Option{keys.WithPasswordParams(servertest.CheapPasswords)}}
	if configure != nil {
		configure(&cfg)
	}
	ctx := context.Background()
	srv, err := server.New(ctx, cfg)
	if err != nil {
		t.Fatalf("replica: %v", err)
	}
	if _, created, err := srv.Bootstrap(ctx, "other@example.com"); err != nil || created {
		srv.Close()
		t.Fatalf("replica bootstrap: created=%v, %v (want the existing portal)", created, err)
	}
	hs := httptest.NewUnstartedServer(nil)
	hc := srv.HTTPServer()
	hs.Config.Handler = hc.Handler
	hs.Config.ReadHeaderTimeout = hc.ReadHeaderTimeout
	hs.Config.ReadTimeout = hc.ReadTimeout
	hs.Config.MaxHeaderBytes = hc.MaxHeaderBytes
	hs.Start()
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("replica shutdown: %v", err)
		}
		hs.Close()
	})
	s := servertest.Attach(hs.URL, c.A.AdminKey)
	s.S, s.HTTP, s.PortalID, s.AdminEmail = srv, hs, c.A.PortalID, c.A.AdminEmail
	return s
}

// TestReplicaLogout: an agent connected to replica A is logged out at once when its key changes through
// replica B's REST API, for every kind of change, and agents of other keys stay connected.
func TestReplicaLogout(t *testing.T) {
	c := newCluster(t, nil)
	a := c.A
	b := c.replica(t, nil)
	for _, tc := range []struct{ action, reason string }{
		{"rotate", protocol.ReasonRotated},
		{"revoke", protocol.ReasonRevoked},
		{"deactivate", protocol.ReasonDeactivated},
		{"delete", protocol.ReasonDeleted},
	} {
		t.Run(tc.action, func(t *testing.T) {
			target := a.CreatePrintClient(t, "target "+tc.action)
			other := a.CreatePrintClient(t, "other "+tc.action)
			onA := a.Connect(t, target.Secret, servertest.DialOptions{})
			otherOnA := a.Connect(t, other.Secret, servertest.DialOptions{})
			if tc.action == "delete" {
				b.DeleteKey(t, target.ID)
			} else {
				b.KeyAction(t, target.ID, tc.action)
			}
			onA.ExpectLogout(t, tc.reason)
			otherOnA.ExpectAlive(t)
			a.WaitConnected(t, target.ID, false)
		})
	}
	// A user's API key rotated on B logs out the user's desktop session on A.
	u := a.CreateUser(t, "desk@example.com", keys.RoleUser)
	desk := a.Connect(t, u.APIKey, servertest.DialOptions{})
	b.JSON(t, http.MethodPost, "/api/v1/users/"+u.ID+"/api-key/rotate", b.AdminKey, nil, http.StatusOK, nil)
	desk.ExpectLogout(t, protocol.ReasonRotated)
}

// TestReplicaJobDelivery: a job submitted on replica B reaches the agent connected to replica A, and its
// status, reported on A, is visible on B; a cancel requested on B reaches the agent through A.
func TestReplicaJobDelivery(t *testing.T) {
	c := newCluster(t, nil)
	a := c.A
	b := c.replica(t, nil)
	k := a.CreatePrintClient(t, "Packing table")
	zd := servertest.SimPrinter("zd421")
	agent := a.Connect(t, k.Secret, servertest.DialOptions{Printers: []protocol.Printer{zd},
		Features: []string{protocol.FeatureCancel}})
	p := b.WaitPrinter(t, agent, zd.ID, true) // B sees A's agent online
	for i := range 3 {
		j := b.SubmitJob(t, p.ID, []byte("^XA^FDlabel^FS^XZ"), servertest.JobOptions{Title: "order", Want: http.StatusCreated})
		m := agent.ExpectJob(t)
		if m.JobID != j.ID || m.PrinterID != zd.ID {
			t.Fatalf("job %d: got %+v, want %s", i, m, j.ID)
		}
		agent.Ack(t, j.ID, protocol.JobDone)
		b.WaitJob(t, j.ID, jobs.Done)
	}
	j := b.SubmitJob(t, p.ID, []byte("^XA^FDcancel me^FS^XZ"), servertest.JobOptions{Want: http.StatusCreated})
	if m := agent.ExpectJob(t); m.JobID != j.ID {
		t.Fatalf("got job %s, want %s", m.JobID, j.ID)
	}
	cancelJob(t, b, j.ID, http.StatusAccepted)
	agent.ExpectCancel(t, j.ID)
	agent.Ack(t, j.ID, protocol.JobCancelled)
	b.WaitJob(t, j.ID, jobs.Cancelled)
}

// TestReplicaNewKeyWorksAtOnce: a key created on A authenticates on B right away (one pepper, one
// database), and so does A's administrator key on B's REST API.
func TestReplicaNewKeyWorksAtOnce(t *testing.T) {
	c := newCluster(t, nil)
	b := c.replica(t, nil)
	k := c.A.CreatePrintClient(t, "new on A")
	agent := b.Connect(t, k.Secret, servertest.DialOptions{})
	agent.ExpectAlive(t)
	b.WaitConnected(t, k.ID, true)
	// And the other way round, rotated on B: the new secret works on A, the old one is refused there.
	rot := b.KeyAction(t, k.ID, "rotate")
	agent.ExpectLogout(t, protocol.ReasonRotated)
	c.A.Connect(t, rot.Secret, servertest.DialOptions{}).ExpectAlive(t)
	if _, resp, err := c.A.Dial(context.Background(), k.Secret, servertest.DialOptions{}); err == nil || resp == nil ||
		resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("old secret on A: %v", err)
	}
}

// TestReplicaPresence: a replica starting (and resetting presence) leaves the agents of the other
// replicas online; a replica shutting down takes only its own agents offline.
func TestReplicaPresence(t *testing.T) {
	c := newCluster(t, nil)
	b := c.replica(t, nil)
	k := c.A.CreatePrintClient(t, "presence")
	onA := c.A.Connect(t, k.Secret, servertest.DialOptions{Printers: []protocol.Printer{servertest.SimPrinter("a")}})
	onB := b.Connect(t, k.Secret, servertest.DialOptions{Printers: []protocol.Printer{servertest.SimPrinter("b")}})
	c.A.WaitPrinter(t, onA, "sim://a", true)
	c.A.WaitPrinter(t, onB, "sim://b", true)

	third := c.replica(t, nil) // starts: ResetPresence
	third.WaitPrinter(t, onA, "sim://a", true)
	third.WaitPrinter(t, onB, "sim://b", true)

	closed := make(chan error, 1)
	go func() { closed <- onB.WaitClose(context.Background(), protocol.CloseServerShutdown) }()
	if err := b.S.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	c.A.WaitPrinter(t, onB, "sim://b", false)
	c.A.WaitPrinter(t, onA, "sim://a", true)
}

// TestReplicaPepper: a replica whose pepper differs from the one the database was set up with, or that
// has none, refuses to start instead of failing every secret.
func TestReplicaPepper(t *testing.T) {
	c := newCluster(t, nil)
	ctx := context.Background()
	wrong := t.TempDir()
	if _, err := keys.LoadOrCreatePepper(wrong); err != nil {
		t.Fatal(err)
	}
	for name, dir := range map[string]string{"other pepper": wrong, "no pepper": t.TempDir()} {
		t.Run(name, func(t *testing.T) {
			srv, err := server.New(ctx, server.Config{DataDir: dir, DatabaseURL: c.url})
			if err == nil {
				srv.Close()
				t.Fatal("started")
			}
			if !errors.Is(err, keys.ErrPepperMismatch) {
				t.Fatalf("err = %v, want keys.ErrPepperMismatch", err)
			}
		})
	}
}

// TestReplicaConcurrentBootstrap: replicas starting together on an empty database create one portal; the
// others find it (created == false, no error). They share one pepper.
func TestReplicaConcurrentBootstrap(t *testing.T) {
	u := pgtest.FreshSchema(t)
	pepperDir := t.TempDir()
	pepper, err := keys.LoadOrCreatePepper(pepperDir)
	if err != nil {
		t.Fatal(err)
	}
	const n = 3
	var wg sync.WaitGroup
	created := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, keys.PepperFile), pepper, 0o600); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			srv, err := server.New(context.Background(), server.Config{DataDir: dir, DatabaseURL: u,
				KeysOptions: []keys.Option{keys.WithPasswordParams(servertest.CheapPasswords)}})
			if err != nil {
				errs[i] = err
				return
			}
			defer srv.Close()
			_, created[i], errs[i] = srv.Bootstrap(context.Background(), "admin@example.com")
		}()
	}
	wg.Wait()
	count := 0
	for i := range n {
		if errs[i] != nil {
			t.Errorf("replica %d: %v", i, errs[i])
		}
		if created[i] {
			count++
		}
	}
	if count != 1 {
		t.Errorf("%d replicas bootstrapped, want 1", count)
	}
}

// terminateListener kills the listening connection of the servers whose URL carries appName, as a
// network failure or a database restart would.
func terminateListener(t *testing.T, dbURL, appName string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1`, appName+" (listener)").Scan(&n); err != nil || n == 0 {
		t.Fatalf("terminated %d listeners: %v", n, err)
	}
}

// bareServices opens the cluster's database with a key lifecycle and a job queue that announce nothing
// to the replicas (like a tool working on the database directly), and returns them with the
// administrator as actor.
func bareServices(t *testing.T, c *cluster) (*keys.Service, *jobs.Service, keys.Actor) {
	t.Helper()
	db, err := postgres.Open(context.Background(), c.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	pepper, err := keys.LoadOrCreatePepper(c.dataDir)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := keys.New(db, pepper, keys.WithPasswordParams(servertest.CheapPasswords))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ks.Authenticate(context.Background(), c.A.AdminKey, "", "test")
	if err != nil {
		t.Fatal(err)
	}
	return ks, jobs.New(jobs.Options{Store: db}), keys.Actor{Principal: p, RemoteAddr: "test"}
}

// TestReplicaMissedNotifications: when replica A's listening connection drops, changes it may not have
// heard of are caught up: every session's key is re-checked and every agent looks for pending jobs.
func TestReplicaMissedNotifications(t *testing.T) {
	c, app := listenerCluster(t)
	ks, js, admin := bareServices(t, c)
	k := c.A.CreatePrintClient(t, "missed")
	zd := servertest.SimPrinter("zd")
	agent := c.A.Connect(t, k.Secret, servertest.DialOptions{Printers: []protocol.Printer{zd}})
	p := c.A.WaitPrinter(t, agent, zd.ID, true)

	// A job queued without an announcement reaches the agent once A re-establishes its listener.
	j, _, err := js.Submit(context.Background(), admin, p.ID, jobs.SubmitRequest{Content: []byte("^XA^XZ")})
	if err != nil {
		t.Fatal(err)
	}
	terminateListener(t, c.url, app)
	if m := agent.ExpectJob(t); m.JobID != j.ID {
		t.Fatalf("got job %s, want %s", m.JobID, j.ID)
	}

	// A rotation nobody announced logs the agent out the same way.
	if _, err := ks.RotateClientKey(context.Background(), admin, k.ID); err != nil {
		t.Fatal(err)
	}
	agent.ExpectAlive(t) // not heard of yet
	terminateListener(t, c.url, app)
	agent.ExpectLogout(t, protocol.ReasonRotated)
}

// TestReplicaRevalidateEvery: the periodic re-check catches a change whose event never came.
func TestReplicaRevalidateEvery(t *testing.T) {
	c := newCluster(t, func(cfg *server.Config) { cfg.RevalidateEvery = 20 * time.Millisecond })
	ks, _, admin := bareServices(t, c)
	k := c.A.CreatePrintClient(t, "periodic")
	agent := c.A.Connect(t, k.Secret, servertest.DialOptions{})
	if _, err := ks.RevokeClientKey(context.Background(), admin, k.ID); err != nil {
		t.Fatal(err)
	}
	agent.ExpectLogout(t, protocol.ReasonRevoked)
}

// TestReplicaIdempotentSubmitRace: submissions with one idempotency key racing on two replicas create one
// job; every other answer is that job with 200 (the retried transaction does not keep a stale "created").
func TestReplicaIdempotentSubmitRace(t *testing.T) {
	c := newCluster(t, nil)
	b := c.replica(t, nil)
	k := c.A.CreatePrintClient(t, "race")
	zd := servertest.SimPrinter("zd")
	agent := c.A.Connect(t, k.Secret, servertest.DialOptions{Printers: []protocol.Printer{zd}})
	p := c.A.WaitPrinter(t, agent, zd.ID, true)
	for round := range 3 {
		const n = 8
		var wg sync.WaitGroup
		ids := make([]string, n)
		codes := make([]int, n)
		errs := make([]error, n)
		key := "race-" + pgtest.RandHex(4)
		for i := range n {
			s := c.A
			if i%2 == 1 {
				s = b
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				j, code, err := s.TrySubmitJob(context.Background(), p.ID, []byte("^XA^XZ"),
					servertest.JobOptions{IdempotencyKey: key})
				ids[i], codes[i], errs[i] = j.ID, code, err
			}()
		}
		wg.Wait()
		created := 0
		for i := range n {
			if errs[i] != nil || ids[i] == "" || ids[i] != ids[0] {
				t.Fatalf("round %d: answers %v %v %v", round, ids, codes, errs)
			}
			if codes[i] == http.StatusCreated {
				created++
			}
		}
		if created != 1 {
			t.Fatalf("round %d: %d answers 201 (%v), want 1", round, created, codes)
		}
	}
}
