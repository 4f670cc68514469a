package agent

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"printdock/agent/localapi"
)

// The CLI and the desktop app drive a running agent through the local API socket: login (checked
// locally, verified by the real server), the watch stream, printers, test print, logout.
func TestLocalAPIOverSocket(t *testing.T) {
	ts := newTestServer(t, serverOpts{})
	k := ts.CreatePrintClient(t, "api dock")
	dir, err := os.MkdirTemp("", "pda") // short: unix socket paths are limited to 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	a := newTestAgent(t, func(c *Config) { c.StateDir = dir; c.SocketPath = "" })
	a.start(t)
	sock := filepath.Join(dir, localapi.SocketName)
	if a.SocketPath() != sock {
		t.Fatalf("socket %s, want %s", a.SocketPath(), sock)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(sock)
		if err != nil || fi.Mode().Perm() != localapi.SocketMode {
			t.Fatalf("socket mode: %v %v", fi, err)
		}
	}
	// A second agent on the same state directory is refused.
	second := newTestAgent(t, func(c *Config) { c.StateDir = dir; c.SocketPath = "" })
	if err := second.Start(context.Background()); !errors.Is(err, localapi.ErrAlreadyRunning) {
		t.Fatalf("second agent: %v", err)
	}

	c := localapi.NewClient(sock)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	watch, err := c.WatchStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st := <-watch; st.State != localapi.StateNotLoggedIn || !st.AgentRunning {
		t.Fatalf("first watched status: %+v", st)
	}

	// A truncated paste: a clear error with a code, nothing stored, no network call.
	before := ts.attempts.Load()
	_, err = c.Login(ctx, localapi.LoginRequest{ServerURL: ts.URL, Secret: k.Secret[:30]})
	if localapi.ErrorCode(err) != localapi.CodeInvalidSecret || ts.attempts.Load() != before {
		t.Fatalf("truncated login: %v (code %q)", err, localapi.ErrorCode(err))
	}
	unknown := mustSecret(t, "pdc_")
	if _, err = c.Login(ctx, localapi.LoginRequest{ServerURL: ts.URL, Secret: unknown}); localapi.ErrorCode(err) != localapi.CodeUnauthorized {
		t.Fatalf("unknown secret: %v (code %q)", err, localapi.ErrorCode(err))
	}
	if a.storedSecret(t) != "" {
		t.Fatal("a refused secret was stored")
	}

	st, err := c.Login(ctx, localapi.LoginRequest{ServerURL: ts.URL, Secret: k.Secret})
	if err != nil {
		t.Fatal(err)
	}
	if st.KeyDesc != "api dock" {
		t.Fatalf("login answer: %+v", st)
	}
	for st := range watch {
		if st.State == localapi.StateConnected {
			break
		}
	}
	ps, err := c.Printers(ctx)
	if err != nil || len(ps) != 1 {
		t.Fatalf("printers: %v %v", ps, err)
	}
	res, err := c.TestPrint(ctx, localapi.TestPrintRequest{})
	if err != nil || res.PrinterID != ps[0].ID {
		t.Fatalf("test print: %+v %v", res, err)
	}
	js, err := c.Jobs(ctx)
	if err != nil || len(js) != 1 || js[0].ID != res.JobID {
		t.Fatalf("jobs: %+v %v", js, err)
	}
	if _, err := c.TestPrint(ctx, localapi.TestPrintRequest{PrinterID: "sim://missing"}); localapi.ErrorCode(err) != localapi.CodePrinterNotFound {
		t.Fatalf("missing printer: %v", err)
	}
	logs, err := c.Logs(ctx, 1000)
	if err != nil || len(logs) == 0 {
		t.Fatalf("logs: %v %v", len(logs), err)
	}

	// The server rotates the key: the watch stream shows logged_out with the reason.
	ts.KeyAction(t, k.ID, "rotate")
	for st := range watch {
		if st.State == localapi.StateLoggedOut {
			if st.LogoutReason != "rotated" {
				t.Fatalf("reason %q", st.LogoutReason)
			}
			break
		}
	}
	st, err = c.Logout(ctx)
	if err != nil || st.State != localapi.StateNotLoggedIn {
		t.Fatalf("logout: %+v %v", st, err)
	}

	// The in-memory client reaches the same agent without the socket.
	if st, err := a.Client().Status(ctx); err != nil || st.State != localapi.StateNotLoggedIn {
		t.Fatalf("in-memory client: %+v %v", st, err)
	}

	// Stopping the agent ends the watch stream and removes the socket.
	a.Stop()
	for range watch {
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Fatalf("socket left behind: %v", err)
	}
	if _, err := c.Status(ctx); localapi.ErrorCode(err) != localapi.CodeAgentNotRunning {
		t.Fatalf("status after stop: %v", err)
	}
}

// A user who may connect to the socket but is not an administrator (another member of the socket's
// group) cannot sign the agent in or out nor read its logs; status, printers, jobs and test print work.
func TestLocalAPINonAdmin(t *testing.T) {
	ts := newTestServer(t, serverOpts{})
	k := ts.CreatePrintClient(t, "api dock")
	dir, err := os.MkdirTemp("", "pda")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	foreign := uint32(os.Geteuid()) + 4242
	a := newTestAgent(t, func(c *Config) {
		c.StateDir = dir
		c.SocketPath = ""
		c.AdminGroup = "-"
		c.PeerCred = func(net.Conn) (*localapi.Peer, error) {
			return &localapi.Peer{UID: foreign, GID: foreign, PID: 1}, nil
		}
	})
	a.start(t)
	if _, err := a.Login(context.Background(), ts.URL, k.Secret, ""); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, a.Agent, "connected", stateIs(localapi.StateConnected))

	c := localapi.NewClient(a.SocketPath())
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	other := mustSecret(t, "pdc_")
	before := ts.attempts.Load()
	for name, call := range map[string]func() error{
		"login": func() error {
			_, err := c.Login(ctx, localapi.LoginRequest{ServerURL: ts.URL, Secret: other})
			return err
		},
		"logout": func() error { _, err := c.Logout(ctx); return err },
		"logs":   func() error { _, err := c.Logs(ctx, 10); return err },
	} {
		err := call()
		var ae *localapi.APIError
		if !errors.As(err, &ae) || ae.Code != localapi.CodeAdminRequired || ae.HTTPStatus != 403 ||
			!strings.Contains(ae.Message, "Only an administrator") || !strings.Contains(ae.Message, "sudo printdock-agent") {
			t.Fatalf("%s as a non-admin: %#v", name, err)
		}
	}
	if a.storedSecret(t) != k.Secret || ts.attempts.Load() != before {
		t.Fatal("a refused login or logout changed the secret or reached the server")
	}
	if st, err := c.Status(ctx); err != nil || st.State != localapi.StateConnected {
		t.Fatalf("status: %+v %v", st, err)
	}
	if _, err := c.TestPrint(ctx, localapi.TestPrintRequest{}); err != nil {
		t.Fatalf("test print: %v", err)
	}
	if _, err := c.Jobs(ctx); err != nil {
		t.Fatalf("jobs: %v", err)
	}
	// The app running the agent in-process is not limited.
	if _, err := a.Client().Logs(ctx, 10); err != nil {
		t.Fatalf("in-memory logs: %v", err)
	}
}
