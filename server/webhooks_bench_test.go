package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"printdock/protocol"
	"printdock/server"
	"printdock/server/servertest"
	"printdock/server/webhooks"
)

// eventTime is the timestamp of an event payload (the server's clock at the change, µs precision).
func eventTime(body []byte) (time.Time, bool) {
	var e struct {
		Timestamp time.Time `json:"timestamp"`
	}
	return e.Timestamp, json.Unmarshal(body, &e) == nil && !e.Timestamp.IsZero()
}

// benchPrinter connects an agent that reports one printer, then reports none: jobs for it stay queued,
// so every submission is exactly one job.state_changed event.
func benchPrinter(b *testing.B, s *servertest.Server) string {
	key := s.CreatePrintClient(b, "bench")
	a := s.Connect(b, key.Secret, servertest.DialOptions{Printers: []protocol.Printer{servertest.SimPrinter("bench")}})
	id := s.WaitPrinter(b, a, "sim://bench", true).ID
	if err := a.SendPrinters(context.Background()); err != nil {
		b.Fatal(err)
	}
	s.WaitPrinter(b, a, "sim://bench", false)
	return id
}

// submitAt submits n jobs at rate per second (each in its own goroutine, so a slow answer does not slow
// the offered rate).
func submitAt(b *testing.B, s *servertest.Server, printerID string, n, rate int) {
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	var wg sync.WaitGroup
	for i := range n {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := s.TrySubmitJob(context.Background(), printerID, []byte("^XA^FDbench^FS^XZ"), servertest.JobOptions{Title: fmt.Sprint(i)}); err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
}

// BenchmarkWebhookDelivery: latency from a job's state change (its event's timestamp) to the webhook
// receiver, at 200 events/s offered (REST submissions on SQLite), beside a bare HTTP POST round trip to
// the same receiver.
func BenchmarkWebhookDelivery(b *testing.B) {
	const rate, n = 200, 1000
	s := servertest.New(b, servertest.Options{NoRecording: true, LogLevel: 8, Config: func(c *server.Config) {
		c.WebhooksAllowPrivate = true
		c.WebhookSender = webhooks.SenderOptions{Workers: 16}
	}})
	var mu sync.Mutex
	var lat []time.Duration
	done := make(chan struct{})
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		now := time.Now()
		if at, ok := eventTime(body); ok {
			mu.Lock()
			lat = append(lat, now.Sub(at))
			if len(lat) == n {
				close(done)
			}
			mu.Unlock()
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()
	printer := benchPrinter(b, s)
	var wh webhooks.Webhook
	s.JSON(b, http.MethodPost, "/api/v1/webhooks", s.AdminKey, map[string]any{"url": rcv.URL, "events": []string{"job.state_changed"}}, http.StatusCreated, &wh)

	// Baseline: a bare POST of the same size to the receiver.
	var post []time.Duration
	body := bytes.Repeat([]byte("x"), 300)
	for range 500 {
		start := time.Now()
		resp, err := http.Post(rcv.URL, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		post = append(post, time.Since(start))
	}
	b.ResetTimer()
	submitAt(b, s, printer, n, rate)
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		b.Fatalf("only %d of %d events delivered", len(lat), n)
	}
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(percentile(lat, 0.50)), "hook-p50-ms")
	b.ReportMetric(ms(percentile(lat, 0.99)), "hook-p99-ms")
	b.ReportMetric(ms(percentile(post, 0.50)), "post-p50-ms")
	b.ReportMetric(ms(percentile(post, 0.99)), "post-p99-ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkEventStreamFanout: latency from a job's state change to each of subs event-stream
// subscribers (p50/p99 over every subscriber and event), 50 events/s; subs=1 is the baseline.
func BenchmarkEventStreamFanout(b *testing.B) {
	for _, subs := range []int{1, 100} {
		b.Run(fmt.Sprintf("subs=%d", subs), func(b *testing.B) { benchFanout(b, subs) })
	}
}

func benchFanout(b *testing.B, subs int) {
	const rate, n = 50, 200
	s := servertest.New(b, servertest.Options{NoRecording: true, LogLevel: 8})
	printer := benchPrinter(b, s)
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan struct{}, subs)
	for range subs {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/api/v1/events?types=job.state_changed", nil)
		req.Header.Set("Authorization", "Bearer "+s.AdminKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("subscribe: %v", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			got := 0
			ready <- struct{}{}
			for got < n {
				line, err := br.ReadString('\n')
				if err != nil {
					return
				}
				if data, ok := strings.CutPrefix(line, "data: "); ok {
					if at, ok := eventTime([]byte(data)); ok {
						d := time.Since(at)
						mu.Lock()
						lat = append(lat, d)
						mu.Unlock()
						got++
					}
				}
			}
		}()
	}
	for range subs {
		<-ready
	}
	b.ResetTimer()
	submitAt(b, s, printer, n, rate)
	wg.Wait()
	b.StopTimer()
	if len(lat) != n*subs {
		b.Fatalf("%d of %d events received", len(lat), n*subs)
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(percentile(lat, 0.50)), "p50-ms")
	b.ReportMetric(ms(percentile(lat, 0.99)), "p99-ms")
	b.ReportMetric(0, "ns/op")
}
