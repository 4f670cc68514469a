package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"printdock/agent"
	"printdock/client"
	"printdock/printer/sim"
)

// --agent-procs K: the default mode's N full agents (spool and simulated Zebra each) run in K child
// processes (printdock-bench --light-child with childConfig.Full), so the figure is the job's path
// through the server and real agents without the agents' CPU in the server's process. A child reports
// each job its printers print as "marker unix-nanoseconds" (PrintedAt), which the parent matches.

// fullChild runs cfg's full agents (one per cfg.Names entry, logged in with the secret of the same index)
// until in is closed: each prints to its simulated printer sim://name, whose every job is reported.
func fullChild(ctx context.Context, cfg childConfig, emit func(string), in io.Reader) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var agents []*agent.Agent
	defer func() {
		for _, a := range agents {
			a.Stop()
		}
	}()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for i, name := range cfg.Names {
		p := sim.Named(name) // before the agent looks it up
		a, err := startAgent(ctx, cfg.Dir, name, cfg.Base, cfg.Secrets[i])
		if a != nil {
			agents = append(agents, a)
		}
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			reportPrinted(ctx, p, emit)
		}()
	}
	emit(fmt.Sprintf("ready %d\n", len(cfg.Names)))
	_, _ = io.Copy(io.Discard, in) // until the parent closes stdin
	return nil
}

// reportPrinted emits "marker unix-nanoseconds" for every job p prints until ctx ends.
func reportPrinted(ctx context.Context, p *sim.Printer, emit func(string)) {
	for n := 1; ; n++ {
		js, err := p.WaitJobs(ctx, n)
		if err != nil {
			return
		}
		j := js[n-1]
		if m := marker(j.Data); m != "" {
			emit(m + " " + strconv.FormatInt(j.PrintedAt.UnixNano(), 10) + "\n")
		}
	}
}

// marker is the "R<run>J<seq>" benchLabel put after ^FDM: in data ("" if none).
func marker(data []byte) string {
	s := string(data)
	k := strings.Index(s, "^FDM:")
	if k < 0 {
		return ""
	}
	s = s[k+len("^FDM:"):]
	if e := strings.Index(s, "^FS"); e >= 0 {
		return s[:e]
	}
	return ""
}

// startAgentProcs creates n print client keys and starts their agents, printing to sim://name (names by
// index), in k child processes; it returns once every agent is logged in. With profile set, child N
// writes its CPU profile to profile.childN.
func (r *rig) startAgentProcs(ctx context.Context, dir string, names []string, k int, profile string) error {
	sec := make([]string, len(names))
	for i, name := range names {
		created, err := r.api.CreateKey(ctx, client.NewKey{Description: "bench " + name})
		if err != nil {
			return err
		}
		sec[i] = created.Secret
	}
	k = min(k, len(names))
	for c := range k {
		cfg := childConfig{Full: true, Base: r.base, Dir: filepath.Join(dir, "agents")}
		if profile != "" {
			cfg.CPUProfile = profile + ".child" + strconv.Itoa(c)
		}
		for i := c; i < len(names); i += k {
			cfg.Names, cfg.Secrets = append(cfg.Names, names[i]), append(cfg.Secrets, sec[i])
		}
		ch, err := startChild(ctx, cfg)
		if err != nil {
			return err
		}
		r.children = append(r.children, ch)
	}
	return nil
}

// printedByChildren returns, for jobs 0..n-1 of run (marker R<run>J<seq>), when each first printed and
// how many times, once base+n jobs were reported or at the deadline.
func (r *rig) printedByChildren(run, n, base int, deadline time.Time) (at []time.Time, count []int) {
	_ = waitUntil(time.Until(deadline), func() bool {
		got := 0
		for _, ch := range r.children {
			got += ch.count()
		}
		return got >= base+n
	})
	at, count = make([]time.Time, n), make([]int, n)
	for i := range n {
		for _, ch := range r.children {
			t, c := ch.printed(fmt.Sprintf("R%dJ%06d", run, i))
			if c > 0 && (count[i] == 0 || t.Before(at[i])) {
				at[i] = t
			}
			count[i] += c
		}
	}
	return at, count
}

// reported is how many distinct jobs the children reported so far.
func (r *rig) reported() int {
	n := 0
	for _, ch := range r.children {
		n += ch.count()
	}
	return n
}
