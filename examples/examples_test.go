// Package examples holds the tested integration examples of the REST API (curl, Python, Node.js); this
// test runs each against a real in-process server, a real agent and the printer simulator, so they never
// rot. See docs/integration.md.
package examples

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"printdock/agent"
	"printdock/internal/testenv"
	"printdock/keystore"
	"printdock/printer/sim"
	"printdock/server/jobs"
	"printdock/server/servertest"
)

// example is one runnable example and the programs it needs.
type example struct {
	name  string
	needs []string // programs on PATH
	cmd   []string
}

var all = []example{
	{"curl", []string{"bash", "curl", "jq", "base64"}, []string{"bash", "curl/print-label.sh"}},
	{"python", []string{"python3"}, []string{"python3", "python/print_label.py"}},
	{"node", []string{"node"}, []string{"node", "node/print-label.mjs"}},
}

func TestExamples(t *testing.T) {
	label, err := os.ReadFile("label.zpl")
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range all {
		t.Run(ex.name, func(t *testing.T) {
			for _, p := range ex.needs {
				_, err := exec.LookPath(p)
				testenv.RequireReal(t, p, err)
			}
			t.Parallel()
			runExample(t, ex, label)
		})
	}
}

func runExample(t *testing.T, ex example, label []byte) {
	ctx := context.Background()
	s := servertest.New(t, servertest.Options{})
	printerName, offlineName := unique("ex-"+ex.name), unique("ex-offline-"+ex.name)

	// A printer whose agent went offline: the example's cancellation target.
	off := newAgent(t, offlineName)
	offKey := s.CreatePrintClient(t, "offline "+ex.name)
	if _, err := off.Login(ctx, s.URL, offKey.Secret, ""); err != nil {
		t.Fatalf("offline agent login: %v", err)
	}
	waitPrinter(t, s, offlineName, true)
	off.Stop()
	waitPrinter(t, s, offlineName, false)

	// The agent the example's print client secret is for: started now, logged in once it is issued.
	a := newAgent(t, printerName)
	secretFile := filepath.Join(t.TempDir(), "print-client-secret.txt")
	var out testenv.SyncBuffer
	runCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(runCtx, ex.cmd[0], ex.cmd[1:]...)
	cmd.Env = append(os.Environ(), "PRINTDOCK_URL="+s.URL, "PRINTDOCK_API_KEY="+s.AdminKey,
		"PRINTDOCK_PRINTER="+printerName, "PRINTDOCK_OFFLINE_PRINTER="+offlineName,
		"PRINTDOCK_SECRET_FILE="+secretFile)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	report := func(err error) {
		t.Fatalf("%s example: %v\noutput (secrets redacted):\n%s", ex.name, err, s.Recorder().Redact(out.String()))
	}

	var secret []byte
	testenv.WaitFor(t, "the example to write the print client secret", func() bool {
		select {
		case err := <-exited:
			report(errors.Join(errors.New("exited before issuing a secret"), err))
		default:
		}
		secret, _ = os.ReadFile(secretFile)
		return len(secret) > 0
	})
	if fi, err := os.Stat(secretFile); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("secret file: %v, mode %v; want readable by its owner only", err, fi.Mode())
	}
	if _, err := a.Login(ctx, s.URL, strings.TrimSpace(string(secret)), ""); err != nil {
		t.Fatalf("agent login with the example's secret: %v", err)
	}
	if err := <-exited; err != nil {
		report(err)
	}
	o := out.String()
	t.Logf("%s example output:\n%s", ex.name, s.Recorder().Redact(o))

	// The label reached the printer byte for byte, once.
	got := sim.Named(printerName).Jobs()
	if len(got) != 1 || !bytes.Equal(got[0].Data, label) {
		t.Fatalf("simulator received %d jobs, want 1 with label.zpl byte-exact (%d bytes)", len(got), len(label))
	}
	if n := len(sim.Named(offlineName).Jobs()); n != 0 {
		t.Errorf("the offline printer received %d jobs", n)
	}
	// The output tells the story, and the server agrees.
	for _, want := range []string{"issued print client secret key_", " done\n", "cancelled job job_"} {
		if !strings.Contains(o, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	var js struct{ Items []jobs.Job }
	s.JSON(t, "GET", "/api/v1/jobs", s.AdminKey, nil, 200, &js)
	states := map[string]jobs.State{}
	for _, j := range js.Items {
		states[j.Title] = j.State
	}
	if states["Order 1042"] != jobs.Done || states["Order 1043"] != jobs.Cancelled {
		t.Errorf("job states %v, want Order 1042 done and Order 1043 cancelled", states)
	}
}

// newAgent starts a real agent printing to the simulated printer sim://name; it is not logged in.
func newAgent(t *testing.T, name string) *agent.Agent {
	t.Helper()
	var logs testenv.SyncBuffer
	a, err := agent.New(agent.Config{StateDir: t.TempDir(), Keystore: keystore.ModeFile, SocketPath: "-",
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), NoDiscovery: true,
		Printers: []string{"sim://" + name}, PrinterPoll: 200 * time.Millisecond, Hostname: name})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.Stop()
		for _, l := range servertest.ScanText("agent log", logs.String()) {
			t.Errorf("secret leak in the agent log: %s", l)
		}
	})
	return a
}

// waitPrinter waits until the server lists the printer called name online (or offline).
func waitPrinter(t *testing.T, s *servertest.Server, name string, online bool) {
	t.Helper()
	testenv.WaitFor(t, fmt.Sprintf("printer %s online=%v", name, online), func() bool {
		for _, p := range s.Printers(t) {
			if p.Name == name && p.Online == online {
				return true
			}
		}
		return false
	})
}

func unique(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}
