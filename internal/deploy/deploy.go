// Package deploy runs printdock the way it is deployed, on this machine, for the chaos suite
// (cmd/printdock-chaos) and the benchmark (cmd/printdock-bench --mode replicas): printdock-server and
// printdock-agent built from the module and run as separate processes (Proc), a throwaway PostgreSQL
// (scripts/pg-throwaway.sh), Debian's nginx in front of several replicas, and the replicas themselves
// sharing one database and pepper (StartReplicas).
package deploy

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Bins are the built binaries.
type Bins struct{ Server, Agent string }

// Build compiles printdock-server and printdock-agent into dir (nousb: these runs print over tcp://
// only), from the module at repo.
func Build(ctx context.Context, repo, dir string) (Bins, error) {
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "nousb", "-o", dir+"/", "./cmd/printdock-server", "./cmd/printdock-agent")
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		return Bins{}, fmt.Errorf("build: %w: %s", err, out)
	}
	return Bins{Server: filepath.Join(dir, "printdock-server"), Agent: filepath.Join(dir, "printdock-agent")}, nil
}

// ModuleRoot is the directory of the go.mod above the current directory (scripts/ and cmd/ are there).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s: run from printdock's module", dir)
		}
	}
}

// FreePort returns a TCP port on ip that nobody listens on right now.
func FreePort(ip string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// WaitFor polls cond every 20 ms until it holds or d passes.
func WaitFor(ctx context.Context, d time.Duration, what string, cond func() bool) error {
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
