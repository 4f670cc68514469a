package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"printdock/client"
	"printdock/printer/sim"
)

// outcome is what a submission got.
type outcome int

const (
	notSent   outcome = iota
	accepted          // 201 (or 200 for a repeated idempotency key)
	refused           // an HTTP error status: the job must never print
	ambiguous         // no answer (the connection broke): it may print, at most once
)

// submission is one job offered to the server.
type submission struct {
	seq        int
	printer    int // index into the fleet's printers
	at         time.Time
	outcome    outcome
	status     int
	retryAfter string
	errCode    string
	jobID      string
}

// fleet is the simulated printers (served over tcp:// from this process) and the server's IDs for them.
type fleet struct {
	sims []*sim.Server
	ids  []string // the server's printer IDs, by sim
}

func newFleet(ctx context.Context, n int, ip string) (*fleet, error) {
	f := &fleet{}
	for range n {
		s, err := sim.Listen(ctx, ip+":0")
		if err != nil {
			f.close()
			return nil, err
		}
		f.sims = append(f.sims, s)
	}
	f.ids = make([]string, n)
	return f, nil
}

func (f *fleet) close() {
	for _, s := range f.sims {
		s.Close()
	}
}

// learnIDs waits until every sim's printer is online at the server and records its ID.
func (f *fleet) learnIDs(ctx context.Context, api *client.Client, d time.Duration) error {
	return waitFor(ctx, d, "every printer online", func() bool {
		list, err := api.ListPrinters(ctx)
		if err != nil {
			return false
		}
		n := 0
		for i, s := range f.sims {
			for _, p := range list {
				if p.URI == s.URI() && p.Online {
					f.ids[i] = p.ID
					n++
				}
			}
		}
		return n == len(f.sims)
	})
}

// counts returns how many times each marker of run was printed, over every sim.
func (f *fleet) counts(run string) map[int]int {
	out := map[int]int{}
	prefix := []byte("^FDM:" + run + "J")
	for _, s := range f.sims {
		for _, j := range s.Printer().Jobs() {
			data := j.Data
			for {
				k := bytes.Index(data, prefix)
				if k < 0 {
					break
				}
				data = data[k+len(prefix):]
				var seq int
				if _, err := fmt.Sscanf(string(data[:min(len(data), 7)]), "%07d", &seq); err == nil {
					out[seq]++
				}
			}
		}
	}
	return out
}

// label is a small shipping label carrying the job's marker.
func label(run string, seq int) []byte {
	m := fmt.Sprintf("%sJ%07d", run, seq)
	return []byte("^XA\n^PW812\n^LL1218\n^CF0,50\n^FO50,50^FDprintdock chaos^FS\n^BY3^FO50,200^BCN,150,Y,N,N^FD" + m +
		"^FS\n^FO50,420^FDM:" + m + "^FS\n^XZ\n")
}

// submitter posts jobs with the administrator's key, recording each outcome.
type submitter struct {
	base, key string
	hc        *http.Client
	mu        sync.Mutex
	subs      []*submission
	seq       atomic.Int64
	excused   map[int]bool // accepted jobs not expected to print (failed at the agent with a reason shown)
}

// excuse marks the accepted job seq as not expected to print.
func (s *submitter) excuse(seq int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.excused == nil {
		s.excused = map[int]bool{}
	}
	s.excused[seq] = true
}

func newSubmitter(base, key string) *submitter {
	return &submitter{base: base, key: key, hc: &http.Client{Timeout: 15 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}}
}

// submit posts one job of run to printerID (the fleet's printer index idx) and records the outcome.
func (s *submitter) submit(ctx context.Context, run string, idx int, printerID string) *submission {
	seq := int(s.seq.Add(1))
	sub := &submission{seq: seq, printer: idx, at: time.Now()}
	s.mu.Lock()
	s.subs = append(s.subs, sub)
	s.mu.Unlock()
	body, _ := json.Marshal(map[string]any{"content_type": "raw", "content_base64": base64.StdEncoding.EncodeToString(label(run, seq)),
		"title": fmt.Sprintf("%sJ%07d", run, seq), "copies": 1})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/api/v1/printers/"+printerID+"/jobs", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.hc.Do(req)
	if err != nil {
		sub.outcome = ambiguous
		if errors.Is(err, syscall.ECONNREFUSED) {
			sub.outcome, sub.errCode = refused, "connection refused" // never reached a server
		}
		return sub
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	sub.status = resp.StatusCode
	sub.retryAfter = resp.Header.Get("Retry-After")
	if resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusOK {
		var j struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(b, &j)
		sub.jobID = j.ID
		sub.outcome = accepted
		return sub
	}
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	_ = json.Unmarshal(b, &e)
	sub.errCode = e.Error.Code + ": " + e.Error.Message
	// A proxy's 502/504 means the request may have reached a replica: it can print, at most once.
	if resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusGatewayTimeout {
		sub.outcome = ambiguous
		return sub
	}
	sub.outcome = refused
	return sub
}

// offer submits rate jobs per second for d (open loop, round robin over the printers idx), each in its
// own goroutine; during calls hook(elapsed) before each submission. It returns when every submission
// has an answer.
func (s *submitter) offer(ctx context.Context, run string, f *fleet, idx []int, rate int, d time.Duration, hook func(time.Duration)) {
	n := int(float64(rate) * d.Seconds())
	interval := time.Second / time.Duration(rate)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := range n {
		if wait := time.Until(t0.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		if hook != nil {
			hook(time.Since(t0))
		}
		p := idx[i%len(idx)]
		wg.Add(1)
		go func() { defer wg.Done(); s.submit(ctx, run, p, f.ids[p]) }()
	}
	wg.Wait()
}

// tally is a scenario's count of what was submitted and printed.
type tally struct {
	Submitted  int `json:"submitted"`
	Accepted   int `json:"accepted"`
	Refused    int `json:"refused"`
	Ambiguous  int `json:"ambiguous"`
	Lost       int `json:"lost"`       // accepted, never printed
	Duplicated int `json:"duplicated"` // printed more than once
	Phantom    int `json:"phantom"`    // refused, printed anyway
}

// settle waits (up to d) until every accepted job of run printed, then a moment more for a duplicate
// to show, and counts.
func (s *submitter) settle(ctx context.Context, run string, f *fleet, d time.Duration) tally {
	s.mu.Lock()
	subs := append([]*submission(nil), s.subs...)
	excused := maps.Clone(s.excused)
	s.mu.Unlock()
	_ = waitFor(ctx, d, "every accepted job printed", func() bool {
		c := f.counts(run)
		for _, sub := range subs {
			if sub.outcome == accepted && c[sub.seq] == 0 && !excused[sub.seq] {
				return false
			}
		}
		return true
	})
	time.Sleep(time.Second) // a late duplicate has a moment to show (bounded, for the count only)
	c := f.counts(run)
	var t tally
	for _, sub := range subs {
		t.Submitted++
		switch sub.outcome {
		case accepted:
			t.Accepted++
			if c[sub.seq] == 0 && !excused[sub.seq] {
				t.Lost++
			}
		case refused:
			t.Refused++
			if c[sub.seq] > 0 {
				t.Phantom++
			}
		case ambiguous:
			t.Ambiguous++
		}
		if c[sub.seq] > 1 {
			t.Duplicated++
		}
	}
	return t
}

// statuses summarises the refused submissions' statuses, e.g. "503×12 (Retry-After 1)".
func (s *submitter) statuses() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string]int{}
	var order []string
	for _, sub := range s.subs {
		if sub.outcome != refused {
			continue
		}
		k := fmt.Sprint(sub.status)
		if sub.status == 0 {
			k = sub.errCode
		}
		if sub.retryAfter != "" {
			k += " Retry-After " + sub.retryAfter
		}
		if m[k] == 0 {
			order = append(order, k)
		}
		m[k]++
	}
	var parts []string
	for _, k := range order {
		parts = append(parts, fmt.Sprintf("%d× %s", m[k], k))
	}
	return strings.Join(parts, ", ")
}

// firstAcceptedAfter is when the first submission started at or after t was accepted (its start).
func (s *submitter) firstAcceptedAfter(t time.Time) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best time.Time
	for _, sub := range s.subs {
		if sub.outcome == accepted && !sub.at.Before(t) && (best.IsZero() || sub.at.Before(best)) {
			best = sub.at
		}
	}
	return best, !best.IsZero()
}
