package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"time"

	"printdock/internal/deploy"
)

func startPG(ctx context.Context, e env) (*deploy.PG, error) {
	return deploy.StartPG(ctx, e.repo, filepath.Join(e.dir, "pg"))
}

// runPGRestart: one server on PostgreSQL, a 200 jobs/s burst; at 30% of it PostgreSQL stops (immediate
// shutdown) and starts again 2 s later. While it is down submits get 503 with Retry-After (never a
// 500, never a 201 that is lost); afterwards the same server process accepts and delivers again.
func runPGRestart(ctx context.Context, e env, r *Result) error {
	db, err := startPG(ctx, e)
	if err != nil {
		return err
	}
	defer db.Stop()
	c, err := newCluster(ctx, e, clusterOpts{agents: 3, database: db.URL})
	if err != nil {
		return err
	}
	defer c.close()
	d := 8 * time.Second
	if e.short {
		d = 5 * time.Second
	}
	var down, up atomic.Int64
	restarted := make(chan error, 1)
	c.sub.offer(ctx, "PG", c.fleet, c.all, 200, d, func(el time.Duration) {
		if el < d*3/10 || !down.CompareAndSwap(0, time.Now().UnixNano()) {
			return
		}
		go func() {
			db.Stop()
			time.Sleep(2 * time.Second)
			err := db.Restart()
			up.Store(time.Now().UnixNano())
			restarted <- err
		}()
	})
	if err := <-restarted; err != nil {
		return err
	}
	r.Tally = c.sub.settle(ctx, "PG", c.fleet, 90*time.Second)
	back := time.Unix(0, up.Load())
	t, ok := c.sub.firstAcceptedAfter(back)
	if !ok {
		// The burst may have ended before PostgreSQL was back: a probe shows the server recovered.
		if err := waitFor(ctx, 30*time.Second, "a 201 after PostgreSQL restarted", func() bool {
			return c.sub.submit(ctx, "PG", 0, c.fleet.ids[0]).outcome == accepted
		}); err != nil {
			return err
		}
		t = time.Now()
	}
	r.Recovery = append(r.Recovery, Measure{What: "PostgreSQL back → first 201 (same server process)", Took: t.Sub(back), Bound: 10 * time.Second})
	if c.server.Exited() {
		return fmt.Errorf("the server exited: %s", c.server.Tail())
	}
	if err := c.probeAll(ctx, "PGP", 30*time.Second); err != nil {
		return err
	}
	r.Note = c.sub.statuses()
	c.sub.mu.Lock()
	defer c.sub.mu.Unlock()
	for _, s := range c.sub.subs {
		if s.outcome == refused && (s.status != 503 || s.retryAfter == "") {
			return fmt.Errorf("a submit got %d %q (Retry-After %q) while PostgreSQL was down, want 503 with Retry-After", s.status, s.errCode, s.retryAfter)
		}
	}
	return nil
}
