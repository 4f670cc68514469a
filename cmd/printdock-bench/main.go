// Command printdock-bench measures print-job latency end to end on one machine: submit (REST) → bytes at
// the simulated printer, through a real printdock-server (embedded SQLite, in this process), N real
// agents (in this process, each with its own durable spool and simulated Zebra), at fixed open-loop
// submission rates; beside it, in the same run, a bare websocket round trip (echo over coder/websocket,
// N connections, same rate and message size) as the floor a job's path is compared with.
//
//	go run ./cmd/printdock-bench [--agents 50] [--rates 100,1000] [--duration 10s] [--json]
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
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"printdock/agent"
	"printdock/keystore"
	"printdock/printer/sim"
	"printdock/server"
	"printdock/server/keys"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "printdock-bench:", err)
		os.Exit(1)
	}
}

type options struct {
	agents   int
	rates    []int
	duration time.Duration
	asJSON   bool
	keep     string
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
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("printdock-bench", flag.ContinueOnError)
	var o options
	rates := fs.String("rates", "100,1000", "submission rates to measure (jobs per second, comma-separated)")
	fs.IntVar(&o.agents, "agents", 50, "number of agents (one simulated printer each)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long each rate is offered")
	fs.BoolVar(&o.asJSON, "json", false, "print JSON")
	fs.StringVar(&o.keep, "data-dir", "", "keep the server's and agents' data here (default: a temporary directory, removed)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the measurements here")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
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

	rig, err := newRig(ctx, dir, o.agents)
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
		res, err := rig.measure(ctx, rate, o.duration)
		if err != nil {
			return err
		}
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
		return enc.Encode(map[string]any{"agents": o.agents, "duration_s": o.duration.Seconds(), "cpus": runtime.NumCPU(), "results": results})
	}
	fmt.Fprintf(out, "printdock-bench: %d agents (spool + simulated Zebra each), one server (SQLite), %d CPUs, %s per rate\n",
		o.agents, runtime.NumCPU(), o.duration)
	fmt.Fprintf(out, "%6s %6s %9s %5s %4s | %9s %9s %9s | %9s %9s | %9s %9s | %6s %6s\n",
		"rate/s", "jobs", "achieved", "lost", "dup", "job p50", "job p99", "job max", "POST p50", "POST p99", "ws p50", "ws p99", "x p50", "x p99")
	for _, r := range results {
		fmt.Fprintf(out, "%6d %6d %9.1f %5d %4d | %9s %9s %9s | %9s %9s | %9s %9s | %6.1f %6.1f\n",
			r.Rate, r.Jobs, r.Achieved, r.Lost, r.Duplicates, ms(r.JobP50), ms(r.JobP99), ms(r.JobMax),
			ms(r.SubmitP50), ms(r.SubmitP99), ms(r.WSP50), ms(r.WSP99), r.RatioP50, r.RatioP99)
	}
	fmt.Fprintln(out, "stages (p50 of a sample, server clock): submitted→sent to agent | sent→receipt recorded | sent→bytes at printer")
	for _, r := range results {
		fmt.Fprintf(out, "%6d  %9s | %9s | %9s\n", r.Rate, ms(r.StageSentP50), ms(r.StageReceivedP50), ms(r.StagePrintedP50))
	}
	return nil
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

// rig is the server and the agents.
type rig struct {
	srv      *server.Server
	base     string
	adminKey string
	hc       *http.Client
	agents   []*agent.Agent
	printers []*sim.Printer
	ids      []string // the server's printer IDs, by agent
	stop     context.CancelFunc
	served   chan error
	run      int
}

func quiet() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

func newRig(ctx context.Context, dir string, n int) (*rig, error) {
	srv, err := server.New(ctx, server.Config{DataDir: filepath.Join(dir, "server"), Log: quiet(), Version: "bench",
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
	r := &rig{srv: srv, adminKey: res.AdminAPIKey, stop: stop, served: make(chan error, 1),
		hc: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512}, Timeout: time.Minute}}
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

	run := fmt.Sprintf("%d", time.Now().UnixNano())
	uris := make([]string, n)
	for i := range n {
		name := fmt.Sprintf("bench-%s-%d", run, i)
		uris[i] = "sim://" + name
		r.printers = append(r.printers, sim.Named(name))
		var created struct {
			Secret string `json:"secret"`
		}
		if err := r.call(ctx, http.MethodPost, "/api/v1/print-client-secrets", map[string]any{"description": "bench " + name}, &created); err != nil {
			r.close()
			return nil, err
		}
		a, err := agent.New(agent.Config{StateDir: filepath.Join(dir, "agents", strconv.Itoa(i)), Keystore: keystore.ModeFile,
			SocketPath: "-", Logger: quiet(), NoDiscovery: true, Printers: []string{uris[i]}, Hostname: name})
		if err != nil {
			r.close()
			return nil, err
		}
		if err := a.Start(ctx); err != nil {
			r.close()
			return nil, err
		}
		r.agents = append(r.agents, a)
		if _, err := a.Login(ctx, r.base, created.Secret, ""); err != nil {
			r.close()
			return nil, fmt.Errorf("agent %d login: %w", i, err)
		}
	}
	// Wait for every printer to be online and learn its ID.
	deadline := time.Now().Add(time.Minute)
	r.ids = make([]string, n)
	for {
		var list struct {
			Items []struct {
				ID     string `json:"id"`
				URI    string `json:"uri"`
				Online bool   `json:"online"`
			} `json:"items"`
		}
		if err := r.call(ctx, http.MethodGet, "/api/v1/printers", nil, &list); err != nil {
			r.close()
			return nil, err
		}
		online := 0
		for _, p := range list.Items {
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
	r.stop()
	select {
	case <-r.served:
	case <-time.After(15 * time.Second):
	}
	r.srv.Close()
}

func (r *rig) call(ctx context.Context, method, path string, in, out any) error {
	code, body, err := r.do(ctx, method, path, in)
	if err != nil {
		return err
	}
	if code/100 != 2 {
		return fmt.Errorf("%s %s: HTTP %d: %.200s", method, path, code, body)
	}
	if out != nil {
		return json.Unmarshal(body, out)
	}
	return nil
}

func (r *rig) do(ctx context.Context, method, path string, in any) (int, []byte, error) {
	var rd io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, nil, err
		}
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+r.adminKey)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
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
	starts := make([]time.Time, n)
	posts := make([]time.Duration, n)
	jobIDs := make([]string, n)
	var failed atomic.Int64
	var firstErr atomic.Value
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
			marker := fmt.Sprintf("R%dJ%06d", r.run, i)
			body := map[string]any{"content_type": "raw", "content_base64": benchLabel(marker), "title": marker, "copies": 1}
			starts[i] = time.Now()
			code, b, err := r.do(ctx, http.MethodPost, "/api/v1/printers/"+r.ids[i%len(r.ids)]+"/jobs", body)
			posts[i] = time.Since(starts[i])
			var created struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(b, &created) == nil {
				jobIDs[i] = created.ID
			}
			if err != nil || code != http.StatusCreated {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, fmt.Sprintf("HTTP %d %v %.200s", code, err, b))
			}
		}()
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		return res, fmt.Errorf("%d submissions failed, first: %v", f, firstErr.Load())
	}
	res.MessageSize = len(`{"type":"job","job_id":"job_xxxxxxxxxxxxxxxxxxxxxxxxxx","printer_id":"sim://bench-x","title":"R1J000000","content":"","copies":1,"expires_at":"2026-01-01T00:00:00Z"}`) +
		(len(benchLabel("R1J000000"))+2)/3*4

	// Wait for the printers (at most 2 minutes after the last submission).
	deadline := time.Now().Add(2 * time.Minute)
	for i, p := range r.printers {
		want := base[i] + n/len(r.printers)
		if i < n%len(r.printers) {
			want++
		}
		wctx, cancel := context.WithDeadline(ctx, deadline)
		_, _ = p.WaitJobs(wctx, want)
		cancel()
	}
	var lat []time.Duration
	printedAt := make([]time.Time, n)
	seen := make([]int, n)
	var last time.Time
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
				lat = append(lat, j.PrintedAt.Sub(starts[seq]))
				if j.PrintedAt.After(last) {
					last = j.PrintedAt
				}
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
		var j struct {
			CreatedAt  time.Time  `json:"created_at"`
			SentAt     *time.Time `json:"sent_at"`
			ReceivedAt *time.Time `json:"received_at"`
		}
		if jobIDs[i] == "" || r.call(ctx, http.MethodGet, "/api/v1/jobs/"+jobIDs[i], nil, &j) != nil || j.SentAt == nil || j.ReceivedAt == nil {
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

// echo is the baseline: a bare websocket echo server and n client connections.
type echo struct {
	hs    *http.Server
	ln    net.Listener
	conns []*websocket.Conn
	mu    sync.Mutex
	sent  map[uint64]time.Time
	rtts  []time.Duration
	seq   atomic.Uint64
	got   atomic.Int64
}

func newEcho(ctx context.Context, n int) (*echo, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e := &echo{ln: ln, sent: map[uint64]time.Time{}}
	e.hs = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(16 << 20)
		for {
			typ, b, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, b); err != nil {
				return
			}
		}
	})}
	go func() { _ = e.hs.Serve(ln) }()
	for range n {
		c, _, err := websocket.Dial(ctx, "ws://"+ln.Addr().String()+"/", nil)
		if err != nil {
			e.close()
			return nil, err
		}
		c.SetReadLimit(16 << 20)
		e.conns = append(e.conns, c)
		go e.read(ctx, c)
	}
	return e, nil
}

func (e *echo) read(ctx context.Context, c *websocket.Conn) {
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			return
		}
		now := time.Now()
		var m struct {
			Seq uint64 `json:"seq"`
		}
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		e.mu.Lock()
		if t, ok := e.sent[m.Seq]; ok {
			e.rtts = append(e.rtts, now.Sub(t))
			delete(e.sent, m.Seq)
		}
		e.mu.Unlock()
		e.got.Add(1)
	}
}

func (e *echo) close() {
	for _, c := range e.conns {
		c.CloseNow()
	}
	e.hs.Close()
}

// measure sends rate messages per second of about size bytes for d, round robin over the connections,
// and returns the round-trip times.
func (e *echo) measure(ctx context.Context, rate int, d time.Duration, size int) ([]time.Duration, error) {
	e.mu.Lock()
	e.rtts = nil
	e.mu.Unlock()
	e.got.Store(0)
	n := int(float64(rate) * d.Seconds())
	pad := strings.Repeat("x", max(size-40, 0))
	interval := time.Second / time.Duration(rate)
	t0 := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		if wait := time.Until(t0.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			seq := e.seq.Add(1)
			b, _ := json.Marshal(map[string]any{"seq": seq, "pad": pad})
			e.mu.Lock()
			e.sent[seq] = time.Now()
			e.mu.Unlock()
			_ = e.conns[i%len(e.conns)].Write(ctx, websocket.MessageText, b)
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for e.got.Load() < int64(n) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.rtts) < n {
		return e.rtts, fmt.Errorf("websocket baseline: %d of %d round trips completed", len(e.rtts), n)
	}
	return slices.Clone(e.rtts), nil
}
