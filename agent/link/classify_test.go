package link

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/coder/websocket"

	"printdock/protocol"
)

func TestClassifyClose(t *testing.T) {
	closeErr := func(code websocket.StatusCode, reason string) error {
		return fmt.Errorf("failed to read: %w", websocket.CloseError{Code: code, Reason: reason})
	}
	tests := []struct {
		name   string
		err    error
		kind   CloseKind
		reason string
	}{
		{"no close frame", errors.New("EOF"), CloseLost, ""},
		{"logout rotated", closeErr(protocol.CloseLoggedOut, "logged out: rotated"), CloseLogout, protocol.ReasonRotated},
		{"logout revoked", closeErr(protocol.CloseLoggedOut, "revoked"), CloseLogout, protocol.ReasonRevoked},
		{"logout own secret", closeErr(protocol.CloseLoggedOut, "logged out: own_secret"), CloseLogout, protocol.ReasonOwnSecret},
		{"logout shared secret", closeErr(protocol.CloseLoggedOut, "logged out: shared_secret"), CloseLogout, protocol.ReasonSharedSecret},
		{"logout expired", closeErr(protocol.CloseLoggedOut, "logged out: expired"), CloseLogout, protocol.ReasonExpired},
		{"logout no reason", closeErr(protocol.CloseLoggedOut, ""), CloseLogout, protocol.ReasonInvalid},
		{"unsupported", closeErr(protocol.CloseUnsupportedVersion, ""), CloseUnsupported, ""},
		{"protocol error", closeErr(protocol.CloseProtocolError, ""), CloseProtocol, ""},
		{"heartbeat", closeErr(protocol.CloseHeartbeatTimeout, ""), CloseHeartbeat, ""},
		{"server shutdown", closeErr(protocol.CloseServerShutdown, ""), CloseShutdown, ""},
		{"going away", closeErr(websocket.StatusGoingAway, ""), CloseShutdown, ""},
		{"too big", closeErr(websocket.StatusMessageTooBig, ""), CloseTooBig, ""},
		{"other", closeErr(websocket.StatusInternalError, ""), CloseOther, ""},
		{"limit", closeErr(protocol.CloseLimitReached, "too many clients"), CloseLimit, "too many clients"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ClassifyClose(tt.err)
			if got.Kind != tt.kind || got.Reason != tt.reason || !errors.Is(got, tt.err) {
				t.Fatalf("ClassifyClose(%v) = %+v, want kind %d reason %q", tt.err, got, tt.kind, tt.reason)
			}
		})
	}
}

func TestClassifyDial(t *testing.T) {
	target, _ := url.Parse("wss://print.example.com/api/v1/agent/ws")
	resp := func(code int, ctype, body string, hdr ...string) (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodGet, "https://print.example.com/api/v1/agent/ws", nil)
		r := &http.Response{StatusCode: code, Status: fmt.Sprint(code), Header: http.Header{}, Request: req}
		r.TLS = tlsDone()
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		return r, []byte(body)
	}
	tests := []struct {
		name   string
		code   int
		ctype  string
		body   string
		hdr    []string
		kind   DialKind
		reason string
		retry  time.Duration
	}{
		{"401 printdock", 401, "application/json", `{"error":{"code":"unauthenticated","message":"x"}}`, nil, DialRefused, protocol.ReasonInvalid, 0},
		{"403 revoked", 403, "application/json", `{"error":{"code":"key_revoked","message":"the key is revoked"}}`, nil, DialRefused, protocol.ReasonRevoked, 0},
		{"403 inactive", 403, "application/json", `{"error":{"code":"key_inactive","message":"inactive"}}`, nil, DialRefused, protocol.ReasonDeactivated, 0},
		{"401 text", 401, "text/plain", "no", nil, DialNotPrintdock, "", 0},
		{"429", 429, "", "", []string{"Retry-After", "9"}, DialThrottled, "", 9 * time.Second},
		{"429 no header", 429, "", "", nil, DialThrottled, "", 30 * time.Second},
		{"502", 502, "", "", nil, DialRejected, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, body := resp(tt.code, tt.ctype, tt.body, tt.hdr...)
			got := ClassifyDial(target, r, body, errors.New("boom"))
			if got.Kind != tt.kind || got.Reason != tt.reason || got.RetryAfter != tt.retry || got.Status != tt.code {
				t.Fatalf("got %+v", got)
			}
		})
	}
	if got := ClassifyDial(target, nil, nil, errors.New("dns")); got.Kind != DialUnreachable {
		t.Fatalf("no answer: %+v", got)
	}
}

func tlsDone() *tls.ConnectionState { return &tls.ConnectionState{HandshakeComplete: true} }
