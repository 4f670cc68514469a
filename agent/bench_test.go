package agent

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"printdock/agent/localapi"
)

// BenchmarkIdleRSS runs cmd/printdock-agent as a subprocess against an in-process server, waits until
// it is connected and idle, and reports its resident memory (VmRSS and the peak VmHWM from
// /proc/PID/status). Run once: go test -run '^$' -bench IdleRSS -benchtime=1x ./agent/
func BenchmarkIdleRSS(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads /proc/PID/status")
	}
	ts := newTestServer(b, serverOpts{})
	k := ts.CreatePrintClient(b, "rss")
	bin := filepath.Join(b.TempDir(), "printdock-agent")
	build := exec.Command("go", "build", "-o", bin, "printdock/cmd/printdock-agent")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	dir, err := os.MkdirTemp("", "pdr")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	global := []string{"--state-dir", dir, "--keystore", "file", "--printer", "sim://rss"}

	login := exec.Command(bin, append(global, "login", "--server", ts.URL)...)
	login.Stdin = strings.NewReader(k.Secret + "\n")
	if out, err := login.CombinedOutput(); err != nil {
		b.Fatalf("login: %v\n%s", err, out)
	}
	var rss, hwm float64
	for range b.N {
		run := exec.Command(bin, append(global, "run")...)
		run.Stdout, run.Stderr = io.Discard, io.Discard
		if err := run.Start(); err != nil {
			b.Fatal(err)
		}
		c := localapi.NewClient(filepath.Join(dir, localapi.SocketName))
		deadline := time.Now().Add(20 * time.Second)
		for {
			st, err := c.Status(context.Background())
			if err == nil && st.State == localapi.StateConnected {
				break
			}
			if time.Now().After(deadline) {
				run.Process.Kill()
				b.Fatalf("the agent did not connect: %+v %v", st, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		c.Close()
		time.Sleep(3 * time.Second) // idle: a few printer polls and heartbeats
		rss, hwm = procStatus(b, run.Process.Pid, "VmRSS"), procStatus(b, run.Process.Pid, "VmHWM")
		run.Process.Signal(os.Interrupt)
		_ = run.Wait()
	}
	b.ReportMetric(rss, "RSS-KiB")
	b.ReportMetric(hwm, "peak-RSS-KiB")
}

func procStatus(b *testing.B, pid int, field string) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// BenchmarkReconnectAfterRestart connects 100 agents (default reconnect policy) to an in-process server,
// restarts the server b.N times (same data, same address) and reports how long after the new server
// listens each agent is connected again: p50 and p99 over all agents and restarts.
// Run: go test -run '^$' -bench ReconnectAfterRestart -benchtime=100x ./agent/
func BenchmarkReconnectAfterRestart(b *testing.B) {
	n := 100
	if s := os.Getenv("PRINTDOCK_BENCH_AGENTS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	ts := newTestServer(b, serverOpts{})
	agents := make([]*Agent, n)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var wg sync.WaitGroup
	for i := range agents {
		k := ts.CreatePrintClient(b, fmt.Sprintf("agent %d", i))
		a, err := New(Config{
			StateDir: b.TempDir(), Keystore: "file", SocketPath: "-", Logger: quiet, NoDiscovery: true,
			Printers: []string{fmt.Sprintf("sim://bench-%d", i)},
			// The default policy; a session counts as healthy at once, as after a long quiet day.
			Backoff: Backoff{HealthyAfter: time.Millisecond},
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := a.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		defer a.Stop()
		agents[i] = a
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := a.Login(context.Background(), ts.URL, k.Secret, ""); err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
	waitAll(b, agents, localapi.StateConnected)

	var samples []time.Duration
	var mu sync.Mutex
	b.ResetTimer()
	for range b.N {
		ts.stop()
		waitAll(b, agents, localapi.StateConnecting)
		subs := make([]<-chan localapi.Status, n)
		cancels := make([]func(), n)
		for i, a := range agents {
			subs[i], cancels[i] = a.Subscribe()
		}
		ts.startAgain()
		up := time.Now()
		var wg sync.WaitGroup
		for i, a := range agents {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if a.Status().State != localapi.StateConnected {
					timeout := time.After(2 * time.Minute)
				loop:
					for {
						select {
						case st := <-subs[i]:
							if st.State == localapi.StateConnected {
								break loop
							}
						case <-timeout:
							b.Errorf("agent %d did not reconnect", i)
							return
						}
					}
				}
				d := time.Since(up)
				mu.Lock()
				samples = append(samples, d)
				mu.Unlock()
			}()
		}
		wg.Wait()
		for _, c := range cancels {
			c()
		}
	}
	b.StopTimer()
	slices.Sort(samples)
	pct := func(p float64) float64 {
		if len(samples) == 0 {
			return 0
		}
		i := min(int(p*float64(len(samples))), len(samples)-1)
		return float64(samples[i]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
	b.ReportMetric(float64(n), "agents")
}

func waitAll(b *testing.B, agents []*Agent, state string) {
	b.Helper()
	for _, a := range agents {
		waitStatus(b, a, state, stateIs(state))
	}
}
