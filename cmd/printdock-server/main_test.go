package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"printdock/client"
	"printdock/internal/testenv"
	"printdock/server"
	"printdock/server/keys"
	"printdock/server/servertest"
)

func TestInitJSON(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"init", "--data-dir", dir, "--admin-email", "Boss@Example.com", "--json"}, &out, &errb)
	if err != nil {
		t.Fatalf("init: %v (%s)", err, errb.String())
	}
	var res map[string]string
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	for _, k := range []string{"portal_id", "admin_email", "admin_password", "admin_api_key"} {
		if res[k] == "" {
			t.Fatalf("%s missing in %v", k, res)
		}
	}
	if len(res) != 4 || res["admin_email"] != "boss@example.com" || !strings.HasPrefix(res["admin_api_key"], "pdu_") {
		t.Fatalf("result %v", res)
	}
	if errb.Len() != 0 {
		t.Fatalf("init wrote to stderr: %q", errb.String())
	}
	// Only once.
	out.Reset()
	err = run(context.Background(), []string{"init", "--data-dir", dir, "--admin-email", "x@example.com", "--json"}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "already has a portal") || out.Len() != 0 {
		t.Fatalf("second init: %v %q", err, out.String())
	}
}

func TestFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--listen", "0.0.0.0:8443", "--data-dir", t.TempDir()}, "non-loopback"},
		{[]string{"--listen", "192.0.2.1:80"}, "non-loopback"},
		{[]string{"serve", "--tls-cert", "x.pem"}, "go together"},
		{[]string{"serve", "--data-dir", t.TempDir(), "--database", "postgres://%zz"}, "postgres: open"},
		{[]string{"serve", "--data-dir", t.TempDir(), "--database", "mysql://db/printdock"}, "unsupported database URL scheme"},
		{[]string{"init", "--data-dir", t.TempDir()}, "--admin-email is required"},
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"serve", "extra"}, "unexpected argument"},
		{[]string{"serve", "--log-level", "loud"}, "--log-level"},
	} {
		err := run(context.Background(), tc.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
	check := func(l server.Listen) error { return l.Check() }
	if !errors.Is(check(server.Listen{Addr: "[::]:80"}), server.ErrInsecureListen) ||
		check(server.Listen{Addr: "[::1]:80"}) != nil || check(server.Listen{Addr: "localhost:80"}) != nil ||
		check(server.Listen{Addr: "0.0.0.0:80", InsecureHTTP: true}) != nil {
		t.Fatal("TLS policy")
	}
}

// TestServeBootstrapsAndShutsDown: serve on an empty store writes the bootstrap credentials to a 0600 file,
// serves, and on cancellation (SIGINT/SIGTERM) closes agent sessions with 4005 and returns nil.
func TestServeBootstrapsAndShutsDown(t *testing.T) {
	dir := t.TempDir()
	addrc := make(chan net.Addr, 1)
	onListen = func(a net.Addr) { addrc <- a }
	t.Cleanup(func() { onListen = nil })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr testenv.SyncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0", "--data-dir", dir, "--admin-email", "ops@example.com"}, &stdout, &stderr)
	}()
	var addr net.Addr
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("serve ended: %v\n%s", err, stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not listen")
	}
	// The credentials are in a 0600 file of the data directory, never on stderr; the log names the file.
	path := filepath.Join(dir, BootstrapFile)
	var res keys.InitResult
	b, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(b, &res) != nil || !strings.HasPrefix(res.AdminAPIKey, "pdu_") || res.AdminPassword == "" {
		t.Fatalf("bootstrap file: %v %q", err, b)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("bootstrap file mode: %v %v", fi.Mode(), err)
	}
	log := stderr.String()
	if !strings.Contains(log, path) || strings.Contains(log, res.AdminPassword) || strings.Contains(log, "admin_api_key") {
		t.Fatalf("serve log: %q", log)
	}
	if stdout.String() != "" {
		t.Fatalf("serve wrote to stdout: %q", stdout.String())
	}
	base := "http://" + addr.String()
	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()

	// An agent connected when the signal arrives is closed with 4005.
	api, err := client.New(base, res.AdminAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	k, err := api.CreateKey(context.Background(), client.NewKey{Description: "cli"})
	if err != nil {
		t.Fatalf("create key: %v", err)
	}
	a := connectRaw(t, "ws://"+addr.String()+"/api/v1/agent/ws", k.Secret)
	cancel()
	a.expectClose(t, 4005)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	if leaks := servertest.ScanText("serve log", stderr.String()); len(leaks) > 0 {
		t.Fatalf("leaks: %v", leaks)
	}

	// A second serve on the same data directory does not bootstrap again.
	ctx2, cancel2 := context.WithCancel(context.Background())
	var stderr2 testenv.SyncBuffer
	onListen = func(net.Addr) { cancel2() }
	if err := run(ctx2, []string{"--listen", "127.0.0.1:0", "--data-dir", dir}, io.Discard, &stderr2); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stderr2.String(), BootstrapFile) {
		t.Fatalf("second serve bootstrapped again: %s", stderr2.String())
	}
}
