package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // the store's integrity check after the fault
)

// tmpfs is a small tmpfs mounted by the scenario, and a ballast file that fills it.
type tmpfs struct{ dir, ballast string }

func mountTmpfs(dir string, size string) (*tmpfs, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0755", "tmpfs", dir).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("mount a tmpfs on %s: %w: %s", dir, err, out)
	}
	return &tmpfs{dir: dir}, nil
}

func (t *tmpfs) unmount() { _ = exec.Command("umount", "-l", t.dir).Run() }

// fill writes a ballast file until the file system is full (ENOSPC).
func (t *tmpfs) fill() error {
	t.ballast = filepath.Join(t.dir, "ballast")
	f, err := os.OpenFile(t.ballast, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for _, chunk := range []int{64 << 10, 4 << 10, 512} {
		for {
			if _, err := f.Write(buf[:chunk]); err != nil {
				if errors.Is(err, syscall.ENOSPC) {
					break
				}
				return err
			}
		}
	}
	return f.Sync()
}

// free removes the ballast.
func (t *tmpfs) free() error { return os.Remove(t.ballast) }

// integrity runs SQLite's integrity check on the store at path.
func integrity(path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	var res string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("integrity check: %s", res)
	}
	return nil
}

// runDiskFull: the server's data directory on a 64 MiB tmpfs, filled up while jobs are submitted at
// 100/s; submits must be refused with 507 (or 503) and a clear error, never accepted then lost; when
// the space comes back, service resumes without a restart; the store passes SQLite's integrity check.
func runDiskFull(ctx context.Context, e env, r *Result) error {
	fs, err := mountTmpfs(filepath.Join(e.dir, "data"), "64m")
	if err != nil {
		return err
	}
	defer fs.unmount()
	c, err := newCluster(ctx, e, clusterOpts{agents: 2, dataDir: fs.dir})
	if err != nil {
		return err
	}
	defer c.close()
	d := 2 * time.Second
	c.sub.offer(ctx, "DF", c.fleet, c.all, 100, d, nil) // before: all accepted
	if err := fs.fill(); err != nil {
		return err
	}
	full := time.Now()
	c.sub.offer(ctx, "DF", c.fleet, c.all, 100, d, nil) // full
	var bad []string
	c.sub.mu.Lock()
	for _, s := range c.sub.subs {
		if s.at.After(full) && s.outcome == refused && s.status != 507 && s.status != 503 {
			bad = append(bad, fmt.Sprintf("%d %s", s.status, s.errCode))
		}
	}
	c.sub.mu.Unlock()
	if err := fs.free(); err != nil {
		return err
	}
	freed := time.Now()
	c.sub.offer(ctx, "DF", c.fleet, c.all, 100, d, nil) // after: accepted again
	r.Tally = c.sub.settle(ctx, "DF", c.fleet, 60*time.Second)
	if t, ok := c.sub.firstAcceptedAfter(freed); ok {
		r.Recovery = append(r.Recovery, Measure{What: "space freed → first 201", Took: t.Sub(freed), Bound: 5 * time.Second})
	} else {
		return errors.New("no job accepted after the space came back")
	}
	r.Note = c.sub.statuses()
	if len(bad) > 0 {
		return fmt.Errorf("while the disk was full, %d submits got another status than 507/503, e.g. %s", len(bad), bad[0])
	}
	if !strings.Contains(r.Note, "507") && !strings.Contains(r.Note, "503") {
		return errors.New("no submit was refused while the disk was full")
	}
	c.server.Stop()
	return integrity(filepath.Join(fs.dir, "printdock.db"))
}

var _ = io.Discard
