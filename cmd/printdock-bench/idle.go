package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// IdleResult is the server's memory per idle authenticated agent, beside a bare coder/websocket echo
// server holding as many idle connections, measured in the same run and process.
type IdleResult struct {
	Agents               int     `json:"agents"`
	Printers             bool    `json:"printers"` // each agent reported one printer (--idle-printers)
	Sources              int     `json:"source_addresses"`
	RSSPerConn           float64 `json:"rss_bytes_per_conn"`
	HeapStackPerConn     float64 `json:"heap_stack_bytes_per_conn"`
	StackPerConn         float64 `json:"stack_bytes_per_conn"`
	GoroutinesPerConn    float64 `json:"goroutines_per_conn"`
	EchoRSSPerConn       float64 `json:"echo_rss_bytes_per_conn"`
	EchoHeapStackPerConn float64 `json:"echo_heap_stack_bytes_per_conn"`
	EchoStackPerConn     float64 `json:"echo_stack_bytes_per_conn"`
	// HeapInuse counts the spans holding live objects (with their free slots: fragmentation).
	HeapInusePerConn     float64 `json:"heap_inuse_bytes_per_conn"`
	EchoHeapInusePerConn float64 `json:"echo_heap_inuse_bytes_per_conn"`
}

// memSample is this process's memory after a full GC.
type memSample struct{ rss, heapStack, stack, heapInuse, goroutines float64 }

func sampleMem() memSample {
	// Several collections: each shrinks a goroutine's stack at most by half (to what it uses now), so an
	// idle connection's stacks reach their steady size, as the periodic collections of a long-running
	// server would bring them to.
	for range 4 {
		runtime.GC()
	}
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memSample{rss: float64(rssBytes()), heapStack: float64(ms.HeapAlloc + ms.StackInuse), stack: float64(ms.StackInuse), heapInuse: float64(ms.HeapInuse), goroutines: float64(runtime.NumGoroutine())}
}

// rssBytes is this process's resident set (VmRSS).
func rssBytes() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// raiseNOFILE lifts the open-file limit (20,000 connections need as many files): to 65,536 where it
// may (root), else to its hard maximum.
func raiseNOFILE() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) != nil {
		return
	}
	if l.Max < 1<<16 && syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: 1 << 16, Max: 1 << 16}) == nil {
		return
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// idleSources are the loopback source addresses the agents connect from (about 28,000 ports each).
func idleSources(n int) []string {
	var out []string
	for i := range max(1, (n+9999)/10000) * 2 {
		out = append(out, fmt.Sprintf("127.0.0.%d", 2+i))
	}
	return out
}

func runIdle(ctx context.Context, o options, dir string) (IdleResult, error) {
	n := o.agents
	res := IdleResult{Agents: n, Sources: len(idleSources(n))}
	r, err := startServer(ctx, dir)
	if err != nil {
		return res, err
	}
	sec, err := secrets(ctx, r.api, (n+9)/10, "idle") // 10 sessions per key: below the hub's per-key cap
	if err != nil {
		r.close()
		return res, err
	}
	if o.memProfile != "" {
		runtime.MemProfileRate = 64 // a fine profile: the connections' own allocations are small
	}
	before := sampleMem()
	beforeB := sampleBreakdown()
	ch, err := startChild(ctx, childConfig{URL: agentURL(r.base), Secrets: repeatTo(sec, n), Sources: idleSources(n), Idle: true,
		IdlePrinters: o.idlePrinters})
	if err != nil {
		r.close()
		return res, err
	}
	if err := waitUntil(time.Minute, func() bool { return r.srv.Hub.Count() == n }); err != nil {
		ch.stop()
		r.close()
		return res, fmt.Errorf("%d of %d agents connected: %w", r.srv.Hub.Count(), n, err)
	}
	if o.idlePrinters {
		res.Printers = true
		if err := waitPrinters(ctx, r, n); err != nil {
			ch.stop()
			r.close()
			return res, err
		}
	}
	after := sampleMem()
	writeBreakdown(os.Stderr, "server", beforeB, sampleBreakdown(), n)
	if err := writeHeapProfile(o.memProfile); err != nil {
		ch.stop()
		r.close()
		return res, err
	}
	res.RSSPerConn = (after.rss - before.rss) / float64(n)
	res.HeapStackPerConn = (after.heapStack - before.heapStack) / float64(n)
	res.GoroutinesPerConn = (after.goroutines - before.goroutines) / float64(n)
	res.StackPerConn = (after.stack - before.stack) / float64(n)
	res.HeapInusePerConn = (after.heapInuse - before.heapInuse) / float64(n)
	ch.stop()
	_ = waitUntil(time.Minute, func() bool { return r.srv.Hub.Count() == 0 })
	r.close()

	// The baseline: a bare coder/websocket echo server with as many idle connections.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	var conns atomic.Int64
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		c, err := websocket.Accept(w, req, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		conns.Add(1)
		defer conns.Add(-1)
		for {
			typ, b, err := c.Read(req.Context())
			if err != nil || c.Write(req.Context(), typ, b) != nil {
				return
			}
		}
	})}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	before = sampleMem()
	beforeB = sampleBreakdown()
	ech, err := startChild(ctx, childConfig{URL: "ws://" + ln.Addr().String() + "/", Secrets: make([]string, n), Sources: idleSources(n), Idle: true, Echo: true})
	if err != nil {
		return res, err
	}
	defer ech.stop()
	if err := waitUntil(time.Minute, func() bool { return conns.Load() == int64(n) }); err != nil {
		return res, err
	}
	after = sampleMem()
	writeBreakdown(os.Stderr, "echo", beforeB, sampleBreakdown(), n)
	res.EchoRSSPerConn = (after.rss - before.rss) / float64(n)
	res.EchoHeapStackPerConn = (after.heapStack - before.heapStack) / float64(n)
	res.EchoStackPerConn = (after.stack - before.stack) / float64(n)
	res.EchoHeapInusePerConn = (after.heapInuse - before.heapInuse) / float64(n)
	return res, nil
}

// repeatTo returns n items cycling through s.
func repeatTo(s []string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s[i%len(s)]
	}
	return out
}

// writeHeapProfile writes the heap profile to path and the goroutines' stacks to path.goroutines
// (nothing when path is empty).
func writeHeapProfile(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	g, err := os.Create(path + ".goroutines")
	if err != nil {
		return err
	}
	defer g.Close()
	if err := pprof.Lookup("goroutine").WriteTo(g, 1); err != nil {
		return err
	}
	return pprof.Lookup("heap").WriteTo(f, 0)
}

// waitPrinters waits until the server lists n printers online, then lets the sessions settle: each has
// started its delivery loop, looked for jobs once, and its writer has ended.
func waitPrinters(ctx context.Context, r *rig, n int) error {
	deadline := time.Now().Add(2 * time.Minute)
	for online := 0; online < n; time.Sleep(time.Second) {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d printers online after 2 minutes", online, n)
		}
		ps, err := r.api.ListPrinters(ctx)
		if err != nil {
			continue
		}
		online = 0
		for _, p := range ps {
			if p.Online {
				online++
			}
		}
	}
	time.Sleep(2 * time.Second)
	return nil
}
