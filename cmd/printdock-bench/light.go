package main

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"printdock/client"
)

// LightResult is one rate offered to the server alone: light protocol-level agents in another process
// acknowledge every job at once (no spool, no printer), so the figure is the server's own.
type LightResult struct {
	Rate     int           `json:"rate"`
	Jobs     int           `json:"jobs"`
	Failed   int           `json:"failed"` // submissions that did not get a 201
	Lost     int           `json:"lost"`   // accepted, never reached an agent within the wait
	Achieved float64       `json:"achieved_per_second"`
	P50      time.Duration `json:"job_p50_ns"` // submit → the agent has the job
	P99      time.Duration `json:"job_p99_ns"`
	Max      time.Duration `json:"job_max_ns"`
	WSP50    time.Duration `json:"ws_p50_ns"`
	WSP99    time.Duration `json:"ws_p99_ns"`
	// The SQLite writer's pauses to restart its WAL during the measured part (every write waits).
	WALRestarts  int           `json:"wal_restarts"`
	WALPauseMean time.Duration `json:"wal_pause_mean_ns"`
	CPUBusy      float64       `json:"machine_cpu_busy"` // as Result.CPUBusy
}

// runLight measures the server alone at each rate, beside the websocket echo at the same rate.
func runLight(ctx context.Context, o options, dir string) (results []LightResult, best int, err error) {
	r, err := startServer(ctx, dir)
	if err != nil {
		return nil, 0, err
	}
	defer r.close()
	sec, err := secrets(ctx, r.api, o.agents, "light")
	if err != nil {
		return nil, 0, err
	}
	cfg := childConfig{URL: agentURL(r.base), Secrets: sec}
	if o.profile != "" {
		cfg.CPUProfile = o.profile + ".child0"
	}
	ch, err := startChild(ctx, cfg)
	if err != nil {
		return nil, 0, err
	}
	defer ch.stop()
	var ids []string
	if err := waitUntil(time.Minute, func() bool {
		list, err := r.api.ListPrinters(ctx)
		ids = ids[:0]
		for _, p := range list {
			if p.Online && strings.HasPrefix(p.URI, "light://") {
				ids = append(ids, p.ID)
			}
		}
		return err == nil && len(ids) == o.agents
	}); err != nil {
		return nil, 0, err
	}
	echo, err := newEcho(ctx, o.agents)
	if err != nil {
		return nil, 0, err
	}
	defer echo.close()
	run := 0 // runs so far (each names its jobs)
	for _, rate := range o.rates {
		var warm LightResult
		if o.warmup > 0 {
			run++
			warm = lightRun(ctx, r, ch, ids, run, rate, o.warmup) // not measured; its losses count
		}
		run++
		n0, t0 := r.walRestarts()
		res := lightRun(ctx, r, ch, ids, run, rate, o.duration)
		n1, t1 := r.walRestarts()
		if res.WALRestarts = int(n1 - n0); res.WALRestarts > 0 {
			res.WALPauseMean = (t1 - t0) / time.Duration(res.WALRestarts)
		}
		res.Failed, res.Lost = res.Failed+warm.Failed, res.Lost+warm.Lost
		ws, err := echo.measure(ctx, rate, o.duration, 400)
		if err != nil {
			return nil, 0, err
		}
		res.WSP50, res.WSP99 = pct(ws, 50), pct(ws, 99)
		if res.P99 < 50*time.Millisecond && res.Failed == 0 && res.Lost == 0 && rate > best {
			best = rate
		}
		results = append(results, res)
	}
	return results, best, nil
}

// lightRun offers rate jobs per second for d (run names their titles) and waits until the light agents
// have them all.
func lightRun(ctx context.Context, r *rig, ch *child, ids []string, run, rate int, d time.Duration) LightResult {
	had := ch.count() // the earlier runs' jobs the light agents got
	n := int(float64(rate) * d.Seconds())
	starts := make([]time.Time, n)
	var failed atomic.Int64
	cpu0, cpuOK := readCPUTimes()
	offer(n, rate, func(i int) {
		title := fmt.Sprintf("L%dJ%07d", run, i)
		starts[i] = time.Now()
		_, created, err := r.api.SubmitJob(ctx, ids[i%len(ids)], client.JobRequest{ContentType: "raw",
			Content: benchLabel(title), Title: title, Copies: 1})
		if err != nil || !created {
			failed.Add(1)
		}
	})
	res := LightResult{Rate: rate, Jobs: n, Failed: int(failed.Load()), CPUBusy: busySince(cpu0, cpuOK)}
	_ = waitUntil(30*time.Second, func() bool {
		_, ok := ch.received(fmt.Sprintf("L%dJ%07d", run, n-1))
		return ok && ch.count() >= had+n-res.Failed
	})
	var lat []time.Duration
	var last time.Time
	for i := range n {
		t, ok := ch.received(fmt.Sprintf("L%dJ%07d", run, i))
		if !ok {
			res.Lost++
			continue
		}
		lat = append(lat, t.Sub(starts[i]))
		if t.After(last) {
			last = t
		}
	}
	res.Lost -= res.Failed
	res.P50, res.P99, res.Max = pct(lat, 50), pct(lat, 99), pct(lat, 100)
	if el := last.Sub(starts[0]); el > 0 {
		res.Achieved = float64(len(lat)) / el.Seconds()
	}
	return res
}

// waitUntil polls cond every 20 ms for at most d.
func waitUntil(d time.Duration, cond func() bool) error {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}
