//go:build xvfb

package xvfbtest

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"printdock/internal/testenv"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"printdock/agent"
	"printdock/agent/localapi"
	"printdock/keystore"
	"printdock/printer"
	"printdock/printer/sim"
	"printdock/server/servertest"
)

var (
	binary = flag.String("binary", "", "the printdock desktop binary (cgo build)")
	outDir = flag.String("out", "", "directory that receives gui-*.png")
)

// minStdDev is the least pixel standard deviation (0…1) of a capture that shows a rendered window; a
// blank or single-colour window is 0.
const minStdDev = 0.02

// TestScreenshots runs the real app against a real server, a real agent service and simulated
// printers, and captures every screen.
func TestScreenshots(t *testing.T) {
	if *binary == "" || *outDir == "" {
		t.Fatal("usage: go test -tags xvfb ./gui/xvfbtest -args -binary BIN -out DIR")
	}
	if os.Getenv("DISPLAY") == "" {
		t.Fatal("no DISPLAY: run under xvfb-run (scripts/test.d/50-gui-xvfb.sh)")
	}
	for _, tool := range []string{"xwd", "/usr/bin/convert"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is required: %v", tool, err)
		}
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	srv := servertest.New(t, servertest.Options{})
	key := srv.CreatePrintClient(t, "Zebra dock 3")

	// The agent service stand-in: a real agent listening on its socket in stateDir, with two
	// simulated Zebras.
	stateDir := t.TempDir()
	dock1, dock2 := sim.Named("dock1"), sim.Named("dock2")
	ag := startAgent(ctx, t, stateDir, map[string]*sim.Printer{"sim://dock1": dock1, "sim://dock2": dock2})

	home := t.TempDir()
	writePrefs(t, home, map[string]any{"server_url": srv.URL})
	env := appEnv(home)
	svc := []string{"--state-dir", stateDir}

	// Sign in: the agent has no secret yet; the server address is remembered from last time.
	shoot(t, env, "gui-signin.png", append(svc, "--screen", "signin"))

	// Sign the agent in through its local API (the GUI path is covered by the gui package's tests).
	client := localapi.NewClient(ag.SocketPath())
	defer client.Close()
	lctx, lcancel := context.WithTimeout(ctx, 20*time.Second)
	if _, err := client.Login(lctx, localapi.LoginRequest{ServerURL: srv.URL, Secret: key.Secret}); err != nil {
		lcancel()
		t.Fatalf("login: %v", err)
	}
	lcancel()
	srv.WaitConnected(t, key.ID, true)
	dock2.SetPaused(true)
	waitAgent(t, ag, "dock2 paused", func(st localapi.Status) bool {
		for _, p := range st.Printers {
			if p.ID == "sim://dock2" && p.State == string(printer.StatePaused) {
				return true
			}
		}
		return false
	})

	shoot(t, env, "gui-status.png", append(svc, "--screen", "status"))

	// Printers, with the test label printed from the app and its preview.
	before := len(dock1.Jobs())
	app := startApp(t, env, append(svc, "--screen", "printers", "--screen-action", "test-print"))
	app.waitReady(t)
	jctx, jcancel := context.WithTimeout(ctx, 20*time.Second)
	if _, err := dock1.WaitJobs(jctx, before+1); err != nil {
		jcancel()
		t.Fatalf("the test label did not reach the simulated printer: %v\napp log:\n%s", err, app.log.String())
	}
	jcancel()
	capture(t, app, "gui-printers.png")
	app.stop()

	shoot(t, env, "gui-jobs.png", append(svc, "--screen", "jobs"))
	shoot(t, env, "gui-settings.png", append(svc, "--screen", "settings"))

	// Forced logout: the app is open on Status when an administrator rotates the key.
	app = startApp(t, env, append(svc, "--screen", "status"))
	app.waitReady(t)
	capture(t, app, "") // wait until it has painted: the app is idle now
	rss := vmRSS(t, app.cmd.Process.Pid)
	fmt.Printf("printdock idle RSS (agent as a service): %d KiB (%.1f MiB)\n", rss, float64(rss)/1024)
	srv.KeyAction(t, key.ID, "rotate")
	waitAgent(t, ag, "logged out", func(st localapi.Status) bool { return st.State == localapi.StateLoggedOut })
	capture(t, app, "gui-logged-out.png")
	app.stop()

	// No service: the app runs the agent inside itself and says so.
	fresh := t.TempDir()
	app = startApp(t, env, []string{"--state-dir", fresh, "--keystore", keystore.ModeFile, "--screen", "status"})
	app.waitReady(t)
	capture(t, app, "gui-inprocess.png")
	rss = vmRSS(t, app.cmd.Process.Pid)
	fmt.Printf("printdock idle RSS (agent inside the app): %d KiB (%.1f MiB)\n", rss, float64(rss)/1024)
	if !strings.Contains(app.log.String(), "in_process=true") {
		t.Errorf("the app did not report running the agent in process:\n%s", app.log.String())
	}
	app.stop()
}

func startAgent(ctx context.Context, t *testing.T, stateDir string, printers map[string]*sim.Printer) *agent.Agent {
	t.Helper()
	var uris []string
	for u := range printers {
		uris = append(uris, u)
	}
	var logBuf testenv.SyncBuffer
	ag, err := agent.New(agent.Config{
		StateDir:    stateDir,
		Keystore:    keystore.ModeFile,
		Printers:    sortStrings(uris),
		PrinterPoll: 300 * time.Millisecond,
		Logger:      slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OpenPrinter: func(_ context.Context, uri string) (printer.Printer, error) {
			if p, ok := printers[uri]; ok {
				return p, nil
			}
			return nil, printer.ErrNotFound
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := ag.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ag.Stop()
		if t.Failed() {
			t.Logf("agent log:\n%s", logBuf.String())
		}
	})
	return ag
}

func sortStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

func waitAgent(t *testing.T, ag *agent.Agent, what string, cond func(localapi.Status) bool) {
	t.Helper()
	ch, stop := ag.Subscribe()
	defer stop()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for !cond(ag.Status()) {
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out waiting for the agent: %s (state %s)", what, ag.Status().State)
		}
	}
}

// writePrefs writes the app's Fyne preferences under home.
func writePrefs(t *testing.T, home string, prefs map[string]any) {
	t.Helper()
	dir := filepath.Join(home, ".config", "fyne", "io.printdock.desktop")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(prefs)
	if err := os.WriteFile(filepath.Join(dir, "preferences.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func appEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "FYNE_SCALE", "FYNE_THEME":
			continue
		}
		env = append(env, kv)
	}
	for _, d := range []string{".cache", ".local/share"} {
		_ = os.MkdirAll(filepath.Join(home, d), 0o700)
	}
	return append(env, "HOME="+home, "FYNE_SCALE=1", "LANG=en_US.UTF-8")
}

// appProc is one run of the desktop app.
type appProc struct {
	cmd    *exec.Cmd
	log    *testenv.SyncBuffer
	ready  chan struct{}
	exited chan struct{}
}

func startApp(t *testing.T, env, args []string) *appProc {
	t.Helper()
	p := &appProc{log: &testenv.SyncBuffer{}, ready: make(chan struct{}), exited: make(chan struct{})}
	p.cmd = exec.Command(*binary, args...)
	p.cmd.Env = env
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stdout = p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", *binary, err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			line := sc.Text()
			p.log.Write([]byte(line + "\n"))
			if strings.Contains(line, "printdock: ready") {
				once.Do(func() { close(p.ready) })
			}
		}
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(p.stop)
	return p
}

func (p *appProc) waitReady(t *testing.T) {
	t.Helper()
	select {
	case <-p.ready:
	case <-p.exited:
		t.Fatalf("the app exited before it was ready:\n%s", p.log.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("the app did not get ready:\n%s", p.log.String())
	}
}

func (p *appProc) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// shoot starts the app with args, captures its window into name and stops it.
func shoot(t *testing.T, env []string, name string, args []string) {
	t.Helper()
	p := startApp(t, env, args)
	p.waitReady(t)
	capture(t, p, name)
	p.stop()
}

var geomRE = regexp.MustCompile(`(?m)^\s*(Absolute upper-left X|Absolute upper-left Y|Width|Height):\s+(-?\d+)`)

// windowGeometry returns the app window's crop geometry (WxH+X+Y) from xwininfo (x11-utils), or ""
// when xwininfo is not installed (the capture is then trimmed to its non-black area instead).
func windowGeometry() (string, error) {
	if _, err := exec.LookPath("xwininfo"); err != nil {
		return "", nil
	}
	out, err := exec.Command("xwininfo", "-name", "printdock").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("xwininfo: %v: %s", err, out)
	}
	v := map[string]int{}
	for _, m := range geomRE.FindAllStringSubmatch(string(out), -1) {
		v[m[1]], _ = strconv.Atoi(m[2])
	}
	if v["Width"] < 100 || v["Height"] < 100 {
		return "", fmt.Errorf("window not laid out yet: %dx%d", v["Width"], v["Height"])
	}
	return fmt.Sprintf("%dx%d+%d+%d", v["Width"], v["Height"], v["Absolute upper-left X"], v["Absolute upper-left Y"]), nil
}

// grab captures the screen with xwd, crops it to the app window and returns the image's pixel
// standard deviation.
func grab(path string) (float64, error) {
	geom, err := windowGeometry()
	if err != nil {
		return 0, err
	}
	crop := "-crop " + geom
	if geom == "" {
		crop = "-trim" // the bare X root around the window is black
	}
	cmd := exec.Command("sh", "-c", `xwd -root -silent | /usr/bin/convert xwd:- $1 +repage "$2"`, "sh", crop, path)
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("xwd | convert: %v: %s", err, out)
	}
	return stdDev(path)
}

func stdDev(path string) (float64, error) {
	out, err := exec.Command("/usr/bin/convert", path, "-format", "%[fx:standard_deviation]", "info:").Output()
	if err != nil {
		return 0, fmt.Errorf("convert info: %v", err)
	}
	return strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
}

// capture waits until the window shows a settled, non-blank picture (two grabs in a row with nearly
// the same standard deviation, well above blank) and stores it as name in the output directory ("" =
// only wait).
func capture(t *testing.T, p *appProc, name string) {
	t.Helper()
	tmp := filepath.Join(t.TempDir(), "grab.png")
	deadline := time.Now().Add(30 * time.Second)
	prev, lastErr := -1.0, error(nil)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			t.Fatalf("the app exited:\n%s", p.log.String())
		case <-time.After(400 * time.Millisecond):
		}
		sd, err := grab(tmp)
		if err != nil {
			lastErr = err
			continue
		}
		if sd >= minStdDev && prev >= 0 && math.Abs(sd-prev) < 0.002 {
			if name == "" {
				return
			}
			b, err := os.ReadFile(tmp)
			if err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(*outDir, name)
			if err := os.WriteFile(dst, b, 0o644); err != nil {
				t.Fatal(err)
			}
			fmt.Printf("captured %s (std dev %.3f)\n", dst, sd)
			return
		}
		prev, lastErr = sd, fmt.Errorf("std dev %.4f (blank below %.2f)", sd, minStdDev)
	}
	t.Fatalf("no settled, non-blank capture for %s: %v\napp log:\n%s", name, lastErr, p.log.String())
}

var rssRE = regexp.MustCompile(`(?m)^VmRSS:\s+(\d+) kB`)

func vmRSS(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := rssRE.FindSubmatch(b)
	if m == nil {
		t.Fatalf("no VmRSS in /proc/%d/status", pid)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}
