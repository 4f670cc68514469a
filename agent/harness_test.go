package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"printdock/agent/localapi"
	"printdock/internal/testenv"
	"printdock/keystore"
	"printdock/protocol"
	"printdock/server"
	"printdock/server/keys"
	"printdock/server/servertest"
)

// testServer is a real printdock-server in-process (SQLite in a temporary directory) that can be stopped
// and restarted on the same address with the same data, and that counts websocket connection attempts.
type testServer struct {
	*servertest.Server // REST helpers; S and HTTP are replaced on restart

	t         testing.TB
	dataDir   string
	addr      string
	heartbeat time.Duration
	rec       *servertest.Recorder
	attempts  atomic.Int64 // GET /api/v1/agent/ws requests (accepted or refused)

	mu      sync.Mutex
	running bool
}

type serverOpts struct {
	heartbeat time.Duration
}

func newTestServer(t testing.TB, o serverOpts) *testServer {
	t.Helper()
	ts := &testServer{t: t, dataDir: t.TempDir(), heartbeat: o.heartbeat, rec: servertest.NewRecorder()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = ln.Addr().String()
	srv, hs := ts.start(ln)
	res, created, err := srv.Bootstrap(context.Background(), "admin@example.com")
	if err != nil || !created {
		t.Fatalf("bootstrap: %v %v", created, err)
	}
	ts.rec.Issued("init", res.AdminAPIKey, res.AdminPassword)
	ts.Server = &servertest.Server{
		URL:           "http://" + ts.addr,
		WSURL:         "ws://" + ts.addr + protocol.Path,
		PortalID:      res.PortalID,
		AdminEmail:    res.AdminEmail,
		AdminPassword: res.AdminPassword,
		AdminKey:      res.AdminAPIKey,
		S:             srv,
		HTTP:          hs,
	}
	t.Cleanup(func() {
		ts.stop()
		for _, l := range ts.rec.Leaks() {
			t.Errorf("secret leak in the server: %s", l)
		}
		if t.Failed() {
			t.Logf("server log (tail):\n%s", tailString(ts.rec.Log(), 6<<10))
		}
	})
	return ts
}

func tailString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

func (ts *testServer) start(ln net.Listener) (*server.Server, *httptest.Server) {
	ts.t.Helper()
	log := slog.New(slog.NewTextHandler(ts.rec.LogWriter(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := server.New(context.Background(), server.Config{
		DataDir:   ts.dataDir,
		Log:       log,
		Version:   "test",
		Heartbeat: ts.heartbeat,
		// PDF labels: the renderer's compiled code is shared by every test run on this machine
		LabelCacheDir: filepath.Join(os.TempDir(), "printdock-raster-wazero-cache"),
		KeysOptions:   []keys.Option{keys.WithPasswordParams(servertest.CheapPasswords)},
		// agents in the benchmarks reconnect from one address
		AuthFailuresPerMinute: 100000,
		AuthFailureBurst:      100000,
	})
	if err != nil {
		ln.Close()
		ts.t.Fatalf("server: %v", err)
	}
	inner := ts.rec.Wrap(srv.Handler())
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == protocol.Path {
			ts.attempts.Add(1)
		}
		inner.ServeHTTP(w, r)
	})
	hs := httptest.NewUnstartedServer(h)
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	ts.mu.Lock()
	ts.running = true
	ts.mu.Unlock()
	return srv, hs
}

// stop shuts the server down (agent sessions get close code 4005) and closes its listener.
func (ts *testServer) stop() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if !ts.running {
		return
	}
	ts.running = false
	if err := ts.S.Close(); err != nil {
		ts.t.Errorf("server close: %v", err)
	}
	ts.HTTP.Close()
}

// restart stops the server and starts a new one with the same data directory on the same address.
func (ts *testServer) restart() {
	ts.t.Helper()
	ts.stop()
	ts.startAgain()
}

func (ts *testServer) startAgain() {
	ts.t.Helper()
	var ln net.Listener
	var err error
	deadline := time.Now().Add(10 * time.Second)
	for {
		ln, err = net.Listen("tcp", ts.addr)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond) // the port is still being released
	}
	if err != nil {
		ts.t.Fatalf("listen again on %s: %v", ts.addr, err)
	}
	srv, hs := ts.start(ln)
	ts.S, ts.HTTP = srv, hs
}

// offlineDo runs one REST request against the stopped server's data (a server instance that does not
// listen), e.g. to change a key while agents cannot hear about it.
func (ts *testServer) offlineDo(method, path string, want int) {
	ts.t.Helper()
	srv, err := server.New(context.Background(), server.Config{
		DataDir: ts.dataDir, Log: slog.New(slog.NewTextHandler(ts.rec.LogWriter(), nil)), Version: "test",
		KeysOptions: []keys.Option{keys.WithPasswordParams(servertest.CheapPasswords)},
	})
	if err != nil {
		ts.t.Fatalf("offline server: %v", err)
	}
	defer srv.Close()
	req := httptest.NewRequest(method, path, nil)
	req.Header.Set("Authorization", "Bearer "+ts.AdminKey)
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	if rec.Code != want {
		ts.t.Fatalf("offline %s %s: %d %s", method, path, rec.Code, rec.Body)
	}
}

// fastBackoff keeps reconnect tests quick.
var fastBackoff = Backoff{Base: 10 * time.Millisecond, Max: 200 * time.Millisecond, HealthyAfter: time.Second}

type testAgent struct {
	*Agent
	logs  *testenv.SyncBuffer
	store keystore.Store
	dir   string
}

func uniqueName(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// newTestAgent returns an agent (not started) with a file keystore in a temporary state directory and
// one simulated printer. mut adjusts the config.
func newTestAgent(t testing.TB, mut func(*Config)) *testAgent {
	t.Helper()
	logs := &testenv.SyncBuffer{}
	cfg := Config{
		StateDir:    t.TempDir(),
		Keystore:    keystore.ModeFile,
		SocketPath:  "-",
		Logger:      slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Backoff:     fastBackoff,
		NoDiscovery: true,
		Printers:    []string{"sim://" + uniqueName("dock-")},
		PrinterPoll: time.Second,
		Hostname:    "test-host",
	}
	if mut != nil {
		mut(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ta := &testAgent{Agent: a, logs: logs, store: a.creds.ks, dir: cfg.StateDir}
	t.Cleanup(func() {
		a.Stop()
		for _, l := range servertest.ScanText("agent log", logs.String()) {
			t.Errorf("secret leak in the agent log: %s", l)
		}
		if t.Failed() {
			t.Logf("agent log (tail):\n%s", tailString(logs.String(), 6<<10))
		}
	})
	return ta
}

func (ta *testAgent) start(t testing.TB) {
	t.Helper()
	if err := ta.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// storedSecret returns the keystore's secret, or "" when there is none.
func (ta *testAgent) storedSecret(t testing.TB) string {
	t.Helper()
	s, err := ta.store.Get(context.Background())
	if errors.Is(err, keystore.ErrNotFound) {
		return ""
	}
	if err != nil {
		t.Fatalf("keystore get: %v", err)
	}
	return s
}

// waitStatus waits (10 s at most) until cond holds for the agent's Status, following its
// subscription; it returns that Status.
func waitStatus(t testing.TB, a *Agent, what string, cond func(localapi.Status) bool) localapi.Status {
	t.Helper()
	ch, cancel := a.Subscribe()
	defer cancel()
	if st := a.Status(); cond(st) {
		return st
	}
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case st, ok := <-ch:
			if !ok {
				t.Fatalf("agent stopped while waiting for %s", what)
			}
			if cond(st) {
				return st
			}
		case <-timeout.C:
			st := a.Status()
			t.Fatalf("timed out waiting for %s; status: state=%s last_error=%q", what, st.State, st.LastError)
		}
	}
}

func stateIs(s string) func(localapi.Status) bool {
	return func(st localapi.Status) bool { return st.State == s }
}
