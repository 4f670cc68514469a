package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"printdock/agent"
	"printdock/client"
	"printdock/keystore"
	"printdock/printer/sim"
	"printdock/server"
	"printdock/server/keys"
)

// rig is the server and the agents.
type rig struct {
	srv      *server.Server
	base     string
	api      *client.Client
	agents   []*agent.Agent
	printers []*sim.Printer
	ids      []string // the server's printer IDs, by agent
	children []*child // the agents' processes (--agent-procs), instead of agents and printers
	adminKey string
	stop     context.CancelFunc
	served   chan error
	run      int
}

func quiet() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

// startServer starts the server alone (embedded SQLite in dir/server), with cheap password hashing.
func startServer(ctx context.Context, dir string) (*rig, error) {
	// No cap on printers: --mode idle --idle-printers records one per agent.
	srv, err := server.New(ctx, server.Config{DataDir: filepath.Join(dir, "server"), Log: quiet(), Version: "bench", MaxPrinters: -1,
		KeysOptions: []keys.Option{keys.WithPasswordParams(keys.PasswordParams{Time: 1, Memory: 64, Threads: 1})}})
	if err != nil {
		return nil, err
	}
	res, _, err := srv.Bootstrap(ctx, "bench@localhost")
	if err != nil {
		srv.Close()
		return nil, err
	}
	sctx, stop := context.WithCancel(ctx)
	r := &rig{srv: srv, stop: stop, served: make(chan error, 1), adminKey: res.AdminAPIKey}
	ready := make(chan net.Addr, 1)
	go func() {
		r.served <- srv.Serve(sctx, server.Listen{Addr: "127.0.0.1:0"}, func(a net.Addr) { ready <- a })
	}()
	select {
	case a := <-ready:
		r.base = "http://" + a.String()
	case err := <-r.served:
		return nil, err
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512}, Timeout: time.Minute}
	if r.api, err = client.New(r.base, res.AdminAPIKey, client.WithHTTPClient(hc)); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

// walRestarts reads the SQLite store's writer pauses to restart the WAL so far from the server's metrics
// (printdock_sqlite_wal_restart*; zero on PostgreSQL).
func (r *rig) walRestarts() (n int64, total time.Duration) {
	mfs, err := r.srv.Metrics.Registry().Gather()
	if err != nil {
		return 0, 0
	}
	for _, mf := range mfs {
		if len(mf.GetMetric()) == 0 {
			continue
		}
		v := mf.GetMetric()[0].GetCounter().GetValue()
		switch mf.GetName() {
		case "printdock_sqlite_wal_restarts_total":
			n = int64(v)
		case "printdock_sqlite_wal_restart_seconds_total":
			total = time.Duration(v * float64(time.Second))
		}
	}
	return n, total
}

// startAgent starts a full agent (state in dir/name) printing to sim://name and logs it in to base. It
// returns the agent (to stop) once it started, even with a login error.
func startAgent(ctx context.Context, dir, name, base, secret string) (*agent.Agent, error) {
	a, err := agent.New(agent.Config{StateDir: filepath.Join(dir, name), Keystore: keystore.ModeFile,
		SocketPath: "-", Logger: quiet(), NoDiscovery: true, Printers: []string{"sim://" + name}, Hostname: name})
	if err != nil {
		return nil, err
	}
	if err := a.Start(ctx); err != nil {
		return nil, err
	}
	if _, err := a.Login(ctx, base, secret, ""); err != nil {
		return a, fmt.Errorf("agent %s login: %w", name, err)
	}
	return a, nil
}

// newRig starts the server and n agents: in this process, or in procs child processes when procs > 0
// (each writing a CPU profile to profile.childN when profile is set).
func newRig(ctx context.Context, dir string, n, procs int, profile string) (*rig, error) {
	r, err := startServer(ctx, dir)
	if err != nil {
		return nil, err
	}
	run := fmt.Sprintf("%d", time.Now().UnixNano())
	uris, names := make([]string, n), make([]string, n)
	for i := range n {
		names[i] = fmt.Sprintf("bench-%s-%d", run, i)
		uris[i] = "sim://" + names[i]
	}
	here := n // agents in this process
	if procs > 0 {
		here = 0
		if err := r.startAgentProcs(ctx, dir, names, procs, profile); err != nil {
			r.close()
			return nil, err
		}
	}
	for i := range here {
		name := names[i]
		r.printers = append(r.printers, sim.Named(name))
		created, err := r.api.CreateKey(ctx, client.NewKey{Description: "bench " + name})
		if err != nil {
			r.close()
			return nil, err
		}
		a, err := startAgent(ctx, filepath.Join(dir, "agents"), name, r.base, created.Secret)
		if a != nil {
			r.agents = append(r.agents, a)
		}
		if err != nil {
			r.close()
			return nil, err
		}
	}
	// Wait for every printer to be online and learn its ID.
	deadline := time.Now().Add(time.Minute)
	r.ids = make([]string, n)
	for {
		list, err := r.api.ListPrinters(ctx)
		if err != nil {
			r.close()
			return nil, err
		}
		online := 0
		for _, p := range list {
			if i := slices.Index(uris, p.URI); i >= 0 && p.Online {
				r.ids[i] = p.ID
				online++
			}
		}
		if online == n {
			return r, nil
		}
		if time.Now().After(deadline) {
			r.close()
			return nil, fmt.Errorf("only %d of %d printers came online", online, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *rig) close() {
	for _, a := range r.agents {
		a.Stop()
	}
	for _, c := range r.children {
		c.stop()
	}
	r.stop()
	select {
	case <-r.served:
	case <-time.After(15 * time.Second):
	}
	r.srv.Close()
}

// benchLabel is a typical small shipping label carrying a unique marker.
func benchLabel(marker string) []byte {
	return []byte("^XA\n^PW812\n^LL1218\n^CF0,50\n^FO50,50^FDprintdock bench^FS\n^CF0,30\n^FO50,130^FDShip to: Warehouse 3, dock 7^FS\n" +
		"^BY3^FO50,200^BCN,150,Y,N,N^FD" + marker + "^FS\n^FO50,420^FDM:" + marker + "^FS\n^XZ\n")
}

// measure offers rate jobs per second for d, round robin over the printers, and waits for every job to
// reach its printer.
func (r *rig) measure(ctx context.Context, rate int, d time.Duration) (Result, error) {
	r.run++
	n := int(float64(rate) * d.Seconds())
	res := Result{Rate: rate, Jobs: n}
	base := make([]int, len(r.printers))
	for i, p := range r.printers {
		base[i] = len(p.Jobs())
	}
	reported := r.reported()
	starts := make([]time.Time, n)
	posts := make([]time.Duration, n)
	jobIDs := make([]string, n)
	var failed atomic.Int64
	var firstErr atomic.Value
	cpu0, cpuOK := readCPUTimes()
	t0 := offer(n, rate, func(i int) {
		marker := fmt.Sprintf("R%dJ%06d", r.run, i)
		req := client.JobRequest{ContentType: "raw", Content: benchLabel(marker), Title: marker, Copies: 1}
		starts[i] = time.Now()
		j, created, err := r.api.SubmitJob(ctx, r.ids[i%len(r.ids)], req)
		posts[i] = time.Since(starts[i])
		jobIDs[i] = j.ID
		if err != nil || !created {
			failed.Add(1)
			firstErr.CompareAndSwap(nil, fmt.Sprintf("created %v: %v", created, err))
		}
	})
	res.CPUBusy = busySince(cpu0, cpuOK)
	if f := failed.Load(); f > 0 {
		return res, fmt.Errorf("%d submissions failed, first: %v", f, firstErr.Load())
	}
	res.MessageSize = len(`{"type":"job","job_id":"job_xxxxxxxxxxxxxxxxxxxxxxxxxx","printer_id":"sim://bench-x","title":"R1J000000","content":"","copies":1,"expires_at":"2026-01-01T00:00:00Z"}`) +
		(len(benchLabel("R1J000000"))+2)/3*4

	// Wait for the printers (at most 2 minutes after the last submission).
	deadline := time.Now().Add(2 * time.Minute)
	var printedAt []time.Time
	var seen []int
	if len(r.children) > 0 {
		printedAt, seen = r.printedByChildren(r.run, n, reported, deadline)
	} else {
		printedAt, seen = r.printedHere(n, base, deadline)
	}
	var lat []time.Duration
	var last time.Time
	for i, t := range printedAt {
		if seen[i] > 0 {
			lat = append(lat, t.Sub(starts[i]))
			if t.After(last) {
				last = t
			}
		}
	}
	for _, c := range seen {
		switch {
		case c == 0:
			res.Lost++
		case c > 1:
			res.Duplicates++
		}
	}
	res.JobP50, res.JobP99, res.JobMax = pct(lat, 50), pct(lat, 99), pct(lat, 100)
	// Where the time goes, from the server's timestamps of a sample of the jobs.
	var queued, receipt, printed []time.Duration
	for i := 0; i < n; i += max(n/200, 1) {
		if jobIDs[i] == "" {
			continue
		}
		j, err := r.api.GetJob(ctx, jobIDs[i])
		if err != nil || j.SentAt == nil || j.ReceivedAt == nil {
			continue
		}
		queued = append(queued, j.SentAt.Sub(j.CreatedAt))
		receipt = append(receipt, j.ReceivedAt.Sub(*j.SentAt))
		if !printedAt[i].IsZero() {
			printed = append(printed, printedAt[i].Sub(*j.SentAt))
		}
	}
	res.StageSentP50, res.StageReceivedP50, res.StagePrintedP50 = pct(queued, 50), pct(receipt, 50), pct(printed, 50)
	res.SubmitP50, res.SubmitP99 = pct(posts, 50), pct(posts, 99)
	if el := last.Sub(t0); el > 0 {
		res.Achieved = float64(len(lat)) / el.Seconds()
	}
	return res, nil
}

// printedHere waits for the jobs 0..n-1 of the current run at the printers of this process (base: how
// many each had printed before the run) and returns when each first printed and how many times.
func (r *rig) printedHere(n int, base []int, deadline time.Time) (printedAt []time.Time, seen []int) {
	for i, p := range r.printers {
		want := base[i] + n/len(r.printers)
		if i < n%len(r.printers) {
			want++
		}
		wctx, cancel := context.WithDeadline(context.Background(), deadline)
		_, _ = p.WaitJobs(wctx, want)
		cancel()
	}
	printedAt, seen = make([]time.Time, n), make([]int, n)
	prefix := fmt.Sprintf("^FDM:R%dJ", r.run)
	for i, p := range r.printers {
		for _, j := range p.Jobs()[base[i]:] {
			k := strings.Index(string(j.Data), prefix)
			if k < 0 {
				continue
			}
			seq, err := strconv.Atoi(string(j.Data[k+len(prefix) : k+len(prefix)+6]))
			if err != nil || seq >= n {
				continue
			}
			seen[seq]++
			if seen[seq] == 1 {
				printedAt[seq] = j.PrintedAt
			}
		}
	}
	return printedAt, seen
}
