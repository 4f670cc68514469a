package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"printdock/protocol"
	"printdock/server/servertest"
)

// BenchmarkJobDelivery: latency from a job submission over REST to the `job` message arriving at its
// fake agent, with 50 agents connected (one printer each, jobs spread round-robin), at 100 and 1,000
// jobs/s offered open-loop; beside it, in the same run and on the same connections, the bare websocket
// round trip (agent ping → server pong). Each agent acknowledges every job with one job_status `done`.
//
// Latency is measured from the moment the submission was scheduled (so a backlog on the client side
// counts, no coordinated omission) to the moment the agent's reader decoded the job. Run it once:
//
//	go test -run '^$' -bench JobDelivery -benchtime 1x -timeout 30m ./server/
func BenchmarkJobDelivery(b *testing.B) {
	if testing.Short() {
		b.Skip("benchmark with 50 agents and thousands of jobs; skipped with -short")
	}
	for _, tc := range []struct {
		rate int
		jobs int
	}{{100, 1000}, {1000, 5000}} {
		b.Run(fmt.Sprintf("rate=%d", tc.rate), func(b *testing.B) { benchJobDelivery(b, tc.rate, tc.jobs) })
	}
}

const benchAgents = 50

// benchAgent reads its connection, recording when each job and each pong arrived.
type benchAgent struct {
	*servertest.Agent
	pongs chan uint64
}

func benchJobDelivery(b *testing.B, rate, n int) {
	raiseNOFILE(b, 4000)
	s := servertest.New(b, servertest.Options{Heartbeat: time.Hour, LogLevel: slog.LevelWarn, NoRecording: true})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	n = max(n, b.N)
	scheduled := make([]time.Time, n)
	arrived := make([]time.Time, n)
	var got atomic.Int64
	allIn := make(chan struct{})
	agents := make([]*benchAgent, benchAgents)
	printerIDs := make([]string, benchAgents)
	for i := range benchAgents {
		k := s.CreatePrintClient(b, fmt.Sprintf("bench %d", i))
		a, err := s.TryConnect(ctx, k.Secret, servertest.DialOptions{LocalAddr: sourceAddr(i),
			Printers: []protocol.Printer{servertest.SimPrinter("p")}})
		if err != nil {
			b.Fatal(err)
		}
		ba := &benchAgent{Agent: a, pongs: make(chan uint64, 1)}
		agents[i] = ba
		go func() {
			for {
				_, data, err := ba.Conn.Read(ctx)
				if err != nil {
					return
				}
				now := time.Now()
				m, err := protocol.Decode(data)
				if err != nil {
					b.Errorf("agent: %v", err)
					return
				}
				switch m := m.(type) {
				case protocol.Pong:
					ba.pongs <- m.Nonce
				case protocol.Job:
					idx, err := strconv.Atoi(strings.TrimPrefix(m.Title, "bench-"))
					if err != nil || idx < 0 || idx >= n || !arrived[idx].IsZero() {
						b.Errorf("unexpected or repeated job %q", m.Title)
						return
					}
					arrived[idx] = now
					if got.Add(1) == int64(n) {
						close(allIn)
					}
					go ba.SendStatus(ctx, m.JobID, protocol.JobDone, "", false)
				}
			}
		}()
	}
	for i, a := range agents {
		printerIDs[i] = s.WaitPrinter(b, a.Agent, "sim://p", true).ID
	}

	// Bare websocket round trips first, on the idle connections.
	const pings = 1000
	rtt := make([]time.Duration, 0, pings)
	for i := range pings {
		a := agents[i%benchAgents]
		start := time.Now()
		if err := a.Send(ctx, protocol.Ping{Nonce: uint64(i + 1)}); err != nil {
			b.Fatal(err)
		}
		if nonce := <-a.pongs; nonce != uint64(i+1) {
			b.Fatalf("pong %d, want %d", nonce, i+1)
		}
		rtt = append(rtt, time.Since(start))
	}

	// Jobs, open-loop at the offered rate.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512}}
	defer client.CloseIdleConnections()
	content := []byte("^XA^FO50,50^A0N,40,40^FDbench label^FS^BY2^FO50,120^BCN,100,Y,N,N^FD1234567890^FS^XZ")
	call := make([]time.Duration, n)
	var failures atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 512)
	interval := time.Second / time.Duration(rate)
	b.ResetTimer()
	t0 := time.Now()
	for i := range n {
		at := t0.Add(time.Duration(i) * interval)
		if d := time.Until(at); d > 0 {
			time.Sleep(d) // pacing the load generator, not waiting for a condition
		}
		scheduled[i] = at
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			path := "/api/v1/printers/" + printerIDs[i%benchAgents] + "/jobs"
			code, body, err := s.DoWith(ctx, client, http.MethodPost, path, s.AdminKey,
				servertest.JobRequest(content, servertest.JobOptions{Title: "bench-" + strconv.Itoa(i)}))
			call[i] = time.Since(at)
			if err != nil || code != http.StatusCreated {
				if failures.Add(1) == 1 {
					b.Errorf("submit: %d %v %s", code, err, body)
				}
			}
		}()
	}
	offered := time.Since(t0)
	wg.Wait()
	if failures.Load() > 0 {
		b.Fatalf("%d submissions failed", failures.Load())
	}
	select {
	case <-allIn:
	case <-time.After(2 * time.Minute):
		b.Fatalf("only %d of %d jobs arrived", got.Load(), n)
	}
	last := t0
	for _, a := range arrived {
		if a.After(last) {
			last = a
		}
	}
	b.StopTimer()

	lat := make([]time.Duration, n)
	for i := range n {
		lat[i] = arrived[i].Sub(scheduled[i])
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	jp50, jp99 := percentile(lat, 0.50), percentile(lat, 0.99)
	pp50, pp99 := percentile(rtt, 0.50), percentile(rtt, 0.99)
	b.ReportMetric(ms(jp50), "job-p50-ms")
	b.ReportMetric(ms(jp99), "job-p99-ms")
	b.ReportMetric(ms(percentile(lat, 1)), "job-max-ms")
	b.ReportMetric(ms(percentile(call, 0.50)), "submit-call-p50-ms")
	b.ReportMetric(ms(pp50), "ping-p50-ms")
	b.ReportMetric(ms(pp99), "ping-p99-ms")
	b.ReportMetric(float64(jp50)/float64(pp50), "p50-job/ping")
	b.ReportMetric(float64(jp99)/float64(pp99), "p99-job/ping")
	b.ReportMetric(float64(n)/offered.Seconds(), "offered-jobs/s")
	b.ReportMetric(float64(n)/last.Sub(t0).Seconds(), "delivered-jobs/s")
	b.ReportMetric(float64(n), "jobs")
	b.ReportMetric(0, "ns/op")
}
