package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"printdock/client"
	"printdock/internal/deploy"
)

// --mode replicas: three printdock-server processes on a throwaway PostgreSQL behind Debian's nginx
// (package internal/deploy, as the chaos suite runs them), and light protocol-level agents in this
// process, each connected through nginx to the replica a measurement names (nginx has a port per
// replica beside the balanced one). Each figure beside its baseline, measured in the same run:
//   - a key rotated on replica A → its agent on replica C receives `logout` (baseline: the agent on A);
//   - a job submitted on A for an agent on B → the job message at that agent (baseline: submitted on B);
//   - jobs/s delivered with agents and submissions spread over 3 replicas, and with 1 replica (the other
//     two stopped), on the same PostgreSQL.

// ReplicasResult is what --mode replicas measures (durations in nanoseconds in JSON).
type ReplicasResult struct {
	Mode       string `json:"mode"`
	CPUs       int    `json:"cpus"`
	LoadBefore string `json:"load_before"`
	LoadAfter  string `json:"load_after"`

	Rotations      int           `json:"rotations"`
	LogoutCrossP50 time.Duration `json:"logout_a_to_c_p50_ns"`
	LogoutCrossP99 time.Duration `json:"logout_a_to_c_p99_ns"`
	LogoutSameP50  time.Duration `json:"logout_a_to_a_p50_ns"`
	LogoutSameP99  time.Duration `json:"logout_a_to_a_p99_ns"`

	Jobs        int           `json:"jobs"`
	JobCrossP50 time.Duration `json:"job_a_to_b_p50_ns"`
	JobCrossP99 time.Duration `json:"job_a_to_b_p99_ns"`
	JobSameP50  time.Duration `json:"job_b_to_b_p50_ns"`
	JobSameP99  time.Duration `json:"job_b_to_b_p99_ns"`

	Throughput []Throughput `json:"throughput"`
}

// Throughput is one closed-loop phase: Submitters submitting as fast as they are answered for Seconds.
type Throughput struct {
	Replicas   int     `json:"replicas"`
	Agents     int     `json:"agents"`
	Submitters int     `json:"submitters"`
	Seconds    float64 `json:"seconds"`
	Accepted   int     `json:"accepted"`
	Failed     int     `json:"failed"`
	Lost       int     `json:"lost"` // accepted, never at an agent within the drain
	PerSecond  float64 `json:"delivered_per_second"`
}

func load() string {
	out, _ := exec.Command("uptime").Output()
	s := strings.TrimSpace(string(out))
	if i := strings.Index(s, "load average:"); i >= 0 {
		return strings.TrimSpace(s[i+len("load average:"):])
	}
	return s
}

// runReplicaBench sets up the deployment in dir and measures.
func runReplicaBench(ctx context.Context, o options, dir string) (ReplicasResult, error) {
	res := ReplicasResult{Mode: "replicas", LoadBefore: load()}
	repo, err := deploy.ModuleRoot()
	if err != nil {
		return res, err
	}
	_ = os.Chmod(dir, 0o755) // PostgreSQL runs as postgres under it when we are root
	b, err := deploy.Build(ctx, repo, filepath.Join(dir, "bin"))
	if err != nil {
		return res, err
	}
	db, err := deploy.StartPG(ctx, repo, filepath.Join(dir, "pg"))
	if err != nil {
		return res, err
	}
	defer db.Stop()
	reps, err := deploy.StartReplicas(ctx, b, deploy.ReplicaOptions{N: 3, Database: db.URL, Dir: dir})
	if err != nil {
		return res, err
	}
	defer reps.Stop()
	lb, err := deploy.StartNginx(ctx, filepath.Join(dir, "nginx"), reps.Upstreams())
	if err != nil {
		return res, err
	}
	defer lb.Stop()
	f := newBenchFleet(reps.Key, lb.Direct)
	if err := f.rotations(ctx, &res, max(50, o.agents)); err != nil {
		return res, err
	}
	if err := f.jobLatency(ctx, &res, 200); err != nil {
		return res, err
	}
	for _, n := range []int{3, 1} {
		if n == 1 {
			reps.Servers[1].Stop()
			reps.Servers[2].Stop()
		}
		t, err := f.throughput(ctx, n, 12, 16, o.duration)
		if err != nil {
			return res, err
		}
		res.Throughput = append(res.Throughput, t)
	}
	res.LoadAfter = load()
	return res, nil
}

// benchFleet is the light agents of this process and the REST clients of each replica (through nginx).
type benchFleet struct {
	api    []*client.Client // per replica, through nginx
	ws     []string         // agent endpoint per replica, through nginx
	events *arrivals
	next   int // the next light agent index (its printer is light://index)
}

func newBenchFleet(key string, direct []string) *benchFleet {
	f := &benchFleet{events: newArrivals()}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for _, u := range direct {
		c, err := client.New(u, key, client.WithHTTPClient(hc), client.WithRetry(client.RetryPolicy{Attempts: 1}))
		if err != nil {
			panic(err) // the URLs are ours
		}
		f.api = append(f.api, c)
		f.ws = append(f.ws, "ws"+strings.TrimPrefix(u, "http")+"/api/v1/agent/ws")
	}
	return f
}

// connect starts a light agent with secret on replica rep and waits until it is welcomed; stop ends it.
func (f *benchFleet) connect(ctx context.Context, rep int, secret string) (idx int, stop func(), err error) {
	idx = f.next
	f.next++
	actx, cancel := context.WithCancel(ctx)
	welcomed := make(chan error, 2)
	go func() {
		if err := lightAgent(actx, childConfig{URL: f.ws[rep]}, idx, secret, "", f.events.emit, welcomed); err != nil {
			welcomed <- err
		}
	}()
	select {
	case err = <-welcomed:
	case <-time.After(10 * time.Second):
		err = fmt.Errorf("light agent %d on replica %d: no welcome within 10 s", idx, rep)
	}
	if err != nil {
		cancel()
		return 0, nil, err
	}
	return idx, cancel, nil
}

// printerID waits until the printer of light agent idx is listed and returns its ID.
func (f *benchFleet) printerID(ctx context.Context, idx int) (string, error) {
	uri := fmt.Sprintf("light://%d", idx)
	var id string
	err := deploy.WaitFor(ctx, 10*time.Second, "printer "+uri, func() bool {
		ps, err := f.api[0].ListPrinters(ctx)
		for _, p := range ps {
			if err == nil && p.URI == uri && p.Online {
				id = p.ID
			}
		}
		return id != ""
	})
	return id, err
}

func writeReplicas(out io.Writer, r ReplicasResult) {
	fmt.Fprintf(out, "printdock-bench --mode replicas: 3 printdock-server replicas on PostgreSQL behind nginx, light agents in this process, %d CPUs; load average before %s, after %s\n\n",
		r.CPUs, r.LoadBefore, r.LoadAfter)
	fmt.Fprintln(out, "| figure | p50 | p99 | baseline (same run) | baseline p50 / p99 | target |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|")
	fmt.Fprintf(out, "| rotate on A → agent on C gets `logout` (%d rotations) | %s | %s | agent on A | %s / %s | p99 < 100 ms |\n",
		r.Rotations, ms(r.LogoutCrossP50), ms(r.LogoutCrossP99), ms(r.LogoutSameP50), ms(r.LogoutSameP99))
	fmt.Fprintf(out, "| job submitted to A → at the agent on B (%d jobs) | %s | %s | submitted to B | %s / %s | p99 < 20 ms |\n",
		r.Jobs, ms(r.JobCrossP50), ms(r.JobCrossP99), ms(r.JobSameP50), ms(r.JobSameP99))
	fmt.Fprintln(out)
	fmt.Fprintln(out, "| replicas | agents | submitters | seconds | accepted | failed | lost | delivered jobs/s |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|")
	for _, t := range r.Throughput {
		fmt.Fprintf(out, "| %d | %d | %d | %.0f | %d | %d | %d | %.1f |\n", t.Replicas, t.Agents, t.Submitters, t.Seconds, t.Accepted, t.Failed, t.Lost, t.PerSecond)
	}
}
