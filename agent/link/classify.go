package link

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"

	"printdock/internal/clip"
	"printdock/protocol"
)

// DialKind says why a dial failed.
type DialKind int

const (
	DialUnreachable  DialKind = iota // no HTTP answer: network, DNS, TLS, proxy
	DialRefused                      // printdock-server refused the secret (401/403): a logout
	DialNotPrintdock                 // 401/403 from something that is not printdock-server: keep the secret
	DialThrottled                    // 429: wait RetryAfter
	DialRejected                     // any other HTTP answer
)

// DialError is a failed dial, classified by ClassifyDial.
type DialError struct {
	Kind       DialKind
	Status     int           // HTTP status when the server answered
	StatusText string        // e.g. "502 Bad Gateway"
	Detail     string        // "code: message" of printdock's JSON error body, if any
	Reason     string        // DialRefused: a protocol.Reason*
	RetryAfter time.Duration // DialThrottled
	Target     *url.URL      // the websocket URL dialled
	Err        error         // the websocket library's error
}

func (e *DialError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("link: dial: HTTP %d", e.Status)
	}
	return fmt.Sprintf("link: dial: %v", e.Err)
}

func (e *DialError) Unwrap() error { return e.Err }

// Refusal codes printdock-server's agent endpoint answers a refused secret with (server/api: 401 via
// httpx.CodeUnauthenticated; 403 for an inactive or revoked key, or httpx.CodeForbidden).
var (
	refusal401Codes = []string{"unauthenticated"}
	refusal403Codes = []string{"key_inactive", "key_revoked", "forbidden"}
)

// errorBody is printdock-server's JSON error shape.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// ClassifyDial classifies a failed dial of target from the HTTP answer (resp, nil when there was none)
// and the first bytes of its body. A 401 or 403 is a refusal of the secret only when it is
// printdock-server's own answer (see printdockRefusal); any other 401/403 — a proxy, a login page,
// another service at a wrong address — is DialNotPrintdock, so that the agent never deletes a working
// secret because something else answered. It is a pure function of its arguments.
func ClassifyDial(target *url.URL, resp *http.Response, body []byte, err error) *DialError {
	e := &DialError{Kind: DialUnreachable, Target: target, Err: err}
	if resp == nil {
		return e
	}
	e.Status, e.StatusText = resp.StatusCode, resp.Status
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil {
		e.Detail = strings.Trim(strings.TrimSpace(eb.Error.Code+": "+eb.Error.Message), ": ")
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		if !printdockRefusal(target, resp, body) {
			e.Kind = DialNotPrintdock
			return e
		}
		e.Kind, e.Reason = DialRefused, protocol.ReasonInvalid
		if resp.StatusCode == http.StatusForbidden {
			l := strings.ToLower(e.Detail)
			switch {
			case strings.Contains(l, "revoked"):
				e.Reason = protocol.ReasonRevoked
			case strings.Contains(l, "inactive"), strings.Contains(l, "deactivated"):
				e.Reason = protocol.ReasonDeactivated
			case strings.Contains(l, "deleted"):
				e.Reason = protocol.ReasonDeleted
			}
		}
	case http.StatusTooManyRequests:
		e.Kind, e.RetryAfter = DialThrottled, 30*time.Second
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			e.RetryAfter = time.Duration(s) * time.Second
		}
	default:
		e.Kind = DialRejected
	}
	return e
}

// printdockRefusal reports whether a 401/403 answer is printdock-server's own refusal of the secret:
//   - it answers the request sent to target itself (same scheme, host and path; redirects are never
//     followed), over TLS for wss:// — so a proxy cannot have made it up — or, for ws://, over a direct
//     connection (plain requests never use a proxy);
//   - its body is printdock's JSON error ({"error":{"code":…}}, Content-Type application/json) with a
//     code the agent endpoint uses for that status.
func printdockRefusal(target *url.URL, resp *http.Response, body []byte) bool {
	if target == nil || resp.Request == nil || resp.Request.URL == nil {
		return false
	}
	got := resp.Request.URL
	wantScheme := map[string]string{"wss": "https", "ws": "http"}[target.Scheme]
	if wantScheme == "" || !strings.EqualFold(got.Scheme, wantScheme) ||
		!strings.EqualFold(got.Host, target.Host) || got.Path != target.Path {
		return false
	}
	if wantScheme == "https" && (resp.TLS == nil || !resp.TLS.HandshakeComplete) {
		return false
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return false
	}
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err != nil {
		return false
	}
	codes := refusal401Codes
	if resp.StatusCode == http.StatusForbidden {
		codes = refusal403Codes
	}
	return slices.Contains(codes, eb.Error.Code)
}

// CloseKind says why a connection ended.
type CloseKind int

const (
	CloseLost        CloseKind = iota // no close code: the connection broke
	CloseLogout                       // the server logged the agent out (message or code 4001)
	CloseUnsupported                  // the server does not speak this protocol version
	CloseProtocol                     // protocol error
	CloseHeartbeat                    // the server's heartbeat timeout
	CloseShutdown                     // the server is restarting or shutting down
	CloseTooBig                       // a message was too big
	CloseOther                        // another close code
	CloseDead                         // the agent saw no message for 3 heartbeat intervals
	CloseNoWelcome                    // the server did not answer hello
	CloseWriteFailed                  // a write failed (and no logout was in flight)
	CloseHelloFailed                  // the write of hello failed
	CloseLimit                        // the server refused to register this installation: a limit (Reason says which)
)

// CloseError is why a connection ended, classified by ClassifyClose (or set by the session for the
// kinds it detects itself: dead link, no welcome, failed write, logout message).
type CloseError struct {
	Kind    CloseKind
	Code    websocket.StatusCode // -1 when there was no close frame
	Reason  string               // CloseLogout: a protocol.Reason*; CloseLimit: the server's words
	Message string               // CloseLogout: the server's words for staff, if it sent any (in_use)
	Silent  time.Duration        // CloseDead: how long the server was silent
	Err     error
}

func (e *CloseError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("link: connection closed (kind %d, code %d): %v", e.Kind, int(e.Code), e.Err)
	}
	return fmt.Sprintf("link: connection closed (kind %d, code %d)", e.Kind, int(e.Code))
}

func (e *CloseError) Unwrap() error { return e.Err }

// ClassifyClose classifies the error that ended a read. It is a pure function of err.
func ClassifyClose(err error) *CloseError {
	code := websocket.CloseStatus(err)
	e := &CloseError{Kind: CloseOther, Code: code, Err: err}
	switch {
	case code == protocol.CloseLoggedOut:
		e.Kind, e.Reason = CloseLogout, protocol.ReasonInvalid
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			for _, r := range []string{protocol.ReasonRotated, protocol.ReasonRevoked, protocol.ReasonDeactivated, protocol.ReasonDeleted,
				protocol.ReasonOwnSecret, protocol.ReasonSharedSecret, protocol.ReasonExpired, protocol.ReasonInUse} {
				if strings.Contains(ce.Reason, r) {
					e.Reason = r
				}
			}
		}
	case code == protocol.CloseUnsupportedVersion:
		e.Kind = CloseUnsupported
	case code == protocol.CloseProtocolError:
		e.Kind = CloseProtocol
	case code == protocol.CloseHeartbeatTimeout:
		e.Kind = CloseHeartbeat
	case code == protocol.CloseServerShutdown || code == websocket.StatusGoingAway:
		e.Kind = CloseShutdown
	case code == websocket.StatusMessageTooBig:
		e.Kind = CloseTooBig
	case code == protocol.CloseLimitReached:
		e.Kind = CloseLimit
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			e.Reason = clip.String(strings.ToValidUTF8(ce.Reason, "?"), 123)
		}
	case code == -1:
		e.Kind = CloseLost
	}
	return e
}
