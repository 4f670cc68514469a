package servertest

// A fake agent: a real websocket to the server's agent endpoint, driven by the test.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"printdock/protocol"
)

// NewInstallationID returns a random installation ID.
func NewInstallationID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "inst-" + hex.EncodeToString(b[:])
}

// Hello returns a valid hello with a fresh installation ID.
func Hello() protocol.Hello {
	return protocol.Hello{ProtocolVersion: protocol.Version, AgentVersion: "test", Hostname: "test-host",
		OS: "linux", InstallationID: NewInstallationID()}
}

// DialOptions adjust Dial (and Connect).
type DialOptions struct {
	Device    string      // X-Printdock-Device (shared secret)
	LocalAddr net.IP      // source address (any 127.0.0.x works on Linux)
	Header    http.Header // extra headers
	// InstallationID is the hello's installation ID for Connect (a fresh random one when empty): reuse
	// Agent.Hello.InstallationID to reconnect as the same installation.
	InstallationID string
	// Printers, when not nil, are reported by Connect right after welcome (a `printers` message), which
	// is when the server starts delivering jobs.
	Printers []protocol.Printer
	// Features are the hello's features (protocol.FeatureCancel, …); none by default, as an older agent.
	Features []string
}

// Dial opens a websocket to the agent endpoint with secret as Bearer (no hello yet). On a refused
// handshake it returns the response (status and JSON body readable).
func (s *Server) Dial(ctx context.Context, secret string, o DialOptions) (*websocket.Conn, *http.Response, error) {
	h := http.Header{}
	for k, v := range o.Header {
		h[k] = v
	}
	if secret != "" {
		h.Set("Authorization", "Bearer "+secret)
	}
	if o.Device != "" {
		h.Set(protocol.DeviceHeader, o.Device)
	}
	client := s.client()
	if o.LocalAddr != nil {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: o.LocalAddr}, Timeout: 10 * time.Second}
		client = &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
	}
	c, resp, err := websocket.Dial(ctx, s.WSURL, &websocket.DialOptions{HTTPHeader: h, HTTPClient: client})
	if err != nil && resp != nil && resp.Body != nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		s.rec.Response("ws refusal", b)
		resp.Body = io.NopCloser(bytes.NewReader(b))
	}
	if c != nil {
		c.SetReadLimit(protocol.MaxMessageSize)
	}
	return c, resp, err
}

// Agent is a fake agent connected over a real websocket.
type Agent struct {
	Conn    *websocket.Conn
	Hello   protocol.Hello
	Welcome protocol.Welcome
	s       *Server
	// AnswerPings makes Read answer server pings with pongs (default true).
	AnswerPings bool
}

// Connect dials, sends hello and reads welcome; it fails the test on any error.
func (s *Server) Connect(t testing.TB, secret string, o DialOptions) *Agent {
	t.Helper()
	a, err := s.TryConnect(context.Background(), secret, o)
	if err != nil {
		t.Fatalf("servertest: connect: %v", err)
	}
	t.Cleanup(func() { a.Conn.CloseNow() })
	return a
}

// TryConnect is Connect returning errors (for benchmarks and goroutines).
func (s *Server) TryConnect(ctx context.Context, secret string, o DialOptions) (*Agent, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	c, resp, err := s.Dial(ctx, secret, o)
	if err != nil {
		if resp != nil {
			b, _ := io.ReadAll(resp.Body)
			return nil, fmt.Errorf("dial: %w (status %d: %s)", err, resp.StatusCode, b)
		}
		return nil, fmt.Errorf("dial: %w", err)
	}
	a := &Agent{Conn: c, Hello: Hello(), s: s, AnswerPings: true}
	if o.InstallationID != "" {
		a.Hello.InstallationID = o.InstallationID
	}
	a.Hello.Features = o.Features
	if err := a.Send(ctx, a.Hello); err != nil {
		c.CloseNow()
		return nil, err
	}
	m, err := a.Read(ctx)
	if err != nil {
		c.CloseNow()
		return nil, fmt.Errorf("read welcome: %w", err)
	}
	w, ok := m.(protocol.Welcome)
	if !ok {
		c.CloseNow()
		return nil, fmt.Errorf("first message is %s, want welcome", m.MessageType())
	}
	a.Welcome = w
	if o.Printers != nil {
		if err := a.Send(ctx, protocol.Printers{Printers: o.Printers}); err != nil {
			c.CloseNow()
			return nil, fmt.Errorf("send printers: %w", err)
		}
	}
	return a, nil
}

// Send writes one message.
func (a *Agent) Send(ctx context.Context, m protocol.Message) error {
	b, err := protocol.Encode(m)
	if err != nil {
		return err
	}
	return a.Conn.Write(ctx, websocket.MessageText, b)
}

// Read returns the next message that is not a ping (pings are answered when AnswerPings).
func (a *Agent) Read(ctx context.Context) (protocol.Message, error) {
	for {
		typ, b, err := a.Conn.Read(ctx)
		if err != nil {
			return nil, err
		}
		a.s.rec.WSMessage(b)
		if typ != websocket.MessageText {
			return nil, fmt.Errorf("server sent a binary frame")
		}
		m, err := protocol.Decode(b)
		if err != nil {
			return nil, err
		}
		if p, ok := m.(protocol.Ping); ok {
			if a.AnswerPings {
				if err := a.Send(ctx, protocol.Pong{Nonce: p.Nonce}); err != nil {
					return nil, err
				}
			}
			continue
		}
		return m, nil
	}
}

// WaitLogout reads until the logout message, checks its reason and that the connection then closes with
// 4001. It returns an error describing anything else.
func (a *Agent) WaitLogout(ctx context.Context, reason string) error {
	m, err := a.Read(ctx)
	if err != nil {
		return fmt.Errorf("want logout %q, read error: %w", reason, err)
	}
	lo, ok := m.(protocol.Logout)
	if !ok {
		return fmt.Errorf("want logout %q, got %s", reason, m.MessageType())
	}
	if lo.Reason != reason {
		return fmt.Errorf("logout reason %q, want %q", lo.Reason, reason)
	}
	return a.WaitClose(ctx, protocol.CloseLoggedOut)
}

// WaitClose reads the next message, which must be the close, and checks the close code.
func (a *Agent) WaitClose(ctx context.Context, code websocket.StatusCode) error {
	m, err := a.Read(ctx)
	if err == nil {
		return fmt.Errorf("want close %d, got message %s", code, m.MessageType())
	}
	if got := websocket.CloseStatus(err); got != code {
		return fmt.Errorf("want close %d, got %v", code, err)
	}
	return nil
}

// ExpectLogout is WaitLogout failing the test (10 s limit).
func (a *Agent) ExpectLogout(t testing.TB, reason string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.WaitLogout(ctx, reason); err != nil {
		t.Fatalf("servertest: %v", err)
	}
}

// ExpectClose is WaitClose failing the test (10 s limit).
func (a *Agent) ExpectClose(t testing.TB, code websocket.StatusCode) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.WaitClose(ctx, code); err != nil {
		t.Fatalf("servertest: %v", err)
	}
}

// ExpectAlive pings the server and waits for the pong: the session is still up.
func (a *Agent) ExpectAlive(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nonce := uint64(time.Now().UnixNano())
	if err := a.Send(ctx, protocol.Ping{Nonce: nonce}); err != nil {
		t.Fatalf("servertest: session not alive: %v", err)
	}
	for {
		m, err := a.Read(ctx)
		if err != nil {
			t.Fatalf("servertest: session not alive: %v", err)
		}
		if p, ok := m.(protocol.Pong); ok && p.Nonce == nonce {
			return
		}
	}
}
