package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"printdock/client"
)

// arrivals records what the light agents of this process emit: a job's title when its message
// arrives, and `logout` per agent index.
type arrivals struct {
	mu      sync.Mutex
	jobs    map[string]time.Time
	waiters map[string]chan time.Time // a title or "logout N" someone waits for
}

func newArrivals() *arrivals {
	return &arrivals{jobs: map[string]time.Time{}, waiters: map[string]chan time.Time{}}
}

// emit parses one line of lightAgent's output: "TITLE NANOS" or "logout INDEX NANOS".
func (a *arrivals) emit(line string) {
	line = strings.TrimSpace(line)
	i := strings.LastIndexByte(line, ' ')
	if i < 0 {
		return
	}
	ns, err := strconv.ParseInt(line[i+1:], 10, 64)
	if err != nil {
		return
	}
	what, at := line[:i], time.Unix(0, ns)
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, seen := a.jobs[what]; !seen || strings.HasPrefix(what, "logout ") {
		a.jobs[what] = at
	}
	if ch := a.waiters[what]; ch != nil {
		delete(a.waiters, what)
		ch <- at
	}
}

// expect registers a wait for what (before causing it); wait returns when it arrived.
func (a *arrivals) expect(what string) (wait func(d time.Duration) (time.Time, error)) {
	ch := make(chan time.Time, 1)
	a.mu.Lock()
	delete(a.jobs, what)
	a.waiters[what] = ch
	a.mu.Unlock()
	return func(d time.Duration) (time.Time, error) {
		select {
		case t := <-ch:
			return t, nil
		case <-time.After(d):
			return time.Time{}, fmt.Errorf("%q did not arrive within %s", what, d)
		}
	}
}

func (a *arrivals) count(prefix string) (n int, last time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, t := range a.jobs {
		if strings.HasPrefix(k, prefix) {
			n++
			if t.After(last) {
				last = t
			}
		}
	}
	return n, last
}

// timeTo calls cause and returns how long from its start until what arrived (at most 10 s).
func (f *benchFleet) timeTo(what string, cause func() error) (time.Duration, error) {
	wait := f.events.expect(what)
	t0 := time.Now()
	if err := cause(); err != nil {
		return 0, err
	}
	at, err := wait(10 * time.Second)
	return at.Sub(t0), err
}

// rotations rotates 2n keys on replica A (index 0), alternately one whose agent is on C (index 2) and
// one whose agent is on A (the baseline), and times request start → `logout` at the agent.
func (f *benchFleet) rotations(ctx context.Context, res *ReplicasResult, n int) error {
	var cross, same []time.Duration
	for range n {
		for _, side := range []struct {
			rep int
			lat *[]time.Duration
		}{{2, &cross}, {0, &same}} {
			// A key per rotation: each light agent is a new installation, and a key has room for only
			// a few (--max-clients-per-key).
			k, err := f.api[0].CreateKey(ctx, client.NewKey{Description: fmt.Sprintf("bench rotate, agent on replica %d", side.rep)})
			if err != nil {
				return fmt.Errorf("create key: %w", err)
			}
			idx, stop, err := f.connect(ctx, side.rep, k.Secret)
			if err != nil {
				return err
			}
			d, err := f.timeTo("logout "+strconv.Itoa(idx), func() error {
				_, err := f.api[0].RotateKey(ctx, k.ID)
				return err
			})
			stop()
			if err != nil {
				return fmt.Errorf("rotate: %w", err)
			}
			*side.lat = append(*side.lat, d)
		}
	}
	res.Rotations, res.LogoutCrossP50, res.LogoutCrossP99 = n, pct(cross, 50), pct(cross, 99)
	res.LogoutSameP50, res.LogoutSameP99 = pct(same, 50), pct(same, 99)
	return nil
}

// jobLatency submits n jobs one after another for an agent on B (index 1), alternately on A and on B,
// and times request start → the job message at the agent.
func (f *benchFleet) jobLatency(ctx context.Context, res *ReplicasResult, n int) error {
	k, err := f.api[0].CreateKey(ctx, client.NewKey{Description: "bench jobs, agent on replica B"})
	if err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	idx, stop, err := f.connect(ctx, 1, k.Secret)
	if err != nil {
		return err
	}
	defer stop()
	pid, err := f.printerID(ctx, idx)
	if err != nil {
		return err
	}
	content := []byte("^XA^FO50,50^A0N,40,40^FDprintdock bench^FS^XZ")
	var cross, same []time.Duration
	for i := range 2 * n {
		via, lat := 0, &cross
		if i%2 == 1 {
			via, lat = 1, &same
		}
		title := fmt.Sprintf("L%07d", i)
		d, err := f.timeTo(title, func() error {
			_, _, err := f.api[via].SubmitJob(ctx, pid, client.JobRequest{Content: content, Title: title})
			return err
		})
		if err != nil {
			return fmt.Errorf("submit: %w", err)
		}
		*lat = append(*lat, d)
	}
	res.Jobs = n
	res.JobCrossP50, res.JobCrossP99 = pct(cross, 50), pct(cross, 99)
	res.JobSameP50, res.JobSameP99 = pct(same, 50), pct(same, 99)
	return nil
}

// throughput connects agents spread over the first replicas replicas and runs submitters closed-loop
// (each submits its next job when the last is answered) on those replicas for d, then waits up to 15 s
// for every accepted job to reach its agent.
func (f *benchFleet) throughput(ctx context.Context, replicas, agents, submitters int, d time.Duration) (Throughput, error) {
	t := Throughput{Replicas: replicas, Agents: agents, Submitters: submitters}
	var pids []string
	for i := range agents {
		k, err := f.api[0].CreateKey(ctx, client.NewKey{Description: fmt.Sprintf("bench throughput %d/%d", replicas, i)})
		if err != nil {
			return t, fmt.Errorf("create key: %w", err)
		}
		idx, stop, err := f.connect(ctx, i%replicas, k.Secret)
		if err != nil {
			return t, err
		}
		defer stop()
		pid, err := f.printerID(ctx, idx)
		if err != nil {
			return t, err
		}
		pids = append(pids, pid)
	}
	prefix := fmt.Sprintf("T%d-", replicas)
	content := []byte("^XA^FO50,50^A0N,40,40^FDprintdock bench^FS^XZ")
	var accepted, failed, seq atomic.Int64
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for s := range submitters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				n := seq.Add(1)
				title := prefix + strconv.FormatInt(n, 10)
				_, _, err := f.api[s%replicas].SubmitJob(ctx, pids[int(n)%len(pids)], client.JobRequest{Content: content, Title: title})
				if err != nil {
					failed.Add(1)
					continue
				}
				accepted.Add(1)
			}
		}()
	}
	wg.Wait()
	t.Accepted, t.Failed = int(accepted.Load()), int(failed.Load())
	got := 0
	var last time.Time
	drain := time.Now().Add(15 * time.Second)
	for time.Now().Before(drain) {
		if got, last = f.events.count(prefix); got >= t.Accepted {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Lost = max(t.Accepted-got, 0)
	if el := last.Sub(start); el > 0 {
		t.Seconds = el.Seconds()
		t.PerSecond = float64(got) / el.Seconds()
	}
	return t, nil
}
