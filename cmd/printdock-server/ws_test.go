package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"printdock/protocol"
	"printdock/server/servertest"
)

type rawAgent struct{ c *websocket.Conn }

func connectRaw(t *testing.T, url, secret string) rawAgent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + secret}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	b, _ := protocol.Encode(servertest.Hello())
	if err := c.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
	_, m, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if w, err := protocol.Decode(m); err != nil || w.MessageType() != protocol.TypeWelcome {
		t.Fatalf("want welcome: %s %v", m, err)
	}
	return rawAgent{c}
}

func (a rawAgent) expectClose(t *testing.T, code websocket.StatusCode) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, _, err := a.c.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) != code {
				t.Fatalf("close: %v, want %d", err, code)
			}
			return
		}
	}
}
