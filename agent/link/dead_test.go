package link

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"printdock/protocol"
)

const interval = 400 * time.Millisecond

type welcomeOnly struct{}

func (welcomeOnly) Welcomed(context.Context, *Conn, protocol.Welcome, time.Duration) bool {
	return true
}
func (welcomeOnly) Message(context.Context, *Conn, protocol.Message) {}
func (welcomeOnly) Confirmed(time.Time)                              {}

// A server that answers welcome and then goes silent (reads, never writes): Run declares the link
// dead once it was silent for DeadAfter intervals, on that deadline, not up to an interval later at
// the next ping tick (the chaos suite's link cut found the agent noticing after ~4 intervals).
func TestDeadLinkOnTheDeadline(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		if _, _, err := c.Read(r.Context()); err != nil { // hello
			return
		}
		b, _ := protocol.Encode(protocol.Welcome{ClientID: "cli_test", HeartbeatSeconds: 1})
		if err := c.Write(r.Context(), websocket.MessageText, b); err != nil {
			return
		}
		// One more message a quarter interval later, out of phase with the agent's ping ticks, then silence.
		time.Sleep(interval / 4)
		if b, _ = protocol.Encode(protocol.Ping{Nonce: 1}); c.Write(r.Context(), websocket.MessageText, b) != nil {
			return
		}
		for {
			if _, _, err := c.Read(r.Context()); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := Run(ctx, Config{URL: "ws" + strings.TrimPrefix(srv.URL, "http"), Heartbeat: interval,
		Hello: protocol.Hello{}}, welcomeOnly{})
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Kind != CloseDead {
		t.Fatalf("Run = %v, want a dead link", err)
	}
	// Declared dead on the deadline: silent for DeadAfter intervals, well before one more interval.
	if limit := DeadAfter * interval; ce.Silent < limit || ce.Silent >= limit+interval/2 {
		t.Fatalf("declared dead after %s of silence, want %s (not up to %s)", ce.Silent, limit, limit+interval)
	}
}
