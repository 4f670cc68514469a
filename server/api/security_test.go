package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"printdock/protocol"
	"printdock/server"
	"printdock/server/api"
	"printdock/server/hub"
	"printdock/server/servertest"
)

func ctx10(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// from returns an HTTP client whose connections come from the loopback address ip (127.0.0.x).
func from(ip net.IP) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 10 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// call sends method path with bearer through c and returns the status and the JSON error code.
func call(t *testing.T, s *servertest.Server, c *http.Client, method, path, bearer string, body io.Reader,
	hdr ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx10(t), method, s.URL+path, body)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e struct {
		Error json.RawMessage `json:"error"`
	}
	_ = json.Unmarshal(b, &e)
	var detail struct {
		Code string `json:"code"`
	}
	if json.Unmarshal(e.Error, &detail) != nil { // OAuth's error shape: "error":"invalid_client"
		_ = json.Unmarshal(e.Error, &detail.Code)
	}
	if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
		t.Errorf("%s %s: 429 without Retry-After", method, path)
	}
	return resp.StatusCode, detail.Code
}

// TestLimitedAddressStillAuthenticatesValidSecrets: after 30 bad bearers from one address (one broken
// integration behind a NAT), valid secrets from that address still work — a REST admin key, an agent's
// print client secret on the websocket, OAuth client credentials — while every further bad or malformed
// attempt from it gets 429, and other addresses are unaffected.
func TestLimitedAddressStillAuthenticatesValidSecrets(t *testing.T) {
	s := servertest.New(t, servertest.Options{AuthFailuresPerMinute: 1, AuthFailureBurst: 20})
	good := s.CreatePrintClient(t, "agent behind the NAT")
	var oc struct {
		ID           string `json:"id"`
		ClientSecret string `json:"client_secret"`
	}
	s.JSON(t, http.MethodPost, "/api/v1/oauth-clients", s.AdminKey, map[string]any{"description": "wms"},
		http.StatusCreated, &oc)
	natIP := net.IPv4(127, 0, 0, 2)
	nat := from(natIP)

	var unauthorized, limited int
	for range 30 {
		bad, _ := protocol.NewSecret(protocol.KindUser) // well-formed, unknown
		switch code, _ := call(t, s, nat, http.MethodGet, "/api/v1/me", bad, nil); code {
		case http.StatusUnauthorized:
			unauthorized++
		case http.StatusTooManyRequests:
			limited++
		default:
			t.Fatalf("bad bearer: %d", code)
		}
	}
	if unauthorized != 20 || limited != 10 {
		t.Fatalf("30 bad bearers: %d × 401, %d × 429; want 20 and 10", unauthorized, limited)
	}

	// Valid secrets from the limited address work.
	if code, _ := call(t, s, nat, http.MethodGet, "/api/v1/me", s.AdminKey, nil); code != http.StatusOK {
		t.Errorf("admin key from the limited address: %d, want 200", code)
	}
	a, err := s.TryConnect(ctx10(t), good.Secret, servertest.DialOptions{LocalAddr: natIP})
	if err != nil {
		t.Fatalf("agent from the limited address: %v", err)
	}
	t.Cleanup(func() { a.Conn.CloseNow() })
	a.ExpectAlive(t)
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {oc.ID}, "client_secret": {oc.ClientSecret}}
	if code, _ := call(t, s, nat, http.MethodPost, "/oauth/token", "", strings.NewReader(form.Encode()),
		"Content-Type", "application/x-www-form-urlencoded"); code != http.StatusOK {
		t.Errorf("OAuth client from the limited address: %d, want 200", code)
	}

	// Bad ones — unknown, malformed, wrong kind — still get 429 there, on every surface.
	unknown, _ := protocol.NewSecret(protocol.KindUser)
	unknownAgent, _ := protocol.NewSecret(protocol.KindPrintClient)
	unknownOAuth, _ := protocol.NewSecret(protocol.KindOAuthClient)
	for _, tc := range []struct {
		what   string
		secret string
	}{
		{"unknown key", unknown},
		{"malformed key", unknown[:len(unknown)-3]},
		{"print client secret on REST", good.Secret},
	} {
		if code, ec := call(t, s, nat, http.MethodGet, "/api/v1/me", tc.secret, nil); code != http.StatusTooManyRequests ||
			ec != "rate_limited" {
			t.Errorf("REST %s from the limited address: %d %s, want 429 rate_limited", tc.what, code, ec)
		}
	}
	for _, secret := range []string{unknownAgent, unknownAgent[:30]} {
		_, resp, err := s.Dial(ctx10(t), secret, servertest.DialOptions{LocalAddr: natIP})
		if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("websocket with a bad secret from the limited address: %v %v, want 429", resp, err)
		}
	}
	for _, secret := range []string{unknownOAuth, "nonsense"} {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {oc.ID}, "client_secret": {secret}}
		if code, _ := call(t, s, nat, http.MethodPost, "/oauth/token", "", strings.NewReader(form.Encode()),
			"Content-Type", "application/x-www-form-urlencoded"); code != http.StatusTooManyRequests {
			t.Errorf("OAuth with a bad secret from the limited address: %d, want 429", code)
		}
	}
	// Without credentials it is still 401 (not a guess).
	if code, _ := call(t, s, nat, http.MethodGet, "/api/v1/me", "", nil); code != http.StatusUnauthorized {
		t.Errorf("no bearer from the limited address: %d, want 401", code)
	}
	// Another address is not limited.
	if code, _ := call(t, s, from(net.IPv4(127, 0, 0, 3)), http.MethodGet, "/api/v1/me", unknown, nil); code != http.StatusUnauthorized {
		t.Errorf("bad bearer from another address: %d, want 401", code)
	}
}

// TestMetricsLoopbackOnly: /metrics answers loopback clients only, unless Options.MetricsPublic.
func TestMetricsLoopbackOnly(t *testing.T) {
	for _, tc := range []struct {
		remote string
		public bool
		want   int
	}{
		{"127.0.0.1:40000", false, http.StatusOK},
		{"[::1]:40000", false, http.StatusOK},
		{"192.0.2.10:40000", false, http.StatusForbidden},
		{"[2001:db8::1]:40000", false, http.StatusForbidden},
		{"[::ffff:192.0.2.10]:40000", false, http.StatusForbidden},
		{"192.0.2.10:40000", true, http.StatusOK},
	} {
		a := api.New(api.Options{MetricsPublic: tc.public})
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.RemoteAddr = tc.remote
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s public=%v: %d, want %d", tc.remote, tc.public, rec.Code, tc.want)
		}
		if tc.want == http.StatusOK && !strings.Contains(rec.Body.String(), "printdock_agents_connected") {
			t.Errorf("%s: no metrics in the answer", tc.remote)
		}
	}
}

// TestReadTimeout: the server bounds reading a request (a slow body is cut), and websocket sessions
// outlive that bound.
func TestReadTimeout(t *testing.T) {
	const short = 300 * time.Millisecond
	s := servertest.New(t, servertest.Options{ReadTimeout: short, Heartbeat: 50 * time.Millisecond})
	if rt := s.S.HTTPServer().ReadTimeout; rt <= 0 || rt > time.Minute {
		t.Errorf("HTTPServer().ReadTimeout = %v, want a bound of at most a minute", rt)
	}

	t.Run("slow body is cut", func(t *testing.T) {
		conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /api/v1/printers/prn_x/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"content_base64\":\"", s.AdminKey)
		// Then nothing more: the server must give up on its own, long before our own deadline.
		_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		var ne net.Error
		switch {
		case err == nil:
			resp.Body.Close()
			if resp.StatusCode < 400 {
				t.Fatalf("slow body answered %d", resp.StatusCode)
			}
		case errors.As(err, &ne) && ne.Timeout():
			t.Fatalf("the server still waits for the body: %v", err)
		default: // the server closed the connection
		}
	})

	t.Run("websocket outlives it", func(t *testing.T) {
		k := s.CreatePrintClient(t, "long session")
		a := s.Connect(t, k.Secret, servertest.DialOptions{})
		ctx := ctx10(t)
		start := time.Now()
		pings := 0
		// Answer the server's pings until well past the read timeout.
		for pings < 10 || time.Since(start) < 4*short {
			typ, b, err := a.Conn.Read(ctx)
			if err != nil {
				t.Fatalf("session cut after %v (%d pings): %v", time.Since(start), pings, err)
			}
			if typ != websocket.MessageText {
				continue
			}
			if m, err := protocol.Decode(b); err == nil {
				if p, ok := m.(protocol.Ping); ok {
					pings++
					if err := a.Send(ctx, protocol.Pong{Nonce: p.Nonce}); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		a.ExpectAlive(t)
	})
}

// TestSessionsPerKeyCap: a key has at most hub.DefaultMaxSessionsPerCredential sessions; one more is
// refused before the upgrade with 429 too_many_sessions (Retry-After), other keys are unaffected, and a
// slot comes back when a session ends or is logged out.
func TestSessionsPerKeyCap(t *testing.T) {
	// Each agent here is a new installation: lift the installations cap (TestCaps covers it) so that the
	// sessions cap is what refuses.
	s := servertest.New(t, servertest.Options{Config: func(c *server.Config) { c.MaxClientsPerKey = -1 }})
	k := s.CreatePrintClient(t, "copied everywhere")
	n := hub.DefaultMaxSessionsPerCredential
	agents := make([]*servertest.Agent, n)
	for i := range agents {
		agents[i] = s.Connect(t, k.Secret, servertest.DialOptions{})
	}
	refused := func(secret string) bool {
		t.Helper()
		c, resp, err := s.Dial(ctx10(t), secret, servertest.DialOptions{})
		if err == nil {
			c.CloseNow()
			return false
		}
		if resp == nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("dial beyond the cap: %v %v, want 429 with Retry-After", resp, err)
		}
		var e struct {
			Error struct{ Code, Message string }
		}
		b, _ := io.ReadAll(resp.Body)
		if json.Unmarshal(b, &e) != nil || e.Error.Code != "too_many_sessions" {
			t.Fatalf("refusal body %s", b)
		}
		return true
	}
	if !refused(k.Secret) {
		t.Fatalf("session %d was accepted", n+1)
	}
	other := s.CreatePrintClient(t, "own key")
	s.Connect(t, other.Secret, servertest.DialOptions{}).ExpectAlive(t)

	// One session ends: its slot comes back.
	agents[0].Conn.CloseNow()
	servertest.WaitFor(t, "a free slot", func() bool {
		a, err := s.TryConnect(context.Background(), k.Secret, servertest.DialOptions{})
		if err != nil {
			return false
		}
		agents[0] = a
		return true
	})
	t.Cleanup(func() { agents[0].Conn.CloseNow() })
	if !refused(k.Secret) {
		t.Fatal("the cap was not restored")
	}
	// A rotation logs every session out and frees every slot at once for the new secret.
	rot := s.KeyAction(t, k.ID, "rotate")
	for _, a := range agents {
		a.ExpectLogout(t, protocol.ReasonRotated)
	}
	for range n {
		s.Connect(t, rot.Secret, servertest.DialOptions{})
	}
	if !refused(rot.Secret) {
		t.Fatal("the cap does not hold after the rotation")
	}
}
