package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"printdock/protocol"
	"printdock/server"
	"printdock/server/keys"
	"printdock/server/servertest"
)

// Benchmarks of the live-connection side. Run them once each:
//
//	go test -run '^$' -bench . -benchtime 1x -timeout 30m ./server/
//
// They are skipped with -short.

// raiseNOFILE skips the benchmark when the limit on open files cannot be raised to want.
func raiseNOFILE(tb testing.TB, want uint64) {
	if err := setNOFILE(want); err != nil {
		tb.Skipf("cannot raise RLIMIT_NOFILE to %d: %v (raise the hard limit: ulimit -Hn)", want, err)
	}
}

// sourceAddr spreads connections over 127.0.0.2–127.0.0.17 so ephemeral ports never run short.
func sourceAddr(i int) net.IP { return net.IPv4(127, 0, 0, byte(2+i%16)) }

// connectMany connects n agents (secret chosen by secretFor, optional device) with bounded concurrency;
// each agent answers pings in its own goroutine until its connection ends, then reports on done.
type bgAgent struct {
	*servertest.Agent
	logoutAt time.Time
	err      error
	done     chan struct{}
}

func connectMany(tb testing.TB, s *servertest.Server, n int, dial func(i int) (string, servertest.DialOptions), watch bool) []*bgAgent {
	tb.Helper()
	out := make([]*bgAgent, n)
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			secret, o := dial(i)
			if o.LocalAddr == nil {
				o.LocalAddr = sourceAddr(i)
			}
			a, err := s.TryConnect(context.Background(), secret, o)
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("agent %d: %w", i, err)
				}
				mu.Unlock()
				return
			}
			bg := &bgAgent{Agent: a, done: make(chan struct{})}
			out[i] = bg
			go bg.run(watch)
		}()
	}
	wg.Wait()
	if firstErr != nil {
		tb.Fatal(firstErr)
	}
	tb.Cleanup(func() {
		for _, a := range out {
			a.Conn.CloseNow()
		}
	})
	return out
}

// run reads (answering pings) until the connection ends; with watch it records when a logout arrived.
func (a *bgAgent) run(watch bool) {
	defer close(a.done)
	for {
		m, err := a.Read(context.Background())
		if err != nil {
			a.err = err
			return
		}
		if _, ok := m.(protocol.Logout); ok && watch && a.logoutAt.IsZero() {
			a.logoutAt = time.Now()
		}
	}
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p)
	return s[i]
}

func adminActor(tb testing.TB, s *servertest.Server) keys.Actor {
	p, err := s.S.Keys.Authenticate(context.Background(), s.AdminKey, "", "127.0.0.1")
	if err != nil {
		tb.Fatal(err)
	}
	return keys.Actor{Principal: p, RemoteAddr: "127.0.0.1"}
}

// BenchmarkRotateToLogout: latency from a rotate API call to the affected agent receiving `logout`, with
// 1,000 other sessions connected; ≥1,000 trials, reported as p50/p99 after the call returned and after
// it started.
func BenchmarkRotateToLogout(b *testing.B) {
	if testing.Short() {
		b.Skip("benchmark with 1,000 connections; skipped with -short")
	}
	raiseNOFILE(b, 4000)
	s := servertest.New(b, servertest.Options{Heartbeat: time.Hour, LogLevel: slog.LevelWarn, NoRecording: true})
	ctx := context.Background()
	admin := adminActor(b, s)
	var bystanderSecrets []string
	for i := range 100 {
		c, err := s.S.Keys.CreateClientKey(ctx, admin, keys.NewClientKey{Description: fmt.Sprintf("bystander %d", i)})
		if err != nil {
			b.Fatal(err)
		}
		bystanderSecrets = append(bystanderSecrets, c.Secret)
	}
	bystanders := connectMany(b, s, 1000, func(i int) (string, servertest.DialOptions) {
		return bystanderSecrets[i%len(bystanderSecrets)], servertest.DialOptions{}
	}, true)
	target := s.CreatePrintClient(b, "target")
	secret := target.Secret
	trials := max(b.N, 1000)
	afterReturn := make([]time.Duration, 0, trials)
	afterStart := make([]time.Duration, 0, trials)
	b.ResetTimer()
	for range trials {
		// One installation reconnecting, as an agent does (new installations would meet --max-clients-per-key).
		a, err := s.TryConnect(ctx, secret, servertest.DialOptions{InstallationID: "target"})
		if err != nil {
			b.Fatal(err)
		}
		bg := &bgAgent{Agent: a, done: make(chan struct{})}
		go bg.run(true)
		start := time.Now()
		k := s.KeyAction(b, target.ID, "rotate")
		returned := time.Now()
		<-bg.done
		if bg.logoutAt.IsZero() {
			b.Fatalf("no logout: %v", bg.err)
		}
		afterReturn = append(afterReturn, max(0, bg.logoutAt.Sub(returned)))
		afterStart = append(afterStart, bg.logoutAt.Sub(start))
		secret = k.Secret
	}
	b.StopTimer()
	for _, a := range bystanders {
		select {
		case <-a.done:
			b.Fatalf("a bystander was disconnected: %v", a.err)
		default:
		}
	}
	b.ReportMetric(float64(percentile(afterReturn, 0.50).Microseconds()), "p50-µs-after-return")
	b.ReportMetric(float64(percentile(afterReturn, 0.99).Microseconds()), "p99-µs-after-return")
	b.ReportMetric(float64(percentile(afterStart, 0.50).Microseconds()), "p50-µs-after-call")
	b.ReportMetric(float64(percentile(afterStart, 0.99).Microseconds()), "p99-µs-after-call")
	b.ReportMetric(float64(trials), "trials")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkSharedResetLogout: a shared-secret reset with reset_devices while 5,000 sharing devices are
// connected; time until the last device has received `logout`.
func BenchmarkSharedResetLogout(b *testing.B) {
	if testing.Short() {
		b.Skip("benchmark with 5,000 connections; skipped with -short")
	}
	const n = 5000
	raiseNOFILE(b, 2*n+2000) // both ends in this process
	s := servertest.New(b, servertest.Options{Heartbeat: time.Hour, LogLevel: slog.LevelWarn, NoRecording: true})
	ctx := context.Background()
	admin := adminActor(b, s)
	first := s.CreateKey(b, s.AdminKey, map[string]any{"description": "device 0", "use_shared_secret": true})
	ids := []string{first.ID}
	for i := 1; i < n; i++ {
		c, err := s.S.Keys.CreateClientKey(ctx, admin, keys.NewClientKey{Description: fmt.Sprintf("device %d", i), UseSharedSecret: true})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, c.Key.ID)
	}
	bystander := s.CreatePrintClient(b, "own secret")
	agents := connectMany(b, s, n, func(i int) (string, servertest.DialOptions) {
		return first.Secret, servertest.DialOptions{Device: ids[i]}
	}, true)
	other := connectMany(b, s, 1, func(int) (string, servertest.DialOptions) { return bystander.Secret, servertest.DialOptions{} }, true)
	if got := s.S.Hub.Count(); got != n+1 {
		b.Fatalf("%d sessions, want %d", got, n+1)
	}
	b.ResetTimer()
	start := time.Now()
	s.ResetSharedSecret(b, true)
	returned := time.Now()
	var last time.Time
	for _, a := range agents {
		<-a.done
		if a.logoutAt.IsZero() {
			b.Fatalf("a device got no logout: %v", a.err)
		}
		if a.logoutAt.After(last) {
			last = a.logoutAt
		}
	}
	b.StopTimer()
	select {
	case <-other[0].done:
		b.Fatalf("the bystander was disconnected")
	default:
	}
	b.ReportMetric(float64(last.Sub(start).Milliseconds()), "ms-last-logout-after-call")
	b.ReportMetric(float64(max(0, last.Sub(returned)).Milliseconds()), "ms-last-logout-after-return")
	b.ReportMetric(float64(returned.Sub(start).Milliseconds()), "ms-api-call")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkIdleConnectionMemory: server memory per idle authenticated agent session (answering the
// default 15 s heartbeat), at 5,000 and 10,000 sessions. The server runs in a child process (this test
// binary in bench-server mode) so the clients' memory is not counted; figures come from its /metrics
// after a GC.
func BenchmarkIdleConnectionMemory(b *testing.B) {
	if testing.Short() {
		b.Skip("benchmark with 10,000 connections; skipped with -short")
	}
	for _, n := range []int{5000, 10000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			raiseNOFILE(b, uint64(n+1000)) // the clients; the server is a child process
			s, stop := startChildServer(b, n)
			defer stop()
			var secrets []string
			for i := range n / 10 { // 10 sessions per key: below the hub's per-key cap (16)
				secrets = append(secrets, s.CreatePrintClient(b, fmt.Sprintf("mem %d", i)).Secret)
			}
			before := waitGC(b, s, 0)
			connectMany(b, s, n, func(i int) (string, servertest.DialOptions) {
				return secrets[i%len(secrets)], servertest.DialOptions{}
			}, false)
			after := waitGC(b, s, n)
			per := func(k string) float64 { return (after[k] - before[k]) / float64(n) }
			b.ReportMetric(per("go_memstats_heap_alloc_bytes")+per("go_memstats_stack_inuse_bytes"), "B-heap+stack/conn")
			b.ReportMetric(per("go_memstats_heap_alloc_bytes"), "B-heap/conn")
			b.ReportMetric(per("go_memstats_stack_inuse_bytes"), "B-stack/conn")
			b.ReportMetric(per("process_resident_memory_bytes"), "B-RSS/conn")
			b.ReportMetric(per("go_goroutines"), "goroutines/conn")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// startChildServer runs this test binary as a printdock-server (see benchServerMain).
func startChildServer(b *testing.B, n int) (*servertest.Server, func()) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PRINTDOCK_BENCH_SERVER=1", fmt.Sprintf("PRINTDOCK_BENCH_NOFILE=%d", n+1000))
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	var hello struct{ URL, AdminKey string }
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || json.Unmarshal([]byte(line), &hello) != nil {
		cmd.Process.Kill()
		b.Fatalf("child server: %v %q", err, line)
	}
	return servertest.Attach(hello.URL, hello.AdminKey), func() {
		stdin.Close()
		cmd.Wait()
	}
}

// waitGC waits until the child server reports n connected agents and a GC that ran after that, and
// returns its metrics.
func waitGC(b *testing.B, s *servertest.Server, n int) map[string]float64 {
	var seenAt float64
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		m := scrape(b, s)
		if int(m["printdock_agents_connected"]) == n {
			if seenAt == 0 {
				seenAt = float64(time.Now().UnixNano()) / 1e9
			} else if m["go_memstats_last_gc_time_seconds"] > seenAt {
				return m
			}
		}
		time.Sleep(50 * time.Millisecond) // benchmark polling, not a test assertion
	}
	b.Fatalf("child server did not reach %d sessions", n)
	return nil
}

func scrape(b *testing.B, s *servertest.Server) map[string]float64 {
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	out := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || line[0] == '#' || strings.Contains(line, "{") {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if f, err := strconv.ParseFloat(val, 64); err == nil {
			out[name] = f
		}
	}
	return out
}

// benchServerMain is the child process of BenchmarkIdleConnectionMemory: a server on a loopback port
// that prints {"URL","AdminKey"} on stdout, collects garbage twice a second (so /metrics shows live
// memory), and stops when stdin closes.
func benchServerMain() int {
	if v, err := strconv.ParseUint(os.Getenv("PRINTDOCK_BENCH_NOFILE"), 10, 64); err == nil {
		_ = setNOFILE(v) // the parent skips when it cannot raise its own limit
	}
	dir, err := os.MkdirTemp("", "printdock-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { io.Copy(io.Discard, os.Stdin); cancel() }()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := server.New(ctx, server.Config{DataDir: dir, Log: log,
		KeysOptions: []keys.Option{keys.WithPasswordParams(servertest.CheapPasswords)}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	res, _, err := srv.Bootstrap(ctx, "bench@example.com")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				runtime.GC()
			}
		}
	}()
	err = srv.Serve(ctx, server.Listen{Addr: "127.0.0.1:0"}, func(a net.Addr) {
		json.NewEncoder(os.Stdout).Encode(map[string]string{"URL": "http://" + a.String(), "AdminKey": res.AdminAPIKey})
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
