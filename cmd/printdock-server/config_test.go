package main

import (
	"context"
	"flag"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLayer(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "server.toml")
	if err := os.WriteFile(file, []byte(`
listen = "127.0.0.1:9000"
log_level = "debug"
heartbeat = "30s"
metrics-public = true
data-dir = "/from/file"
`), 0o600); err != nil {
		t.Fatal(err)
	}
	type want struct{ listen, level, dataDir, heartbeat, metrics string }
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want want
	}{
		{"file only", nil, nil, want{"127.0.0.1:9000", "debug", "/from/file", "30s", "true"}},
		{"env beats file", nil, map[string]string{"PRINTDOCK_LISTEN": "127.0.0.1:9001", "PRINTDOCK_METRICS_PUBLIC": "false"},
			want{"127.0.0.1:9001", "debug", "/from/file", "30s", "false"}},
		{"flag beats env", []string{"--listen", "127.0.0.1:9002", "--data-dir", "/from/flag"},
			map[string]string{"PRINTDOCK_LISTEN": "127.0.0.1:9001", "PRINTDOCK_HEARTBEAT": "5s"},
			want{"127.0.0.1:9002", "debug", "/from/flag", "5s", "true"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			serveFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if err := layer(fs, file, func(k string) string { return tc.env[k] }, allFlags); err != nil {
				t.Fatal(err)
			}
			got := want{fs.Lookup("listen").Value.String(), fs.Lookup("log-level").Value.String(),
				fs.Lookup("data-dir").Value.String(), fs.Lookup("heartbeat").Value.String(), fs.Lookup("metrics-public").Value.String()}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}

	for name, content := range map[string]string{
		"unknown setting": "listen = \"x\"\nfrobnicate = 1\n",
		"table":           "[server]\nlisten = \"x\"\n",
		"bad value":       "heartbeat = \"soon\"\n",
		"not toml":        "listen: x\n",
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".toml")
		os.WriteFile(p, []byte(content), 0o600)
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		serveFlags(fs)
		fs.Parse(nil)
		err := layer(fs, p, func(string) string { return "" }, allFlags)
		if _, ok := err.(usageError); !ok {
			t.Errorf("%s: %v, want a usage error", name, err)
		}
	}
	// Recovery commands take only the store's settings from the environment, and refuse others in the file.
	fs := flag.NewFlagSet("init", flag.ContinueOnError)
	initFlags(fs)
	fs.Parse(nil)
	env := map[string]string{"PRINTDOCK_DATA_DIR": "/env", "PRINTDOCK_ADMIN_EMAIL": "x@example.com"}
	if err := layer(fs, "", func(k string) string { return env[k] }, storeOnly); err != nil ||
		fs.Lookup("data-dir").Value.String() != "/env" || fs.Lookup("admin-email").Value.String() != "" {
		t.Fatalf("store only: %v", err)
	}
}

// serve reads --config (or $PRINTDOCK_CONFIG) and the environment end to end.
func TestServeConfigFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "server.toml")
	os.WriteFile(file, []byte("listen = \"127.0.0.1:0\"\ndata-dir = \""+filepath.Join(dir, "data")+"\"\n"), 0o600)
	getenv = func(k string) string {
		return map[string]string{"PRINTDOCK_CONFIG": file, "PRINTDOCK_ADMIN_EMAIL": "env@example.com"}[k]
	}
	t.Cleanup(func() { getenv = os.Getenv })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	onListen = func(a net.Addr) { cancel() }
	t.Cleanup(func() { onListen = nil })
	if err := run(ctx, nil, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "data", BootstrapFile))
	if err != nil || !strings.Contains(string(b), `"env@example.com"`) {
		t.Fatalf("bootstrap file: %v %s", err, b)
	}
}
