package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// runAgentDisk: agent 0's state directory (its spool) on a 32 MiB tmpfs, filled up. Jobs for its printer
// are then either spooled and printed (SQLite still had room) or refused by the agent with a reason the
// server shows on the job (failed: "the agent could not store the job: …"), never silently held or
// lost. When the space comes back the agent takes jobs again without a restart.
func runAgentDisk(ctx context.Context, e env, r *Result) error {
	fs, err := mountTmpfs(filepath.Join(e.dir, "agent0-state"), "32m")
	if err != nil {
		return err
	}
	defer fs.unmount()
	c, err := newCluster(ctx, e, clusterOpts{agents: 2, agentDir: func(i int) string {
		if i == 0 {
			return filepath.Join(fs.dir, "agent")
		}
		return filepath.Join(e.dir, fmt.Sprintf("agent-%d", i))
	}})
	if err != nil {
		return err
	}
	defer c.close()
	c.sub.offer(ctx, "AD", c.fleet, c.all, 50, time.Second, nil)
	if t := c.sub.settle(ctx, "AD", c.fleet, 30*time.Second); t.Lost > 0 {
		return fmt.Errorf("before the disk filled: %d jobs not printed", t.Lost)
	}
	if err := fs.fill(); err != nil {
		return err
	}
	full := time.Now()
	n := 100
	if e.short {
		n = 40
	}
	c.sub.offer(ctx, "AD", c.fleet, []int{0}, 50, time.Duration(n)*time.Second/50, nil)
	// Each of them ends printed or failed with the agent's reason.
	c.sub.mu.Lock()
	var during []*submission
	for _, s := range c.sub.subs {
		if s.at.After(full) && s.outcome == accepted {
			during = append(during, s)
		}
	}
	c.sub.mu.Unlock()
	refusedBy := map[int]string{} // seq → reason
	err = waitFor(ctx, 60*time.Second, "every job sent to the full agent printed or refused", func() bool {
		counts := c.fleet.counts("AD")
		for _, s := range during {
			if _, done := refusedBy[s.seq]; done || counts[s.seq] > 0 {
				continue
			}
			j, err := c.api.GetJob(ctx, s.jobID)
			if err != nil || j.State != "failed" {
				return false
			}
			refusedBy[s.seq] = j.Reason
		}
		return true
	})
	if err != nil {
		return err
	}
	var reason string
	for _, why := range refusedBy {
		reason = why
		if !strings.Contains(why, "could not store the job") {
			return fmt.Errorf("a job the full agent refused shows the reason %q", why)
		}
	}
	if err := fs.free(); err != nil {
		return err
	}
	freed := time.Now()
	c.sub.offer(ctx, "AD", c.fleet, c.all, 50, time.Second, nil)
	// Jobs the agent refused (failed with its reason) are not lost: the server shows why they failed.
	for seq := range refusedBy {
		c.sub.excuse(seq)
	}
	r.Tally = c.sub.settle(ctx, "AD", c.fleet, 60*time.Second)
	first, ok := firstPrintedAfter(c, "AD", freed)
	if !ok {
		return errors.New("the agent printed nothing after the space came back")
	}
	r.Recovery = append(r.Recovery, Measure{What: "space freed → next job printed", Took: first.Sub(freed), Bound: 10 * time.Second})
	r.Note = fmt.Sprintf("%d of %d jobs sent while full refused by the agent, shown on the job as %q", len(refusedBy), len(during), reason)
	if len(refusedBy) == 0 {
		r.Note = fmt.Sprintf("all %d jobs sent while full were spooled and printed (the spool had room)", len(during))
	}
	return nil
}

// firstPrintedAfter is when the first job of run printed at or after t on printer 0.
func firstPrintedAfter(c *cluster, run string, t time.Time) (time.Time, bool) {
	var best time.Time
	for _, j := range c.fleet.sims[0].Printer().Jobs() {
		if strings.Contains(string(j.Data), "^FDM:"+run+"J") && !j.PrintedAt.Before(t) && (best.IsZero() || j.PrintedAt.Before(best)) {
			best = j.PrintedAt
		}
	}
	return best, !best.IsZero()
}
