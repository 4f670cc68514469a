package agent

import (
	"context"
	cryptotls "crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"printdock/agent/link"
	"printdock/agent/localapi"
	"printdock/internal/testenv"
	"printdock/protocol"
)

func TestAgentURL(t *testing.T) {
	tests := []struct {
		in       string
		insecure bool
		want     string
		err      error
	}{
		{"https://print.example.com", false, "wss://print.example.com/api/v1/agent/ws", nil},
		{"https://print.example.com/", false, "wss://print.example.com/api/v1/agent/ws", nil},
		{"print.example.com", false, "wss://print.example.com/api/v1/agent/ws", nil},
		{"https://example.com/printdock", false, "wss://example.com/printdock/api/v1/agent/ws", nil},
		{"wss://print.example.com/api/v1/agent/ws", false, "wss://print.example.com/api/v1/agent/ws", nil},
		{"http://127.0.0.1:8080", false, "ws://127.0.0.1:8080/api/v1/agent/ws", nil},
		{"http://localhost:8080", false, "ws://localhost:8080/api/v1/agent/ws", nil},
		{"ws://[::1]:8080", false, "ws://[::1]:8080/api/v1/agent/ws", nil},
		{"http://print.example.com", false, "", ErrInsecureURL},
		{"ws://10.0.0.5:8080", false, "", ErrInsecureURL},
		{"http://127.0.0.1.example.com", false, "", ErrInsecureURL},
		// Only literal loopback addresses and exactly "localhost": any other name is resolved (DNS)
		// and may point to another machine.
		{"http://127.1.2.3:8080", false, "ws://127.1.2.3:8080/api/v1/agent/ws", nil},
		{"http://LOCALHOST:8080", false, "ws://LOCALHOST:8080/api/v1/agent/ws", nil},
		{"ws://[::ffff:127.0.0.1]:8080", false, "ws://[::ffff:127.0.0.1]:8080/api/v1/agent/ws", nil},
		{"http://evil.localhost:8080", false, "", ErrInsecureURL},
		{"ws://a.b.LOCALHOST", false, "", ErrInsecureURL},
		{"http://localhost.:8080", false, "", ErrInsecureURL},
		{"http://localhost.localdomain", false, "", ErrInsecureURL},
		{"http://127.1", false, "", ErrInsecureURL},
		{"http://[::2]:8080", false, "", ErrInsecureURL},
		{"http://0.0.0.0:8080", false, "", ErrInsecureURL},
		{"https://evil.localhost", false, "wss://evil.localhost/api/v1/agent/ws", nil},
		{"http://print.example.com", true, "ws://print.example.com/api/v1/agent/ws", nil},
		{"ftp://print.example.com", false, "", ErrBadURL},
		{"", false, "", ErrBadURL},
		{"https://user:pw@print.example.com", false, "", ErrBadURL},
		{"https://", false, "", ErrBadURL},
	}
	for _, tt := range tests {
		got, err := AgentURL(tt.in, tt.insecure)
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("AgentURL(%q, %v) = %q, %v; want %q, %v", tt.in, tt.insecure, got, err, tt.want, tt.err)
		}
	}
}

// A server with a private CA: refused without --ca-file, accepted with it (TLS is verified, never skipped).
func TestCAFile(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != protocol.Path || !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer pdc_") {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":{"code":"unauthenticated","message":"invalid credentials"}}`))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	srv.StartTLS()
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	cert := srv.TLS.Certificates[0].Certificate[0]
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert}), 0o644); err != nil {
		t.Fatal(err)
	}
	secret := mustSecret(t, protocol.KindPrintClient)

	a := newTestAgent(t, nil)
	_, err := a.Login(context.Background(), srv.URL, secret, "")
	if !errors.Is(err, ErrServerUnreachable) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without the CA: %v", err)
	}
	if hits.Load() != 0 {
		t.Fatal("the request reached an untrusted server")
	}
	b := newTestAgent(t, func(c *Config) { c.CAFile = ca })
	_, err = b.Login(context.Background(), srv.URL, secret, "")
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "invalid credentials") {
		t.Fatalf("with the CA: %v", err)
	}
	if code := localapi.ErrorCode(apiError(err)); code != localapi.CodeUnauthorized {
		t.Fatalf("code %q", code)
	}
	// A CA file that holds no certificate is reported.
	bad := filepath.Join(t.TempDir(), "bad.pem")
	_ = os.WriteFile(bad, []byte("nothing"), 0o644)
	c := newTestAgent(t, func(c *Config) { c.CAFile = bad })
	if _, err := c.Login(context.Background(), srv.URL, secret, ""); err == nil || !strings.Contains(err.Error(), "CA file") {
		t.Fatalf("bad CA file: %v", err)
	}
}

// HTTPS_PROXY and NO_PROXY are honoured for wss:// (the handshake transport asks
// http.ProxyFromEnvironment), never for plain ws:// / http://: a bearer secret in clear text must not
// travel to a proxy on another machine.
func TestProxyOnlyForTLS(t *testing.T) {
	proxyURL, _ := url.Parse("http://proxy.example:3128")
	var envCalls atomic.Int64
	env := func(*http.Request) (*url.URL, error) { envCalls.Add(1); return proxyURL, nil }
	hc, err := newHTTPClientProxy("", env)
	if err != nil {
		t.Fatal(err)
	}
	tr := hc.Transport.(*http.Transport)
	for _, tt := range []struct {
		url  string
		want *url.URL
	}{
		{"https://print.example.com/api/v1/agent/ws", proxyURL},
		{"http://print.example.com/api/v1/agent/ws", nil}, // --insecure to another machine
		{"http://evil.localhost/api/v1/agent/ws", nil},
		{"http://127.0.0.1:8080/api/v1/agent/ws", nil},
	} {
		req, _ := http.NewRequest(http.MethodGet, tt.url, nil)
		got, err := tr.Proxy(req)
		if err != nil || got != tt.want {
			t.Errorf("proxy for %s = %v, %v; want %v", tt.url, got, err, tt.want)
		}
	}
	if envCalls.Load() != 1 {
		t.Fatalf("the environment was asked %d times, want once (for https only)", envCalls.Load())
	}
	// The real client: http.ProxyFromEnvironment for TLS.
	real, err := newHTTPClient("")
	if err != nil {
		t.Fatal(err)
	}
	if real.Transport.(*http.Transport).TLSClientConfig.InsecureSkipVerify {
		t.Fatal("certificate checks are off")
	}
	if err := real.CheckRedirect(nil, nil); !errors.Is(err, http.ErrUseLastResponse) {
		t.Fatal("redirects are followed (they would carry the secret elsewhere)")
	}

	// Over real sockets: a ws:// dial goes straight to the server even when a proxy is configured.
	var proxyHits, serverHits atomic.Int64
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxyHits.Add(1)
		http.Error(w, "proxy", http.StatusBadGateway)
	}))
	defer proxy.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serverHits.Add(1)
		http.Error(w, "no", http.StatusTeapot)
	}))
	defer srv.Close()
	pu, _ := url.Parse(proxy.URL)
	hc, err = newHTTPClientProxy("", func(*http.Request) (*url.URL, error) { return pu, nil })
	if err != nil {
		t.Fatal(err)
	}
	u, err := AgentURL(srv.URL, false)
	if err != nil {
		t.Fatal(err)
	}
	_, resp, err := websocket.Dial(context.Background(), u, &websocket.DialOptions{HTTPClient: hc})
	if err == nil || resp == nil || resp.StatusCode != http.StatusTeapot {
		t.Fatalf("dial: %v %v", resp, err)
	}
	if proxyHits.Load() != 0 || serverHits.Load() != 1 {
		t.Fatalf("proxy hits %d, server hits %d: the plain request went through the proxy", proxyHits.Load(), serverHits.Load())
	}
}

func TestDialErrorClassification(t *testing.T) {
	target, _ := url.Parse("wss://print.example.com/api/v1/agent/ws")
	plainTarget, _ := url.Parse("ws://127.0.0.1:8080/api/v1/agent/ws")
	const jsonType = "application/json"
	// resp is an answer to reqURL (over TLS when tls) with the given status, body and Content-Type.
	resp := func(reqURL string, tls bool, code int, ctype, body string, hdr map[string]string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, reqURL, nil)
		r := &http.Response{StatusCode: code, Status: http.StatusText(code), Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)), Request: req}
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		if tls {
			r.TLS = &cryptotls.ConnectionState{HandshakeComplete: true}
		}
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		return r
	}
	const (
		ours    = "https://print.example.com/api/v1/agent/ws"
		ours401 = `{"error":{"code":"unauthenticated","message":"invalid credentials"}}`
	)
	tests := []struct {
		name   string
		target *url.URL
		resp   *http.Response
		reason string // LogoutError reason, "" if not a logout
		retry  time.Duration
		kind   error
		other  error // a second error the result must wrap
	}{
		{"401", target, resp(ours, true, 401, jsonType, ours401, nil), protocol.ReasonInvalid, 0, ErrLoggedOut, nil},
		{"401 json charset", target, resp(ours, true, 401, "application/json; charset=utf-8", ours401, nil), protocol.ReasonInvalid, 0, ErrLoggedOut, nil},
		{"403 revoked", target, resp(ours, true, 403, jsonType, `{"error":{"code":"key_revoked","message":"the key is revoked"}}`, nil), protocol.ReasonRevoked, 0, ErrLoggedOut, nil},
		{"403 inactive", target, resp(ours, true, 403, jsonType, `{"error":{"code":"key_inactive","message":"the key is inactive"}}`, nil), protocol.ReasonDeactivated, 0, ErrLoggedOut, nil},
		{"403 forbidden", target, resp(ours, true, 403, jsonType, `{"error":{"code":"forbidden","message":"you are not allowed to do this"}}`, nil), protocol.ReasonInvalid, 0, ErrLoggedOut, nil},
		{"401 plain ws to loopback", plainTarget, resp("http://127.0.0.1:8080/api/v1/agent/ws", false, 401, jsonType, ours401, nil), protocol.ReasonInvalid, 0, ErrLoggedOut, nil},
		// Not printdock-server's answer: keep the secret, retry.
		{"401 plain text", target, resp(ours, true, 401, "text/plain; charset=utf-8", "Unauthorized\n", nil), "", 0, ErrServerUnreachable, ErrNotPrintdock},
		{"401 html", target, resp(ours, true, 401, "text/html", "<html>Sign in</html>", nil), "", 0, ErrServerUnreachable, ErrNotPrintdock},
		{"401 json of another service", target, resp(ours, true, 401, jsonType, `{"error":"unauthorized"}`, nil), "", 0, ErrServerUnreachable, ErrNotPrintdock},
		{"401 json unknown code", target, resp(ours, true, 401, jsonType, `{"error":{"code":"login_required","message":"x"}}`, nil), "", 0, ErrServerUnreachable, ErrNotPrintdock},
		{"401 printdock body as text", target, resp(ours, true, 401, "text/plain", ours401, nil), "", 0, ErrServerUnreachable, ErrNotPrintdock},
		{"401 wss without TLS", target, resp(ours, false, 401, jsonType, ours401, nil), "", 0, ErrServerUnreachable, ErrNotPrintdock},
		{"401 from another host", target, resp("https://proxy.example.com/api/v1/agent/ws", true, 401, jsonType, ours401, nil), "", 0, ErrServerUnreachable, ErrNotPrintdock},
		{"401 for another path", target, resp("https://print.example.com/login", true, 401, jsonType, ours401, nil), "", 0, ErrServerUnreachable, ErrNotPrintdock},
		{"401 no request", target, &http.Response{StatusCode: 401, Header: http.Header{"Content-Type": {jsonType}}, Body: io.NopCloser(strings.NewReader(ours401))}, "", 0, ErrServerUnreachable, ErrNotPrintdock},
		{"403 other", target, resp(ours, true, 403, "", `not json`, nil), "", 0, ErrServerUnreachable, ErrNotPrintdock},
		{"403 with a 401 code", target, resp(ours, true, 403, jsonType, ours401, nil), "", 0, ErrServerUnreachable, ErrNotPrintdock},
		{"429", target, resp(ours, true, 429, "", ``, map[string]string{"Retry-After": "7"}), "", 7 * time.Second, ErrServerUnreachable, nil},
		{"502", target, resp(ours, true, 502, "", `bad gateway`, nil), "", 0, ErrServerUnreachable, nil},
		{"network", target, nil, "", 0, ErrServerUnreachable, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := dialError(tt.target, tt.resp, errors.New("failed to WebSocket dial: boom"))
			if !errors.Is(err, tt.kind) {
				t.Fatalf("err = %v, want kind %v", err, tt.kind)
			}
			if tt.other != nil && !errors.Is(err, tt.other) {
				t.Fatalf("err = %v, want it to wrap %v", err, tt.other)
			}
			var lo *LogoutError
			if got := errors.As(err, &lo); got != (tt.reason != "") || (got && lo.Reason != tt.reason) {
				t.Fatalf("logout = %v %+v, want reason %q", got, lo, tt.reason)
			}
			var ra *retryAfterError
			if got := errors.As(err, &ra); got != (tt.retry != 0) || (got && ra.d != tt.retry) {
				t.Fatalf("retry-after = %v %+v, want %v", got, ra, tt.retry)
			}
			if errors.Is(err, ErrNotPrintdock) {
				want := "The server at https://print.example.com answered " + strconv.Itoa(tt.resp.StatusCode) + " but not as a printdock server: check the server address"
				if !strings.HasPrefix(err.Error(), want) {
					t.Fatalf("message %q, want it to start with %q", err, want)
				}
				if code := localapi.ErrorCode(apiError(err)); code != localapi.CodeServerUnreachable {
					t.Fatalf("local API code %q", code)
				}
			}
		})
	}
}

// A server (or proxy, or wrong address) answering a plain-text 401 on reconnect does not log the agent
// out: the secret stays, the error says what happened, and the agent keeps retrying with backoff.
func TestPlain401OnReconnectKeepsSecret(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
	}))
	defer srv.Close()
	secret := mustSecret(t, protocol.KindPrintClient)
	a := newTestAgent(t, func(c *Config) { c.ServerURL = srv.URL })
	if err := a.store.Set(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	a.start(t)
	testenv.WaitFor(t, "several refused attempts", func() bool { return hits.Load() >= 4 })
	st := a.Status()
	if st.State != localapi.StateConnecting || st.LogoutReason != "" {
		t.Fatalf("state %s, logout reason %q: a plain 401 logged the agent out", st.State, st.LogoutReason)
	}
	if !strings.Contains(st.LastError, "answered 401 but not as a printdock server") || !strings.Contains(st.LastError, srv.URL) {
		t.Fatalf("last_error %q", st.LastError)
	}
	if a.storedSecret(t) != secret {
		t.Fatal("the secret was deleted after a plain-text 401")
	}
	if st.Attempts == 0 {
		t.Fatalf("no backoff recorded: %+v", st)
	}
	// Signing in against such an address is refused without storing anything.
	b := newTestAgent(t, nil)
	_, err := b.Login(context.Background(), srv.URL, secret, "")
	if !errors.Is(err, ErrNotPrintdock) || errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "Nothing was stored") {
		t.Fatalf("login: %v", err)
	}
	if b.storedSecret(t) != "" {
		t.Fatal("stored after a refused login")
	}
}

// TestCloseLimitWords: a server refusing the installation (4006) reaches staff with the server's reason,
// and the agent keeps retrying with backoff (a server error, not a logout).
func TestCloseLimitWords(t *testing.T) {
	reason := "this credential has reached the server's limit of agent installations (--max-clients-per-key)"
	err := linkError(link.ClassifyClose(fmt.Errorf("read: %w", websocket.CloseError{Code: protocol.CloseLimitReached, Reason: reason})))
	var lo *LogoutError
	if !errors.Is(err, ErrServerUnreachable) || errors.As(err, &lo) ||
		err.Error() != "The server refused to register this agent: "+reason {
		t.Fatalf("4006 = %v", err)
	}
}
