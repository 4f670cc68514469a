package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// bins are the built binaries the scenarios run.
type bins struct{ server, agent string }

// build compiles printdock-server and printdock-agent into dir (nousb: the chaos suite prints over
// tcp:// only).
func build(ctx context.Context, dir string) (bins, error) {
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "nousb", "-o", dir+"/", "./cmd/printdock-server", "./cmd/printdock-agent")
	if out, err := cmd.CombinedOutput(); err != nil {
		return bins{}, fmt.Errorf("build: %w: %s", err, out)
	}
	return bins{server: filepath.Join(dir, "printdock-server"), agent: filepath.Join(dir, "printdock-agent")}, nil
}

// freePort returns a TCP port on ip that nobody listens on right now.
func freePort(ip string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// proc is a child process with its output in a log file.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// start runs argv with its stdout and stderr appended to logPath; stdin, when not "", is written to it.
func start(name, logPath, stdin string, argv ...string) (*proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); f.Close(); close(p.done) }()
	return p, nil
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop sends SIGTERM, then SIGKILL after 10 s.
func (p *proc) stop() {
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.kill()
	}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// tail is the end of the process's log, for an error message.
func (p *proc) tail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 1500 {
		b = b[len(b)-1500:]
	}
	return string(b)
}

// waitFor polls cond every 20 ms until it holds or d passes.
func waitFor(ctx context.Context, d time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s", d, what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// serverSpec is how one printdock-server process runs.
type serverSpec struct {
	dataDir, database, listen string
	heartbeat                 time.Duration
	logLevel                  string // "" warn
	extra                     []string
}

func (s serverSpec) args(b bins, sub string) []string {
	a := []string{b.server, sub, "--data-dir", s.dataDir}
	if s.database != "" {
		a = append(a, "--database", s.database)
	}
	return a
}

// initStore creates the first portal and administrator and returns the administrator's API key.
func initStore(ctx context.Context, b bins, s serverSpec) (string, error) {
	if err := os.MkdirAll(s.dataDir, 0o700); err != nil {
		return "", err
	}
	argv := append(s.args(b, "init"), "--admin-email", "chaos@localhost", "--json")
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("server init: %w: %s", err, ee.Stderr)
		}
		return "", fmt.Errorf("server init: %w", err)
	}
	var res struct {
		Key string `json:"admin_api_key"`
	}
	if err := json.Unmarshal(out, &res); err != nil || res.Key == "" {
		return "", fmt.Errorf("server init: no admin key in its answer (%v)", err)
	}
	return res.Key, nil
}

// startServer runs printdock-server serve and waits until /healthz answers.
func startServer(ctx context.Context, b bins, s serverSpec, logPath string) (*proc, error) {
	level := s.logLevel
	if level == "" {
		level = "warn"
	}
	argv := append(s.args(b, "serve"), "--listen", s.listen, "--log-level", level, "--heartbeat", s.heartbeat.String())
	argv = append(argv, s.extra...)
	p, err := start("server "+s.listen, logPath, "", argv...)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: time.Second}
	err = waitFor(ctx, 30*time.Second, "the server on "+s.listen, func() bool {
		if p.exited() {
			return true
		}
		resp, err := hc.Get("http://" + s.listen + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if p.exited() {
		return nil, fmt.Errorf("the server exited: %s", p.tail())
	}
	if err != nil {
		p.kill()
		return nil, err
	}
	return p, nil
}

// agentSpec is how one printdock-agent process runs: its state directory, the server URL it logs in
// to, its printers, and an optional command prefix (ip netns exec NS).
type agentSpec struct {
	stateDir, server string
	printers         []string
	prefix           []string
	insecure         bool
	logLevel         string // "" warn
}

func (a agentSpec) argv(b bins, tail ...string) []string {
	level := a.logLevel
	if level == "" {
		level = "warn"
	}
	argv := append(append([]string{}, a.prefix...), b.agent, "--state-dir", a.stateDir, "--keystore", "file", "--log-level", level)
	if a.insecure {
		argv = append(argv, "--insecure")
	}
	for _, p := range a.printers {
		argv = append(argv, "--printer", p)
	}
	return append(argv, tail...)
}

// startAgent logs the agent in with secret (through stdin) and runs it.
func startAgent(ctx context.Context, b bins, a agentSpec, secret string) (*proc, error) {
	if err := os.MkdirAll(a.stateDir, 0o700); err != nil {
		return nil, err
	}
	argv := a.argv(b, "login", "--server", a.server)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin = strings.NewReader(secret + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("agent login: %w: %s", err, out)
	}
	return start("agent "+a.stateDir, a.stateDir+".log", "", a.argv(b, "run")...)
}

// agentState is the agent's state as `printdock-agent status --json` says it (connected, connecting…).
func agentState(ctx context.Context, b bins, a agentSpec) string {
	a.prefix = nil // the local API is a Unix socket in the state directory: reachable from any namespace
	argv := a.argv(b, "status", "--json")
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, argv[0], argv[1:]...).Output()
	if err != nil {
		return "unknown"
	}
	var st struct {
		State string `json:"state"`
	}
	_ = json.Unmarshal(out, &st)
	return st.State
}

// logTime is the time of the first line of the log at path (slog text: time=… first) at or after
// after that contains substr.
func logTime(path, substr string, after time.Time) (time.Time, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		ts, rest, ok := strings.Cut(strings.TrimPrefix(line, "time="), " ")
		if !ok || !strings.Contains(rest, substr) {
			continue
		}
		if t, err := time.Parse(time.RFC3339Nano, ts); err == nil && !t.Before(after) {
			return t, true
		}
	}
	return time.Time{}, false
}
