package main

import (
	"context"
	"sync/atomic"
	"time"
)

// runKill9: a 500 jobs/s burst on SQLite; at 40% of it the server is killed with SIGKILL and started
// again half a second later. Every accepted job prints exactly once, none refused prints.
func runKill9(ctx context.Context, e env, r *Result) error {
	c, err := newCluster(ctx, e, clusterOpts{agents: 4})
	if err != nil {
		return err
	}
	defer c.close()
	d := 6 * time.Second
	if e.short {
		d = 3 * time.Second
	}
	var killed, back atomic.Int64
	restarted := make(chan error, 1)
	c.sub.offer(ctx, "K9", c.fleet, c.all, 500, d, func(el time.Duration) {
		if el < d*2/5 || !killed.CompareAndSwap(0, time.Now().UnixNano()) {
			return
		}
		c.server.Kill()
		go func() {
			time.Sleep(500 * time.Millisecond) // the server stays down a moment, submits get no answer
			err := c.restartServer(ctx)
			back.Store(time.Now().UnixNano())
			restarted <- err
		}()
	})
	if err := <-restarted; err != nil {
		return err
	}
	kill := time.Unix(0, killed.Load())
	r.Tally = c.sub.settle(ctx, "K9", c.fleet, 90*time.Second)
	if t, ok := c.sub.firstAcceptedAfter(time.Unix(0, back.Load())); ok {
		r.Recovery = append(r.Recovery, Measure{What: "kill → first 201 after restart", Took: t.Sub(kill)})
	}
	// Every agent is back: a probe job to each printer prints.
	if err := c.probeAll(ctx, "K9P", 30*time.Second); err != nil {
		return err
	}
	r.Note = c.sub.statuses()
	return nil
}
