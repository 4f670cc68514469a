package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"printdock/agent"
	"printdock/agent/localapi"
	"printdock/protocol"
	"printdock/server/servertest"
)

type result struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb})
	r := result{code, out.String(), errb.String()}
	for _, l := range servertest.ScanText("CLI output", r.stdout+r.stderr) {
		t.Errorf("secret leak: %s", l)
	}
	return r
}

// shortDir is a state directory short enough for a unix socket path.
func shortDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "pdc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func secretFile(dir string) string { return filepath.Join(dir, "agent.secret") }

func TestUsage(t *testing.T) {
	if r := runCLI(t, "", "frobnicate"); r.code != exitUsage || !strings.Contains(r.stderr, "unknown command") {
		t.Fatalf("unknown command: %+v", r)
	}
	if r := runCLI(t, "", "--help"); r.code != exitOK || !strings.Contains(r.stdout, "test-print") {
		t.Fatalf("help: %+v", r)
	}
	if r := runCLI(t, "", "--keystore", "vault", "status"); r.code != exitUsage {
		t.Fatalf("bad keystore: %+v", r)
	}
}

// Secrets are never accepted on the command line.
func TestLoginRefusesSecretArgument(t *testing.T) {
	dir := shortDir(t)
	r := runCLI(t, "", "--state-dir", dir, "login", "--server", "http://127.0.0.1:1", "pdc_notasecretatall")
	if r.code != exitUsage || !strings.Contains(r.stderr, "never accepted as arguments") {
		t.Fatalf("%+v", r)
	}
}

func TestLoginOfflineFlow(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	k := s.CreatePrintClient(t, "CLI dock")
	dir := shortDir(t)
	g := []string{"--state-dir", dir, "--keystore", "file"}

	// A truncated paste is caught locally: clear message, nothing stored.
	r := runCLI(t, k.Secret[:len(k.Secret)-4]+"\n", append(g, "login", "--server", s.URL)...)
	if r.code != exitError || !strings.Contains(r.stderr, "cut off") || !strings.Contains(r.stderr, "Nothing was stored") {
		t.Fatalf("truncated: %+v", r)
	}
	if _, err := os.Stat(secretFile(dir)); !os.IsNotExist(err) {
		t.Fatal("a truncated secret was stored")
	}
	// A well-formed secret the server does not know.
	other, _ := servertestSecret()
	r = runCLI(t, other+"\n", append(g, "login", "--server", s.URL)...)
	if r.code != exitError || !strings.Contains(r.stderr, "refused") {
		t.Fatalf("unknown: %+v", r)
	}
	if _, err := os.Stat(secretFile(dir)); !os.IsNotExist(err) {
		t.Fatal("a refused secret was stored")
	}

	// The real one, from stdin; the agent is not running.
	r = runCLI(t, k.Secret+"\r\n", append(g, "login", "--server", s.URL)...)
	if r.code != exitOK || !strings.Contains(r.stdout, `"CLI dock"`) || !strings.Contains(r.stdout, "not running") {
		t.Fatalf("login: %+v", r)
	}
	if b, err := os.ReadFile(secretFile(dir)); err != nil || strings.TrimSpace(string(b)) != k.Secret {
		t.Fatalf("stored secret: %v", err)
	}

	r = runCLI(t, "", append(g, "status", "--json")...)
	if r.code != exitOK {
		t.Fatalf("status: %+v", r)
	}
	var st localapi.Status
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatal(err)
	}
	if st.State != localapi.StateConnecting || st.AgentRunning || st.ServerURL != s.URL || st.KeyDesc != "CLI dock" ||
		st.Keystore != "file" || st.Service.Platform == "" || st.Service.Running {
		t.Fatalf("status --json: %s", r.stdout)
	}
	var raw map[string]any
	_ = json.Unmarshal([]byte(r.stdout), &raw)
	for _, f := range []string{"state", "service", "keystore", "server_url", "key_description"} {
		if _, ok := raw[f]; !ok {
			t.Errorf("status --json lacks %q", f)
		}
	}

	r = runCLI(t, "", append(g, "logout")...)
	if r.code != exitOK {
		t.Fatalf("logout: %+v", r)
	}
	if _, err := os.Stat(secretFile(dir)); !os.IsNotExist(err) {
		t.Fatal("logout left the secret")
	}
	// Not logged in: status says so, and exits exitNotLoggedIn for scripts.
	r = runCLI(t, "", append(g, "status")...)
	if r.code != exitNotLoggedIn || !strings.Contains(r.stdout, "not logged in") || r.stderr != "" {
		t.Fatalf("status after logout: %+v", r)
	}
	r = runCLI(t, "", append(g, "status", "--json")...)
	if r.code != exitNotLoggedIn || json.Unmarshal([]byte(r.stdout), &st) != nil || st.State != localapi.StateNotLoggedIn {
		t.Fatalf("status --json after logout: %+v", r)
	}
}

func servertestSecret() (string, error) { // a well-formed secret no server issued
	return newSecret()
}

// With the agent running, the CLI goes through the local API.
func TestCLIWithRunningAgent(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	k := s.CreatePrintClient(t, "running dock")
	dir := shortDir(t)
	a, err := agent.New(agent.Config{StateDir: dir, Keystore: "file", NoDiscovery: true, Printers: []string{"sim://cli-run"},
		Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Stop)
	g := []string{"--state-dir", dir}

	r := runCLI(t, k.Secret+"\n", append(g, "login", "--server", s.URL)...)
	if r.code != exitOK || !strings.Contains(r.stdout, "connected") {
		t.Fatalf("login: %+v", r)
	}
	r = runCLI(t, "", append(g, "status", "--json")...)
	var st localapi.Status
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || !st.AgentRunning || st.State != localapi.StateConnected {
		t.Fatalf("status: %+v %v", r, err)
	}
	r = runCLI(t, "", append(g, "printers", "--json")...)
	var ps []localapi.Printer
	if err := json.Unmarshal([]byte(r.stdout), &ps); err != nil || len(ps) != 1 || ps[0].ID != "sim://cli-run" {
		t.Fatalf("printers: %+v", r)
	}
	r = runCLI(t, "", append(g, "test-print", "--printer", "sim://cli-run")...)
	if r.code != exitOK || !strings.Contains(r.stdout, "sim://cli-run") {
		t.Fatalf("test-print: %+v", r)
	}
	r = runCLI(t, "", append(g, "jobs")...)
	if r.code != exitOK || !strings.Contains(r.stdout, "done") {
		t.Fatalf("jobs: %+v", r)
	}
	r = runCLI(t, "", append(g, "logs", "-n", "5")...)
	if r.code != exitOK || r.stdout == "" {
		t.Fatalf("logs: %+v", r)
	}
	r = runCLI(t, "", append(g, "logout")...)
	if r.code != exitOK || a.Status().State != localapi.StateNotLoggedIn {
		t.Fatalf("logout: %+v", r)
	}
}

func TestPrintersOffline(t *testing.T) {
	dir := shortDir(t)
	r := runCLI(t, "", "--state-dir", dir, "--keystore", "file", "--printer", "sim://cli-offline", "printers", "--json")
	var ps []localapi.Printer
	if r.code != exitOK || json.Unmarshal([]byte(r.stdout), &ps) != nil || len(ps) != 1 || ps[0].State != "ready" {
		t.Fatalf("printers: %+v", r)
	}
	r = runCLI(t, "", "--state-dir", dir, "--keystore", "file", "test-print", "--printer", "sim://cli-offline")
	if r.code != exitOK {
		t.Fatalf("test-print: %+v", r)
	}
}

// The config file supplies printers and the server; a secret in it is refused.
func TestConfigFile(t *testing.T) {
	dir := shortDir(t)
	cfg := filepath.Join(dir, "agent.json")
	if err := os.WriteFile(cfg, []byte(`{"server_url":"https://print.example.com","printers":["sim://from-config"],"log_level":"debug"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "", "--state-dir", dir, "--keystore", "file", "status", "--json")
	var st localapi.Status
	if r.code != exitNotLoggedIn || json.Unmarshal([]byte(r.stdout), &st) != nil || st.ServerURL != "https://print.example.com" ||
		len(st.Printers) != 1 || st.Printers[0].ID != "sim://from-config" {
		t.Fatalf("status with config: %+v", r)
	}
	sec, _ := newSecret()
	if err := os.WriteFile(cfg, []byte(`{"server_url":"https://x","secret":"`+sec+`"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, "", "--state-dir", dir, "status"); r.code != exitError {
		t.Fatalf("a config file with a secret must be refused: %+v", r)
	}
}

func newSecret() (string, error) { return protocol.NewSecret(protocol.KindPrintClient) }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
