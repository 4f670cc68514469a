package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

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
	offer(n, rate, func(i int) {
		seq := e.seq.Add(1)
		b, _ := json.Marshal(map[string]any{"seq": seq, "pad": pad})
		e.mu.Lock()
		e.sent[seq] = time.Now()
		e.mu.Unlock()
		_ = e.conns[i%len(e.conns)].Write(ctx, websocket.MessageText, b)
	})
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
