package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"printdock/server"
	"printdock/server/keys"
	"printdock/server/servertest"
)

// TestMetricsListen: with --metrics-listen, /metrics is served on its own listener (to any client that
// reaches it) and no longer on the main one, where the API and the portal keep working.
func TestMetricsListen(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := server.New(ctx, server.Config{DataDir: filepath.Join(dir, "data"), MetricsListen: "127.0.0.1:0",
		KeysOptions: []keys.Option{keys.WithPasswordParams(servertest.CheapPasswords)}})
	must(t, err)
	addrc := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() {
		served <- srv.Serve(ctx, server.Listen{Addr: "127.0.0.1:0"}, func(a net.Addr) { addrc <- a })
	}()
	main := "http://" + (<-addrc).String()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	metrics := srv.MetricsAddr()
	if metrics == "" || "http://"+metrics == main {
		t.Fatalf("metrics address %q (main %s)", metrics, main)
	}
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		must(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tc := range []struct {
		url      string
		code     int
		contains string
	}{
		{"http://" + metrics + "/metrics", 200, "printdock_"},
		{main + "/metrics", 404, ""},
		{"http://" + metrics + "/healthz", 404, ""},
		{main + "/healthz", 200, "ok"},
		{main + "/login", 200, "Sign in"},
	} {
		code, body := get(tc.url)
		if code != tc.code || !strings.Contains(body, tc.contains) {
			t.Errorf("GET %s: %d %.80q, want %d containing %q", tc.url, code, body, tc.code, tc.contains)
		}
	}
}
