package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"printdock/internal/deploy"
)

// The processes, servers and PostgreSQL of a scenario are package deploy's (shared with
// printdock-bench --mode replicas).
type (
	bins = deploy.Bins
	proc = deploy.Proc
)

var (
	freePort    = deploy.FreePort
	waitFor     = deploy.WaitFor
	initStore   = deploy.InitStore
	startServer = deploy.StartServer
	start       = deploy.Start
)

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
	argv := append(append([]string{}, a.prefix...), b.Agent, "--state-dir", a.stateDir, "--keystore", "file", "--log-level", level)
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
