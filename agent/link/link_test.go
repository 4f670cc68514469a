package link

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"

	"printdock/internal/testenv"
	"printdock/protocol"
)

// goroutineID is the current goroutine's number, from its stack header (tests only).
func goroutineID() string {
	b := make([]byte, 64)
	b = b[:runtime.Stack(b, false)]
	f := bytes.Fields(b)
	if len(f) < 2 {
		return ""
	}
	return string(f[1])
}

// Concurrent senders never write themselves: every write happens on the one writer goroutine, and
// every message arrives whole. Run under -race.
func TestSendsSerialisedThroughOneWriter(t *testing.T) {
	var got atomic.Int64
	var bad atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			_, data, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if _, err := protocol.Decode(data); err != nil {
				bad.Add(1)
			}
			got.Add(1)
		}
	}))
	defer srv.Close()

	var mu sync.Mutex
	writers := map[string]int{}
	var inWrite, overlap atomic.Int64
	testWriteHook = func() {
		if inWrite.Add(1) > 1 {
			overlap.Add(1)
		}
		mu.Lock()
		writers[goroutineID()]++
		mu.Unlock()
		inWrite.Add(-1)
	}
	defer func() { testWriteHook = nil }()

	c, err := Dial(context.Background(), Config{URL: "ws" + strings.TrimPrefix(srv.URL, "http")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const senders, each = 16, 25
	var wg sync.WaitGroup
	senderIDs := make(chan string, senders)
	for i := range senders {
		wg.Go(func() {
			senderIDs <- goroutineID()
			for k := range each {
				m := protocol.Ping{Nonce: uint64(i*each + k + 1)}
				if k%2 == 0 {
					if err := c.Send(context.Background(), m); err != nil {
						t.Errorf("send: %v", err)
					}
				} else {
					c.Post(context.Background(), m)
				}
			}
		})
	}
	wg.Wait()
	close(senderIDs)
	testenv.WaitFor(t, "every message at the server", func() bool { return got.Load() == senders*each })
	mu.Lock()
	defer mu.Unlock()
	if len(writers) != 1 {
		t.Fatalf("writes happened on %d goroutines, want exactly one: %v", len(writers), writers)
	}
	for id := range senderIDs {
		if writers[id] > 0 {
			t.Fatalf("sender goroutine %s wrote to the connection itself", id)
		}
	}
	if bad.Load() != 0 || overlap.Load() != 0 {
		t.Fatalf("%d garbled messages, %d overlapping writes", bad.Load(), overlap.Load())
	}
}
