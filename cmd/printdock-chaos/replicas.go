package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"printdock/internal/deploy"
)

// runReplicas: three replicas on one PostgreSQL behind nginx, six agents connected through nginx, 100
// jobs/s submitted through nginx; at 30% of the burst one replica is killed with SIGKILL. Its agents
// reconnect through nginx to the others and every printer prints again within 10 s of the kill; every
// accepted job prints exactly once.
func runReplicas(ctx context.Context, e env, r *Result) error {
	db, err := startPG(ctx, e)
	if err != nil {
		return err
	}
	defer db.Stop()
	reps, err := deploy.StartReplicas(ctx, e.bins, deploy.ReplicaOptions{N: 3, Database: db.URL, Dir: e.dir,
		Heartbeat: 2 * time.Second, LogLevel: "info"})
	if err != nil {
		return err
	}
	defer reps.Stop()
	servers, key := reps.Servers, reps.Key
	lb, err := deploy.StartNginx(ctx, filepath.Join(e.dir, "nginx"), reps.Upstreams())
	if err != nil {
		return err
	}
	defer lb.Stop()
	base := lb.URL
	c := &cluster{e: e, key: key}
	if c.api, err = newAPI(base, key); err != nil {
		return err
	}
	const agents = 6
	if c.fleet, err = newFleet(ctx, agents, "127.0.0.1"); err != nil {
		return err
	}
	defer func() {
		for _, a := range c.agents {
			a.Stop()
		}
		c.fleet.close()
	}()
	for i := range agents {
		a := agentSpec{stateDir: filepath.Join(e.dir, fmt.Sprintf("agent-%d", i)), server: base, printers: []string{c.fleet.sims[i].URI()}, logLevel: "info"}
		if err := c.addAgent(ctx, a); err != nil {
			return err
		}
		c.all = append(c.all, i)
	}
	if err := c.fleet.learnIDs(ctx, c.api, 60*time.Second); err != nil {
		return err
	}
	c.sub = newSubmitter(base, key)
	d := 10 * time.Second
	if e.short {
		d = 6 * time.Second
	}
	// The victim is the replica holding the most agents (nginx spreads them; one may hold none).
	victim, most := 0, -1
	for i := range servers {
		if n := countLines(servers[i].Log, "agent connected") - countLines(servers[i].Log, "agent disconnected"); n > most {
			victim, most = i, n
		}
	}
	var killedAt atomic.Int64
	c.sub.offer(ctx, "RP", c.fleet, c.all, 100, d, func(el time.Duration) {
		if el >= d*3/10 && killedAt.CompareAndSwap(0, time.Now().UnixNano()) {
			servers[victim].Kill()
		}
	})
	kill := time.Unix(0, killedAt.Load())
	r.Tally = c.sub.settle(ctx, "RP", c.fleet, 90*time.Second)
	// Every printer prints a job submitted after the kill: the agents of the dead replica are back.
	var worst, reconnect time.Duration
	var each []string
	moved := 0
	for i := range c.fleet.sims {
		t, ok := firstPrintedSince(c, i, "RP", kill)
		if !ok {
			return fmt.Errorf("printer %d printed nothing submitted after the kill", i)
		}
		worst = max(worst, t.Sub(kill))
		tag := ""
		if _, ok := logTime(c.agents[i].Log, "disconnected; reconnecting", kill); ok {
			moved++
			tag = "*"
			back, ok := logTime(c.agents[i].Log, "agent: connected", kill)
			if !ok {
				return fmt.Errorf("agent %d of the killed replica did not reconnect", i)
			}
			reconnect = max(reconnect, back.Sub(kill))
		}
		each = append(each, fmt.Sprintf("%s%s", fmtDur(t.Sub(kill)), tag))
	}
	if moved == 0 {
		return errors.New("no agent was on the killed replica")
	}
	fmt.Fprintf(os.Stderr, "printdock-chaos: replicas: first print after the kill per printer (* reconnected): %s\n", strings.Join(each, ", "))
	// Both within the 10 s: the delivery batches no longer pile up on serialization failures
	// (store.ErrSerialization, store/postgres reads.go). The --short form in the test command gives the
	// printing bound (ours; the issue bounds the reconnection) 20 s: on a machine loaded by other work
	// the open-loop submits queue ahead of the moved agents' first deliveries (docs/benchmarks.md).
	printing := 10 * time.Second
	if e.short {
		printing = 20 * time.Second
	}
	r.Recovery = append(r.Recovery, Measure{What: "kill → its agents reconnected through nginx", Took: reconnect, Bound: 10 * time.Second},
		Measure{What: "kill → every printer printing again", Took: worst, Bound: printing})
	r.Note = fmt.Sprintf("%d of %d agents were on the killed replica and reconnected through nginx", moved, agents)
	if s := c.sub.statuses(); s != "" {
		r.Note += "; " + s
	}
	return nil
}

// firstPrintedSince is when printer idx first printed a job of run submitted at or after t.
func firstPrintedSince(c *cluster, idx int, run string, t time.Time) (time.Time, bool) {
	c.sub.mu.Lock()
	after := map[int]bool{}
	for _, s := range c.sub.subs {
		if s.printer == idx && !s.at.Before(t) {
			after[s.seq] = true
		}
	}
	c.sub.mu.Unlock()
	var best time.Time
	prefix := "^FDM:" + run + "J"
	for _, j := range c.fleet.sims[idx].Printer().Jobs() {
		data := string(j.Data)
		k := strings.Index(data, prefix)
		if k < 0 || len(data) < k+len(prefix)+7 {
			continue
		}
		seq, err := strconv.Atoi(data[k+len(prefix) : k+len(prefix)+7])
		if err == nil && after[seq] && (best.IsZero() || j.PrintedAt.Before(best)) {
			best = j.PrintedAt
		}
	}
	return best, !best.IsZero()
}

// countLines counts the lines of the log at path that contain substr.
func countLines(path, substr string) int {
	b, _ := os.ReadFile(path)
	return strings.Count(string(b), substr)
}
