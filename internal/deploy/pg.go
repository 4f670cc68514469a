package deploy

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// PG is a throwaway PostgreSQL cluster (scripts/pg-throwaway.sh) in a directory of its own.
type PG struct {
	URL         string
	script, dir string
}

// StartPG starts a cluster in dir with the script of the module at repo. dir's parents must be
// reachable by the postgres user when running as root.
func StartPG(ctx context.Context, repo, dir string) (*PG, error) {
	p := &PG{script: filepath.Join(repo, "scripts/pg-throwaway.sh"), dir: dir}
	out, err := exec.CommandContext(ctx, p.script, "start", p.dir).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, ee.Stderr)
		}
		return nil, fmt.Errorf("start PostgreSQL (%s; its directory must be reachable by the postgres user): %w", p.script, err)
	}
	p.URL = strings.TrimSpace(string(out))
	return p, nil
}

func (p *PG) do(cmd string) error {
	if out, err := exec.Command(p.script, cmd, p.dir).CombinedOutput(); err != nil {
		return fmt.Errorf("pg-throwaway %s: %w: %s", cmd, err, out)
	}
	return nil
}

// Stop stops the cluster at once (immediate shutdown, as a crash).
func (p *PG) Stop() { _ = p.do("stop") }

// Restart starts a stopped cluster again on the same port.
func (p *PG) Restart() error { return p.do("restart") }
