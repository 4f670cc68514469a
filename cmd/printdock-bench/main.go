// Command printdock-bench measures print-job latency end to end on one machine: submit (REST) → bytes at
// the simulated printer, through a real printdock-server (embedded SQLite, in this process), N real
// agents (in this process, each with its own durable spool and simulated Zebra), at fixed open-loop
// submission rates; beside it, in the same run, a bare websocket round trip (echo over coder/websocket,
// N connections, same rate and message size) as the floor a job's path is compared with.
//
//	go run ./cmd/printdock-bench [--agents 50] [--agent-procs K] [--rates 100,1000] [--duration 10s] [--json]
//
// --agent-procs K runs the N agents in K child processes instead (procs.go), so the server's process
// holds the server (and the submitting client) alone.
//
// The latency of a job is the time from the start of its POST /api/v1/printers/{id}/jobs to the moment
// the simulator holds all its bytes. Everything runs on loopback; the numbers include the spools' and the
// server's fsyncs on this machine's disk.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "--light-child" {
		runChild()
		return
	}
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "printdock-bench:", err)
		os.Exit(1)
	}
}

type options struct {
	agents   int
	rates    []int
	duration time.Duration
	// warmup: agents and light modes offer each rate this long, unmeasured, before its measured run
	// (a server, its store and the submitter's connections at a steady state; losses still count).
	warmup time.Duration
	asJSON bool
	keep   string
	mode   string
	// memProfile: --mode idle writes a heap profile here while the agents are connected.
	memProfile string
	// cpuProfile: --mode reset profiles only from the call until the last logout.
	cpuProfile string
	// idlePrinters: --mode idle's agents send a printers message (one printer each).
	idlePrinters bool
	procs        int    // --agent-procs
	profile      string // --cpuprofile: the children (agents) write theirs beside it, as PATH.childN
}

// Result is one measured rate.
type Result struct {
	Rate        int           `json:"rate"` // jobs (and websocket messages) per second, offered
	Jobs        int           `json:"jobs"`
	Lost        int           `json:"lost"`       // jobs that never reached a printer within the wait
	Duplicates  int           `json:"duplicates"` // jobs that reached a printer more than once
	Achieved    float64       `json:"achieved_per_second"`
	JobP50      time.Duration `json:"job_p50_ns"`
	JobP99      time.Duration `json:"job_p99_ns"`
	JobMax      time.Duration `json:"job_max_ns"`
	SubmitP50   time.Duration `json:"submit_p50_ns"` // the POST alone (201)
	SubmitP99   time.Duration `json:"submit_p99_ns"`
	WSP50       time.Duration `json:"ws_p50_ns"`
	WSP99       time.Duration `json:"ws_p99_ns"`
	RatioP50    float64       `json:"ratio_p50"`
	RatioP99    float64       `json:"ratio_p99"`
	MessageSize int           `json:"message_bytes"`
	// Stages (p50 over a sample of jobs, from the server's timestamps): submitted → sent to the agent,
	// sent → the agent's receipt recorded, sent → bytes at the printer.
	StageSentP50     time.Duration `json:"stage_queue_p50_ns"`
	StageReceivedP50 time.Duration `json:"stage_receipt_p50_ns"`
	StagePrintedP50  time.Duration `json:"stage_print_p50_ns"`
	// CPUBusy is the share of the whole machine's CPU time (every process, the kernel's too) that was busy
	// while the rate was offered (Linux; 0 elsewhere).
	CPUBusy float64 `json:"machine_cpu_busy"`
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("printdock-bench", flag.ContinueOnError)
	var o options
	rates := fs.String("rates", "100,1000", "submission rates to measure (jobs per second, comma-separated)")
	fs.IntVar(&o.agents, "agents", 50, "number of agents (one simulated printer each)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long each rate is offered")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "agents and light modes: offer each rate this long before its measured --duration (not measured; its lost and duplicated jobs count)")
	fs.BoolVar(&o.asJSON, "json", false, "print JSON")
	fs.StringVar(&o.keep, "data-dir", "", "keep the server's and agents' data here (default: a temporary directory, removed)")
	fs.BoolVar(&o.idlePrinters, "idle-printers", false, "--mode idle: each agent reports one printer (as real agents do), so its session runs its delivery loop")
	fs.IntVar(&o.procs, "agent-procs", 0, "agents mode: run the agents in this many child processes (0: in this process)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the measurements here")
	fs.StringVar(&o.memProfile, "memprofile", "", "--mode idle: write a heap profile here while the agents are connected")
	fs.StringVar(&o.mode, "mode", "agents", "agents: full agents in process (above); light: the server alone, light agents in another process; idle: server memory per idle agent (--agents of them); reset: shared-secret reset with --agents devices connected; replicas: 3 replicas on PostgreSQL behind nginx (needs nginx and PostgreSQL's server binaries; max(50, --agents) rotations); targets: every issue-13 target, each mode in a child process, as one Markdown table (--duration is the full path's)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.mode == "reset" {
		o.cpuProfile, *cpuProfile = *cpuProfile, ""
	}
	o.profile = *cpuProfile
	if *cpuProfile != "" {
		stop, err := startProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	for _, r := range strings.Split(*rates, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(r))
		if err != nil || n <= 0 {
			return fmt.Errorf("bad rate %q", r)
		}
		o.rates = append(o.rates, n)
	}
	if o.agents <= 0 {
		return errors.New("--agents must be positive")
	}
	dir := o.keep
	if dir == "" {
		d, err := os.MkdirTemp("", "printdock-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	switch o.mode {
	case "agents":
	case "light", "idle", "reset", "replicas":
		return runMode(ctx, o, dir, out)
	case "targets":
		return runTargets(ctx, o, out)
	default:
		return fmt.Errorf("--mode %q: want agents, light, idle, reset, replicas or targets", o.mode)
	}
	rig, err := newRig(ctx, dir, o.agents, o.procs, o.profile)
	if err != nil {
		return err
	}
	defer rig.close()
	echo, err := newEcho(ctx, o.agents)
	if err != nil {
		return err
	}
	defer echo.close()

	var results []Result
	for _, rate := range o.rates {
		var warm Result
		if o.warmup > 0 {
			if warm, err = rig.measure(ctx, rate, o.warmup); err != nil { // not measured; its losses count
				return err
			}
		}
		res, err := rig.measure(ctx, rate, o.duration)
		if err != nil {
			return err
		}
		res.Lost, res.Duplicates = res.Lost+warm.Lost, res.Duplicates+warm.Duplicates
		ws, err := echo.measure(ctx, rate, o.duration, res.MessageSize)
		if err != nil {
			return err
		}
		res.WSP50, res.WSP99 = pct(ws, 50), pct(ws, 99)
		if res.WSP50 > 0 {
			res.RatioP50 = float64(res.JobP50) / float64(res.WSP50)
		}
		if res.WSP99 > 0 {
			res.RatioP99 = float64(res.JobP99) / float64(res.WSP99)
		}
		results = append(results, res)
	}
	if o.asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"agents": o.agents, "agent_procs": o.procs, "duration_s": o.duration.Seconds(), "warmup_s": o.warmup.Seconds(), "cpus": runtime.NumCPU(), "results": results})
	}
	where := "in this process"
	if o.procs > 0 {
		where = fmt.Sprintf("in %d other processes", o.procs)
	}
	fmt.Fprintf(out, "printdock-bench: %d agents (spool + simulated Zebra each) %s, one server (SQLite), %d CPUs, %s per rate after a %s warm-up\n",
		o.agents, where, runtime.NumCPU(), o.duration, o.warmup)
	fmt.Fprintf(out, "%6s %6s %9s %5s %4s | %9s %9s %9s | %9s %9s | %9s %9s | %6s %6s | %8s\n",
		"rate/s", "jobs", "achieved", "lost", "dup", "job p50", "job p99", "job max", "POST p50", "POST p99", "ws p50", "ws p99", "x p50", "x p99", "CPU busy")
	for _, r := range results {
		fmt.Fprintf(out, "%6d %6d %9.1f %5d %4d | %9s %9s %9s | %9s %9s | %9s %9s | %6.1f %6.1f | %7.0f%%\n",
			r.Rate, r.Jobs, r.Achieved, r.Lost, r.Duplicates, ms(r.JobP50), ms(r.JobP99), ms(r.JobMax),
			ms(r.SubmitP50), ms(r.SubmitP99), ms(r.WSP50), ms(r.WSP99), r.RatioP50, r.RatioP99, 100*r.CPUBusy)
	}
	fmt.Fprintln(out, "CPU busy: the whole machine's (every process and the kernel) while the rate was offered")
	fmt.Fprintln(out, "stages (p50 of a sample, server clock): submitted→sent to agent | sent→receipt recorded | sent→bytes at printer")
	for _, r := range results {
		fmt.Fprintf(out, "%6d  %9s | %9s | %9s\n", r.Rate, ms(r.StageSentP50), ms(r.StageReceivedP50), ms(r.StagePrintedP50))
	}
	return nil
}

// offer calls send(i) for i in 0..n-1, each in its own goroutine, at rate calls per second on a fixed
// schedule (open loop: a slow call never delays the next), waits for all of them and returns the start.
func offer(n, rate int, send func(i int)) time.Time {
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(rate)
	t0 := time.Now()
	for i := range n {
		if wait := time.Until(t0.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			send(i)
		}()
	}
	wg.Wait()
	return t0
}

// startProfile writes a CPU profile of this process to path until stop is called.
func startProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/1e6) }

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[min(max(i-1, 0), len(s)-1)]
}
