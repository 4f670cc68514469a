//go:build wine

package winetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"printdock/agent/localapi"
	"printdock/internal/testenv"
	"printdock/printer/sim"
	"printdock/server/jobs"
	"printdock/server/servertest"
)

// wine is the Wine environment the script prepared: WINEPREFIX (with the bcryptprimitives.dll stub
// Go 1.26 needs under Wine 8), the MSIs of two versions, and where Wine's C: drive is.
type wine struct {
	t        *testing.T
	prefix   string
	msiOld   string
	msiNew   string
	drive    string // $WINEPREFIX/drive_c
	agentExe string // C:\Program Files\printdock\printdock-agent.exe
	copyExe  string // a copy of the agent outside the product, for checks after uninstall
}

func newWine(t *testing.T) *wine {
	w := &wine{t: t, prefix: os.Getenv("WINEPREFIX"), msiOld: os.Getenv("PRINTDOCK_WINE_MSI_OLD"),
		msiNew: os.Getenv("PRINTDOCK_WINE_MSI_NEW"), copyExe: os.Getenv("PRINTDOCK_WINE_AGENT_COPY")}
	if w.prefix == "" || w.msiOld == "" || w.msiNew == "" || w.copyExe == "" {
		t.Fatal("run by scripts/test.d/80-wine.sh: WINEPREFIX, PRINTDOCK_WINE_MSI_OLD, PRINTDOCK_WINE_MSI_NEW, PRINTDOCK_WINE_AGENT_COPY")
	}
	w.drive = filepath.Join(w.prefix, "drive_c")
	w.agentExe = `C:\Program Files\printdock\printdock-agent.exe`
	return w
}

// cmd is `wine ARGS…` with the prefix's environment.
func (w *wine) cmd(ctx context.Context, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, "wine", args...)
	c.Env = append(os.Environ(), "WINEDEBUG=-all")
	// Wine's own services (services.exe, explorer) may inherit the output pipes and outlive the
	// command: do not wait for them after it exits.
	c.WaitDelay = 5 * time.Second
	return c
}

// run runs `wine ARGS…` (2 min at most) with stdin and returns stdout, stderr and the exit code.
func (w *wine) run(stdin string, args ...string) (string, string, int) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := w.cmd(ctx, args...)
	c.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	var ee *exec.ExitError
	switch {
	case err == nil, errors.Is(err, exec.ErrWaitDelay):
		return out.String(), errb.String(), c.ProcessState.ExitCode()
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitCode()
	}
	w.t.Fatalf("wine %v: %v", args, err)
	return "", "", -1
}

// msiexec runs msiexec with a verbose log and fails the test when it does not exit 0.
func (w *wine) msiexec(args ...string) {
	w.t.Helper()
	log := filepath.Join(w.t.TempDir(), "msiexec.log")
	start := time.Now()
	_, stderr, rc := w.run("", append(append([]string{"msiexec"}, args...), "/qn", "/l*v", log)...)
	if rc != 0 {
		b, _ := os.ReadFile(log)
		w.t.Fatalf("msiexec %v: exit %d: %s\nlog (tail): %s", args, rc, stderr, tail(string(b), 4000))
	}
	w.t.Logf("msiexec %v: %s", args, time.Since(start).Round(time.Millisecond))
}

// status is `printdock-agent.exe status --json` of exe (the installed one, or the copy).
func (w *wine) status(exe string) (localapi.Status, int) {
	w.t.Helper()
	out, stderr, rc := w.run("", exe, "status", "--json")
	var st localapi.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		w.t.Fatalf("status --json (exit %d): %v: %s %s", rc, err, out, stderr)
	}
	return st, rc
}

// file is the Linux path of a file on Wine's C: drive.
func (w *wine) file(rel string) string { return filepath.Join(w.drive, filepath.FromSlash(rel)) }

// reg reads a registry value with `reg query` ("" when it is missing).
func (w *wine) reg(key, name string) string {
	w.t.Helper()
	out, _, rc := w.run("", "reg", "query", key, "/v", name)
	if rc != 0 {
		return ""
	}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) >= 3 && strings.EqualFold(f[0], name) {
			return strings.TrimSpace(l[strings.Index(l, f[1])+len(f[1]):])
		}
	}
	return ""
}

// shortcut is the Start-menu entry's Linux path, "" when there is none. Windows puts a per-machine
// install's entry in the common Start menu; Wine 8's msi puts it in the installing user's.
func (w *wine) shortcut() string {
	users, _ := filepath.Glob(w.file("users/*/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/printdock.lnk"))
	for _, p := range append([]string{w.file("ProgramData/Microsoft/Windows/Start Menu/Programs/printdock.lnk")}, users...) {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

const (
	runKey = `HKLM\Software\Microsoft\Windows\CurrentVersion\Run`
	envKey = `HKLM\System\CurrentControlSet\Control\Session Manager\Environment`
)

// agentProc is the agent running in the foreground under Wine (`printdock-agent.exe run`).
type agentProc struct {
	cmd  *exec.Cmd
	logs *testenv.SyncBuffer
	done chan error
}

func (w *wine) startAgent(printerURI string) *agentProc {
	w.t.Helper()
	p := &agentProc{logs: &testenv.SyncBuffer{}, done: make(chan error, 1)}
	p.cmd = w.cmd(context.Background(), w.agentExe, "run", "--printer", printerURI, "--log-level", "debug")
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		w.t.Fatalf("start the agent under Wine: %v", err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	w.t.Cleanup(func() { p.stop(w.t) })
	return p
}

func (p *agentProc) stop(t *testing.T) {
	if p.cmd.ProcessState != nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	for _, l := range servertest.ScanText("Windows agent log", p.logs.String()) {
		t.Errorf("secret leak in the Windows agent's output: %s", l)
	}
	if t.Failed() {
		t.Logf("Windows agent output (tail):\n%s", tail(p.logs.String(), 6000))
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// printOne submits a job for the printer uri of the agent's client and checks that the simulator got
// exactly its bytes and the server says done.
func printOne(t *testing.T, ts *servertest.Server, p *sim.Printer, uri string, content []byte) {
	t.Helper()
	var printerID string
	waitLong(t, "the Windows agent's printer "+uri+" online", func() bool {
		for _, x := range ts.Printers(t) {
			if x.URI == uri && x.Online {
				printerID = x.ID
				return true
			}
		}
		return false
	})
	before := len(p.Jobs())
	j := ts.SubmitJob(t, printerID, content, servertest.JobOptions{Title: "wine " + t.Name()})
	waitLong(t, "job "+j.ID+" done", func() bool { return ts.GetJob(t, j.ID).State == jobs.Done })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := p.WaitJobs(ctx, before+1)
	if err != nil {
		t.Fatalf("the simulator got no job: %v", err)
	}
	if !bytes.Equal(got[before].Data, content) {
		t.Fatalf("the simulator got %q, want %q (byte-exact)", got[before].Data, content)
	}
}

// waitLong is testenv.WaitFor with room for Wine: a Go .exe starts in seconds on a loaded machine.
func waitLong(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 2 min waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// connected waits until the hub has credential id connected (or not).
func connected(t *testing.T, ts *servertest.Server, id string, want bool) {
	t.Helper()
	waitLong(t, fmt.Sprintf("credential %s connected=%v", id, want), func() bool { return ts.S.Hub.Connected(id) == want })
}

func fmtSecs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }
