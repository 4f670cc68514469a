package portal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"printdock/protocol"
)

// testAgent is a minimal printdock agent on a real websocket: hello, printers, pong, and it records the
// logout message and the close code.
type testAgent struct {
	conn    *websocket.Conn
	welcome protocol.Welcome
	events  chan agentEvent // in the order they happened
}

type agentEvent struct {
	logout string               // a logout message's reason, or
	closed websocket.StatusCode // the close code when the connection ended
}

// dialAgent connects to the server's agent endpoint. It returns the HTTP status when the server refuses
// the secret before the upgrade.
func dialAgent(t testing.TB, baseURL, secret, deviceID, hostname string, printers []protocol.Printer) (*testAgent, int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hdr := http.Header{"Authorization": {"Bearer " + secret}}
	if deviceID != "" {
		hdr.Set(protocol.DeviceHeader, deviceID)
	}
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(baseURL, "http")+protocol.Path,
		&websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		return nil, status, err
	}
	conn.SetReadLimit(protocol.MaxMessageSize)
	install := make([]byte, 8)
	rand.Read(install)
	write := func(m protocol.Message) error {
		b, err := protocol.Encode(m)
		if err != nil {
			return err
		}
		return conn.Write(ctx, websocket.MessageText, b)
	}
	if err := write(protocol.Hello{ProtocolVersion: protocol.Version, AgentVersion: "1.0.0", Hostname: hostname,
		OS: "linux/amd64", InstallationID: hex.EncodeToString(install)}); err != nil {
		conn.CloseNow()
		return nil, 0, err
	}
	_, data, err := conn.Read(ctx)
	if err != nil {
		conn.CloseNow()
		return nil, 0, fmt.Errorf("read welcome: %w", err)
	}
	m, err := protocol.Decode(data)
	welcome, ok := m.(protocol.Welcome)
	if err != nil || !ok {
		conn.CloseNow()
		return nil, 0, fmt.Errorf("want welcome, got %T %v", m, err)
	}
	if err := write(protocol.Printers{Printers: printers}); err != nil {
		conn.CloseNow()
		return nil, 0, err
	}
	a := &testAgent{conn: conn, welcome: welcome, events: make(chan agentEvent, 16)}
	go a.readLoop()
	t.Cleanup(func() { conn.CloseNow() })
	return a, 0, nil
}

func (a *testAgent) readLoop() {
	for {
		_, data, err := a.conn.Read(context.Background())
		if err != nil {
			a.events <- agentEvent{closed: websocket.CloseStatus(err)}
			return
		}
		m, err := protocol.Decode(data)
		if err != nil {
			continue
		}
		switch m := m.(type) {
		case protocol.Logout:
			a.events <- agentEvent{logout: m.Reason}
		case protocol.Ping:
			if b, err := protocol.Encode(protocol.Pong{Nonce: m.Nonce}); err == nil {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_ = a.conn.Write(ctx, websocket.MessageText, b)
				cancel()
			}
		}
	}
}

// status sends a job_status for jobID (failed with reason when reason is set).
func (a *testAgent) status(t *testing.T, jobID, state, reason string) {
	t.Helper()
	if reason != "" {
		state = protocol.JobFailed
	}
	b, err := protocol.Encode(protocol.JobStatus{JobID: jobID, State: state, Reason: reason, At: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.conn.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatalf("send job_status: %v", err)
	}
}

// expectLogout waits for a logout message with reason, then for close code 4001.
func (a *testAgent) expectLogout(t *testing.T, reason string) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for _, want := range []agentEvent{{logout: reason}, {closed: protocol.CloseLoggedOut}} {
		select {
		case ev := <-a.events:
			if ev != want {
				t.Fatalf("agent saw %+v, want %+v", ev, want)
			}
		case <-deadline:
			t.Fatalf("agent did not see %+v within 15s", want)
		}
	}
}
