package agent

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"printdock/agent/localapi"
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

// HTTPS_PROXY and NO_PROXY are honoured: the handshake transport uses http.ProxyFromEnvironment (which
// reads the environment once per process, so the test checks the wiring, not the variables).
func TestProxyFromEnvironment(t *testing.T) {
	hc, err := newHTTPClient("")
	if err != nil {
		t.Fatal(err)
	}
	tr := hc.Transport.(*http.Transport)
	if reflect.ValueOf(tr.Proxy).Pointer() != reflect.ValueOf(http.ProxyFromEnvironment).Pointer() {
		t.Fatal("the transport does not use http.ProxyFromEnvironment")
	}
	if tr.TLSClientConfig.InsecureSkipVerify {
		t.Fatal("certificate checks are off")
	}
	if err := hc.CheckRedirect(nil, nil); !errors.Is(err, http.ErrUseLastResponse) {
		t.Fatal("redirects are followed (they would carry the secret elsewhere)")
	}
}

func TestDialErrorClassification(t *testing.T) {
	resp := func(code int, body string, hdr map[string]string) *http.Response {
		r := &http.Response{StatusCode: code, Status: http.StatusText(code), Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		return r
	}
	tests := []struct {
		name   string
		resp   *http.Response
		reason string // LogoutError reason, "" if not a logout
		retry  time.Duration
		kind   error
	}{
		{"401", resp(401, `{"error":{"code":"unauthenticated","message":"invalid credentials"}}`, nil), protocol.ReasonInvalid, 0, ErrLoggedOut},
		{"403 revoked", resp(403, `{"error":{"code":"key_revoked","message":"the key is revoked"}}`, nil), protocol.ReasonRevoked, 0, ErrLoggedOut},
		{"403 inactive", resp(403, `{"error":{"code":"key_inactive","message":"the key is inactive"}}`, nil), protocol.ReasonDeactivated, 0, ErrLoggedOut},
		{"403 other", resp(403, `not json`, nil), protocol.ReasonInvalid, 0, ErrLoggedOut},
		{"429", resp(429, ``, map[string]string{"Retry-After": "7"}), "", 7 * time.Second, ErrServerUnreachable},
		{"502", resp(502, `bad gateway`, nil), "", 0, ErrServerUnreachable},
		{"network", nil, "", 0, ErrServerUnreachable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := dialError(tt.resp, errors.New("failed to WebSocket dial: boom"))
			if !errors.Is(err, tt.kind) {
				t.Fatalf("err = %v, want kind %v", err, tt.kind)
			}
			var lo *LogoutError
			if got := errors.As(err, &lo); got != (tt.reason != "") || (got && lo.Reason != tt.reason) {
				t.Fatalf("logout = %v %+v, want reason %q", got, lo, tt.reason)
			}
			var ra *retryAfterError
			if got := errors.As(err, &ra); got != (tt.retry != 0) || (got && ra.d != tt.retry) {
				t.Fatalf("retry-after = %v %+v, want %v", got, ra, tt.retry)
			}
		})
	}
}
