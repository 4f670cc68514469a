package agent

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"printdock/agent/localapi"
	"printdock/internal/testenv"
	"printdock/protocol"
)

func TestLoginConnects(t *testing.T) {
	ts := newTestServer(t, serverOpts{})
	k := ts.CreatePrintClient(t, "Zebra dock 3")
	a := newTestAgent(t, nil)
	a.start(t)

	st, err := a.Login(context.Background(), ts.URL, k.Secret+"\n", "")
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	if st.State != localapi.StateConnected {
		st = waitStatus(t, a.Agent, "connected", stateIs(localapi.StateConnected))
	}
	if st.KeyDesc != "Zebra dock 3" || st.KeyKind != "print_client" || st.ServerURL != ts.URL || st.ClientID == "" {
		t.Fatalf("status after login: %+v", st)
	}
	if st.KeyPrefix != protocol.SecretPrefix(k.Secret) || !st.AgentRunning || st.Keystore != "file" {
		t.Fatalf("status after login: %+v", st)
	}
	if got := a.storedSecret(t); got != k.Secret {
		t.Fatal("the secret was not stored exactly")
	}
	ts.WaitConnected(t, k.ID, true)

	// hello carried the installation ID from the state directory, then the printers followed.
	id, err := os.ReadFile(filepath.Join(a.dir, installationIDFile))
	if err != nil {
		t.Fatal(err)
	}
	printerID := a.cfg.Printers[0]
	testenv.WaitFor(t, "the server to see the agent's printer", func() bool {
		for _, c := range ts.S.Hub.Clients(ts.PortalID) {
			if c.InstallationID == strings.TrimSpace(string(id)) && c.Hostname == "test-host" &&
				len(c.Printers) == 1 && c.Printers[0].ID == printerID && c.Printers[0].Status == "ready" {
				return true
			}
		}
		return false
	})

	// The state file never holds the secret.
	b, err := os.ReadFile(filepath.Join(a.dir, stateFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), k.Secret) || strings.Contains(string(b), k.Secret[4:20]) {
		t.Fatal("state.json holds the secret")
	}

	// A restarted agent (same state dir) reconnects with the stored secret by itself, same installation.
	a.Stop()
	ts.WaitConnected(t, k.ID, false)
	b2 := newTestAgent(t, func(c *Config) { c.StateDir = a.dir; c.Printers = a.cfg.Printers })
	b2.start(t)
	st = waitStatus(t, b2.Agent, "connected after restart", stateIs(localapi.StateConnected))
	if st.InstallationID != strings.TrimSpace(string(id)) || st.KeyDesc != "Zebra dock 3" {
		t.Fatalf("after restart: %+v", st)
	}
}

func TestLoginRefusals(t *testing.T) {
	ts := newTestServer(t, serverOpts{})
	good := ts.CreatePrintClient(t, "good")
	revoked := ts.CreatePrintClient(t, "revoked")
	ts.KeyAction(t, revoked.ID, "revoke")
	inactive := ts.CreateKey(t, ts.AdminKey, map[string]any{"description": "inactive", "inactive": true})
	unknown, _ := protocol.NewSecret(protocol.KindPrintClient)
	b := []byte(good.Secret)
	b[20] ^= 1 // a mistyped character
	mistyped := string(b)
	tests := []struct {
		name     string
		secret   string
		server   string
		device   string
		want     error
		network  bool // whether the server may see an attempt
		wantText string
	}{
		{"truncated", good.Secret[:len(good.Secret)-3], ts.URL, "", ErrInvalidSecret, false, "cut off"},
		{"mistyped", mistyped, ts.URL, "", ErrInvalidSecret, false, ""},
		{"empty", "  \n", ts.URL, "", ErrInvalidSecret, false, "empty"},
		{"oauth secret", mustSecret(t, protocol.KindOAuthClient), ts.URL, "", ErrInvalidSecret, false, "integrations"},
		{"shared without device", mustSecret(t, protocol.KindShared), ts.URL, "", ErrDeviceIDRequired, false, "device ID"},
		{"plain http to a remote host", good.Secret, "http://printdock.example.com", "", ErrInsecureURL, false, "--insecure"},
		{"unknown secret", unknown, ts.URL, "", ErrUnauthorized, true, "refused"},
		{"revoked", revoked.Secret, ts.URL, "", ErrForbidden, true, "revoked"},
		{"inactive", inactive.Secret, ts.URL, "", ErrForbidden, true, "inactive"},
		{"unreachable", good.Secret, "http://127.0.0.1:1", "", ErrServerUnreachable, false, "reach"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestAgent(t, nil)
			a.start(t)
			before := ts.attempts.Load()
			_, err := a.Login(context.Background(), tt.server, tt.secret, tt.device)
			if !errors.Is(err, tt.want) {
				t.Fatalf("login error = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), "Nothing was stored") || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("error text %q should say %q and that nothing was stored", err, tt.wantText)
			}
			if strings.Contains(err.Error(), tt.secret[min(4, len(tt.secret)):min(20, len(tt.secret))]) && len(tt.secret) > 20 {
				t.Fatal("the error holds the secret")
			}
			if !tt.network && ts.attempts.Load() != before {
				t.Fatal("a secret that fails the local check reached the server")
			}
			if s := a.storedSecret(t); s != "" {
				t.Fatal("a refused secret was stored")
			}
			if st := a.Status(); st.State != localapi.StateNotLoggedIn || st.ServerURL != "" {
				t.Fatalf("after a refused login: state=%s server=%q", st.State, st.ServerURL)
			}
			// The local API maps it to a code and keeps the plain message.
			if code := localapi.ErrorCode(apiError(err)); code == localapi.CodeInternal {
				t.Fatalf("no local API code for %v", err)
			}
		})
	}
}

func mustSecret(t testing.TB, k protocol.SecretKind) string {
	s, err := protocol.NewSecret(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A key changed on the server logs the agent out within moments: secret deleted, reason recorded and
// persisted, no reconnect attempt afterwards.
func TestServerLogout(t *testing.T) {
	for _, action := range []string{"rotate", "revoke", "deactivate", "delete"} {
		t.Run(action, func(t *testing.T) {
			ts := newTestServer(t, serverOpts{})
			k := ts.CreatePrintClient(t, "dock")
			a := newTestAgent(t, nil)
			a.start(t)
			if _, err := a.Login(context.Background(), ts.URL, k.Secret, ""); err != nil {
				t.Fatal(err)
			}
			waitStatus(t, a.Agent, "connected", stateIs(localapi.StateConnected))
			idleBefore := a.idleWaits.Load()

			if action == "delete" {
				ts.DeleteKey(t, k.ID)
			} else {
				ts.KeyAction(t, k.ID, action)
			}
			want := map[string]string{"rotate": protocol.ReasonRotated, "revoke": protocol.ReasonRevoked,
				"deactivate": protocol.ReasonDeactivated, "delete": protocol.ReasonDeleted}[action]
			st := waitStatus(t, a.Agent, "logged_out", stateIs(localapi.StateLoggedOut))
			if st.LogoutReason != want || st.LogoutAt == nil || st.LastError == "" {
				t.Fatalf("logged out status: reason=%q at=%v last_error=%q", st.LogoutReason, st.LogoutAt, st.LastError)
			}
			if a.storedSecret(t) != "" {
				t.Fatal("the secret is still in the keystore")
			}
			// The session loop is now parked until a login: no dial can happen. Count on the server.
			testenv.WaitFor(t, "the session loop to go idle", func() bool { return a.idleWaits.Load() > idleBefore })
			attempts := ts.attempts.Load()
			ts.WaitConnected(t, k.ID, false)

			// After a restart the agent still knows why (state.json), and does not dial.
			a.Stop()
			if n := ts.attempts.Load(); n != attempts {
				t.Fatalf("%d connection attempts after the logout", n-attempts)
			}
			again := newTestAgent(t, func(c *Config) { c.StateDir = a.dir })
			if st := again.Status(); st.State != localapi.StateLoggedOut || st.LogoutReason != want || st.AgentRunning {
				t.Fatalf("offline status after restart: state=%s reason=%q", st.State, st.LogoutReason)
			}
			again.start(t)
			testenv.WaitFor(t, "the restarted loop to go idle", func() bool { return again.idleWaits.Load() > 0 })
			if st := again.Status(); st.State != localapi.StateLoggedOut || st.LogoutReason != want {
				t.Fatalf("status after restart: state=%s reason=%q", st.State, st.LogoutReason)
			}
			if n := ts.attempts.Load(); n != attempts {
				t.Fatalf("%d connection attempts after the restart", n-attempts)
			}

			// Signing in again with a working secret clears the logout.
			if action == "rotate" || action == "deactivate" {
				var secret string
				if action == "rotate" {
					secret = ts.KeyAction(t, k.ID, "rotate").Secret
				} else {
					ts.KeyAction(t, k.ID, "activate")
					secret = k.Secret
				}
				st, err := again.Login(context.Background(), "", secret, "")
				if err != nil {
					t.Fatal(err)
				}
				if st.LogoutReason != "" {
					t.Fatalf("logout reason kept after a new login: %q", st.LogoutReason)
				}
				waitStatus(t, again.Agent, "connected again", stateIs(localapi.StateConnected))
			}
		})
	}
}

// A secret refused on reconnect (401/403) logs the agent out once, with reason invalid, and it does not
// keep trying.
func TestRefusedOnReconnect(t *testing.T) {
	ts := newTestServer(t, serverOpts{})
	k := ts.CreatePrintClient(t, "dock")
	a := newTestAgent(t, nil)
	a.start(t)
	if _, err := a.Login(context.Background(), ts.URL, k.Secret, ""); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, a.Agent, "connected", stateIs(localapi.StateConnected))
	// Delete the key while the server is down: the agent misses the logout message and is refused with
	// 401 when it comes back.
	ts.stop()
	waitStatus(t, a.Agent, "connecting", stateIs(localapi.StateConnecting))
	ts.offlineDo(http.MethodDelete, "/api/v1/print-client-secrets/"+k.ID, http.StatusNoContent)
	ts.startAgain()
	st := waitStatus(t, a.Agent, "logged_out", stateIs(localapi.StateLoggedOut))
	if st.LogoutReason != protocol.ReasonInvalid {
		t.Fatalf("reason = %q, want invalid", st.LogoutReason)
	}
	if a.storedSecret(t) != "" {
		t.Fatal("secret kept after a refusal")
	}
	testenv.WaitFor(t, "the session loop to go idle", func() bool { return a.idleWaits.Load() > 0 })
	n := ts.attempts.Load()
	a.Stop()
	if ts.attempts.Load() != n {
		t.Fatal("the agent kept dialling after a refusal")
	}
}

// A server that goes away and comes back (same data, same address) gets the agent back by itself.
func TestReconnectAfterServerRestart(t *testing.T) {
	ts := newTestServer(t, serverOpts{})
	k := ts.CreatePrintClient(t, "dock")
	a := newTestAgent(t, nil)
	a.start(t)
	if _, err := a.Login(context.Background(), ts.URL, k.Secret, ""); err != nil {
		t.Fatal(err)
	}
	first := waitStatus(t, a.Agent, "connected", stateIs(localapi.StateConnected))
	for i := range 3 {
		ts.stop()
		st := waitStatus(t, a.Agent, "connecting while the server is down", stateIs(localapi.StateConnecting))
		if st.LastError == "" {
			t.Fatalf("restart %d: no last_error while disconnected", i)
		}
		ts.startAgain()
		st = waitStatus(t, a.Agent, "connected again", stateIs(localapi.StateConnected))
		if st.ClientID != first.ClientID {
			t.Fatalf("client ID changed across a server restart: %s → %s", first.ClientID, st.ClientID)
		}
		ts.WaitConnected(t, k.ID, true)
	}
	if a.storedSecret(t) != k.Secret {
		t.Fatal("the secret changed")
	}
}

// A server that stops answering pings is declared dead after 3 intervals and redialled.
func TestDeadLinkRedial(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			http.Error(w, "no auth", http.StatusUnauthorized)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		n := conns.Add(1)
		ctx := r.Context()
		if _, _, err := c.Read(ctx); err != nil { // hello
			return
		}
		b, _ := protocol.Encode(protocol.Welcome{ProtocolVersion: protocol.Version, ClientID: "silent-" + string(rune('0'+n)), KeyKind: "print_client", HeartbeatSeconds: 60})
		if err := c.Write(ctx, websocket.MessageText, b); err != nil {
			return
		}
		for { // read and ignore everything: never a pong
			if _, _, err := c.Read(ctx); err != nil {
				return
			}
		}
	}))
	defer srv.Close()

	a := newTestAgent(t, func(c *Config) { c.Heartbeat = 50 * time.Millisecond })
	a.start(t)
	secret := mustSecret(t, protocol.KindPrintClient)
	if _, err := a.Login(context.Background(), srv.URL, secret, ""); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, "a redial after the silent link", func() bool { return conns.Load() >= 3 })
	st := waitStatus(t, a.Agent, "the dead-link error", func(st localapi.Status) bool {
		return strings.Contains(st.LastError, "stopped answering")
	})
	if st.State == localapi.StateLoggedOut {
		t.Fatal("a dead link must not log out")
	}
	if a.storedSecret(t) != secret {
		t.Fatal("the secret was dropped on a dead link")
	}
}

func TestLogoutByUser(t *testing.T) {
	ts := newTestServer(t, serverOpts{})
	k := ts.CreatePrintClient(t, "dock")
	a := newTestAgent(t, nil)
	a.start(t)
	if _, err := a.Login(context.Background(), ts.URL, k.Secret, ""); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, a.Agent, "connected", stateIs(localapi.StateConnected))
	st, err := a.Logout(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.State != localapi.StateNotLoggedIn || st.LogoutReason != "" || st.KeyDesc != "" {
		t.Fatalf("after logout: %+v", st)
	}
	if a.storedSecret(t) != "" {
		t.Fatal("secret kept after logout")
	}
	ts.WaitConnected(t, k.ID, false)
}

func TestSharedSecretLogin(t *testing.T) {
	ts := newTestServer(t, serverOpts{})
	dev := ts.CreateKey(t, ts.AdminKey, map[string]any{"description": "shared dock", "use_shared_secret": true})
	shared := dev.Secret
	if !strings.HasPrefix(shared, "pds_") {
		t.Fatalf("the first shared device did not get the shared secret")
	}
	a := newTestAgent(t, nil)
	a.start(t)
	st, err := a.Login(context.Background(), ts.URL, shared, dev.ID)
	if err != nil {
		t.Fatalf("login with the shared secret: %v", err)
	}
	if st.State != localapi.StateConnected {
		st = waitStatus(t, a.Agent, "connected", stateIs(localapi.StateConnected))
	}
	if st.DeviceID != dev.ID || st.KeyKind != "shared" {
		t.Fatalf("status: %+v", st)
	}
	// A wrong device ID is refused by the server.
	b := newTestAgent(t, nil)
	if _, err := b.Login(context.Background(), ts.URL, shared, "no-such-device"); !errors.Is(err, ErrUnauthorized) && !errors.Is(err, ErrForbidden) {
		t.Fatalf("wrong device: %v", err)
	}
}

// An agent that is not started answers from the state directory and the keystore (the CLI without a
// running agent): login stores, status reads, logout deletes.
func TestOfflineAgent(t *testing.T) {
	ts := newTestServer(t, serverOpts{})
	k := ts.CreatePrintClient(t, "offline dock")
	a := newTestAgent(t, nil)
	if st := a.Status(); st.State != localapi.StateNotLoggedIn || st.AgentRunning {
		t.Fatalf("fresh: %+v", st)
	}
	st, err := a.Login(context.Background(), ts.URL, k.Secret, "")
	if err != nil {
		t.Fatal(err)
	}
	if st.State != localapi.StateConnecting || st.AgentRunning || st.KeyDesc != "offline dock" {
		t.Fatalf("after offline login: %+v", st)
	}
	ts.WaitConnected(t, k.ID, false) // the verification session ended
	other := newTestAgent(t, func(c *Config) { c.StateDir = a.dir })
	if st := other.Status(); st.State != localapi.StateConnecting || st.ServerURL != ts.URL {
		t.Fatalf("another process sees: %+v", st)
	}
	if _, err := other.Logout(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := a.Status(); st.State != localapi.StateNotLoggedIn {
		t.Fatalf("after logout: %+v", st)
	}
}

func TestPrintersAndTestPrint(t *testing.T) {
	a := newTestAgent(t, func(c *Config) { c.Printers = append(c.Printers, "bogus://x") })
	ps := a.Printers(context.Background())
	if len(ps) != 2 || ps[0].State != "ready" || ps[1].State != "error" {
		t.Fatalf("printers: %+v", ps)
	}
	res, err := a.TestPrint(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if res.PrinterID != ps[0].ID {
		t.Fatalf("test print went to %s", res.PrinterID)
	}
	if !bytes.HasPrefix(res.PreviewPNG, []byte("\x89PNG")) || res.PreviewPath == "" {
		t.Fatalf("no PNG preview (%d bytes, path %q)", len(res.PreviewPNG), res.PreviewPath)
	}
	if js := a.Jobs(); len(js) != 1 || js[0].State != protocol.JobDone || !js[0].HasPrev {
		t.Fatalf("jobs: %+v", js)
	}
	if _, err := a.TestPrint(context.Background(), "sim://nope"); !errors.Is(err, ErrPrinterNotFound) {
		t.Fatalf("unknown printer: %v", err)
	}
}
