package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"

	"printdock/protocol"
	"printdock/server/httpx"
	"printdock/server/hub"
	"printdock/server/keys"
)

// Authentication surfaces, for metrics and logs.
const (
	surfaceREST  = "rest"
	surfaceAgent = "agent"
	surfaceOAuth = "oauth"
)

// maxDeviceIDLen bounds the X-Printdock-Device header.
const maxDeviceIDLen = 256

// bearer returns the token of an "Authorization: Bearer …" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = protocol.NormalizeSecret(tok)
	return tok, tok != ""
}

func unauthenticated(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="printdock"`)
	httpx.WriteError(w, http.StatusUnauthorized, httpx.CodeUnauthenticated, msg)
}

// gate is the failed-authentication budget of one request's client address, read once before the
// request authenticates. A well-formed secret (protocol.ParseSecret accepts it: 256 random bits that
// cannot be guessed) is always checked, even when the address is over its budget, so one broken
// integration behind a NAT does not lock out every valid key and agent there. Only failures count, and
// an address over its budget gets 429 instead of 401 for each of them — malformed secrets without
// being looked up.
type gate struct {
	over  bool
	retry time.Duration
}

func (a *API) gate(r *http.Request) gate {
	ok, retry := a.limiter.Allow(httpx.LimitKey(httpx.ClientAddr(r)))
	return gate{over: !ok, retry: retry}
}

// refuse answers a failed authentication: it counts the failure against r's address (why is a fixed
// category, never the secret), then answers 429 when the address is over its budget, or else calls
// answer (the surface's 401).
func (a *API) refuse(w http.ResponseWriter, r *http.Request, g gate, surface, why string, answer func()) {
	a.limiter.Fail(httpx.LimitKey(httpx.ClientAddr(r)))
	if g.over {
		a.metrics.AuthFailure(surface, "rate_limited")
		a.log.InfoContext(r.Context(), "authentication failed; address rate-limited", "surface", surface,
			"why", why, "remote", httpx.ClientIP(r))
		httpx.WriteRateLimited(w, g.retry)
		return
	}
	a.metrics.AuthFailure(surface, "unauthenticated")
	a.log.InfoContext(r.Context(), "authentication failed", "surface", surface, "why", why,
		"remote", httpx.ClientIP(r))
	answer()
}

// checkSecret checks a bearer's format and kind locally. It answers 401 (429 when the address is over
// its budget) and returns false when the secret is malformed (truncated, mistyped, wrong checksum) or of
// a kind not accepted on this surface.
func (a *API) checkSecret(w http.ResponseWriter, r *http.Request, g gate, surface, secret string,
	allowed ...protocol.SecretKind) (protocol.SecretKind, bool) {
	kind, err := protocol.ParseSecret(secret)
	if err != nil {
		a.refuse(w, r, g, surface, "malformed secret", func() {
			unauthenticated(w, err.Error()) // ParseSecret's texts never contain the secret
		})
		return "", false
	}
	for _, k := range allowed {
		if k == kind {
			return kind, true
		}
	}
	msg := "this endpoint accepts a personal API key (pdu_) or an OAuth access token (pdt_)"
	if surface == surfaceAgent {
		msg = "agents connect with a print client secret (pdc_), a personal API key (pdu_), or the shared secret (pds_) with the " + protocol.DeviceHeader + " header"
	}
	a.refuse(w, r, g, surface, "wrong kind of secret", func() { unauthenticated(w, msg) })
	return "", false
}

// authFailed answers an Authenticate error: 401 (counted against the address; 429 when it is over its
// budget), 403, or 500.
func (a *API) authFailed(w http.ResponseWriter, r *http.Request, g gate, surface string, err error) {
	switch {
	case errors.Is(err, keys.ErrUnauthenticated), errors.Is(err, keys.ErrNotFound):
		a.refuse(w, r, g, surface, "unknown secret", func() { unauthenticated(w, "invalid credentials") })
	case errors.Is(err, keys.ErrInactive), errors.Is(err, keys.ErrRevoked):
		a.metrics.AuthFailure(surface, "forbidden")
		a.fail(w, r, err)
	default:
		a.fail(w, r, err)
	}
}

// actorFunc is a handler that runs for an authenticated REST caller.
type actorFunc func(w http.ResponseWriter, r *http.Request, act keys.Actor)

// user wraps h with REST authentication: a personal API key or an OAuth access token.
func (a *API) user(h actorFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		secret, ok := bearer(r)
		if !ok {
			unauthenticated(w, "authentication required: send Authorization: Bearer <personal API key or OAuth access token>")
			return
		}
		g := a.gate(r)
		if _, ok := a.checkSecret(w, r, g, surfaceREST, secret, protocol.KindUser, protocol.KindOAuthToken); !ok {
			return
		}
		ip := httpx.ClientIP(r)
		p, err := a.keys.Authenticate(r.Context(), secret, "", ip)
		if err != nil {
			a.authFailed(w, r, g, surfaceREST, err)
			return
		}
		if p.Kind != keys.KindUser && p.Kind != keys.KindOAuth {
			a.refuse(w, r, g, surfaceREST, "wrong kind of principal", func() { unauthenticated(w, "invalid credentials") })
			return
		}
		a.keys.Touch(r.Context(), p) // last-accessed, throttled by keys
		h(w, r, keys.Actor{Principal: p, RemoteAddr: ip})
	}
}

// agentWS authenticates an agent, then upgrades to a websocket and hands the connection to the hub.
// Everything that can fail is answered in JSON before the upgrade: 401, 403, 429, 426, 503.
func (a *API) agentWS(w http.ResponseWriter, r *http.Request) {
	secret, ok := bearer(r)
	if !ok {
		unauthenticated(w, "authentication required: send Authorization: Bearer <print client secret>")
		return
	}
	g := a.gate(r)
	kind, ok := a.checkSecret(w, r, g, surfaceAgent, secret,
		protocol.KindPrintClient, protocol.KindUser, protocol.KindShared)
	if !ok {
		return
	}
	device := ""
	if kind == protocol.KindShared {
		device = strings.TrimSpace(r.Header.Get(protocol.DeviceHeader))
		if device == "" || len(device) > maxDeviceIDLen {
			a.refuse(w, r, g, surfaceAgent, "shared secret without device", func() {
				unauthenticated(w, "the shared secret needs the device ID in the "+protocol.DeviceHeader+" header")
			})
			return
		}
	}
	ip := httpx.ClientIP(r)
	p, err := a.keys.Authenticate(r.Context(), secret, device, ip)
	if err != nil {
		a.authFailed(w, r, g, surfaceAgent, err)
		return
	}
	if !isUpgrade(r) {
		w.Header().Set("Upgrade", "websocket")
		httpx.WriteError(w, http.StatusUpgradeRequired, "upgrade_required", "this endpoint needs a websocket upgrade")
		return
	}
	if a.hub == nil || a.hub.Closing() {
		httpx.WriteError(w, http.StatusServiceUnavailable, httpx.CodeUnavailable, "the server is shutting down")
		return
	}
	slot, err := a.hub.Reserve(p.CredentialID)
	switch {
	case errors.Is(err, hub.ErrTooManySessions):
		a.log.InfoContext(r.Context(), "agent refused: too many sessions for its key", "remote", ip,
			"credential_id", p.CredentialID)
		w.Header().Set("Retry-After", strconv.Itoa(int(sessionsRetry/time.Second)))
		httpx.WriteError(w, http.StatusTooManyRequests, codeTooManySessions, fmt.Sprintf(
			"this key already has %d connected sessions; give each installation its own print client secret",
			a.hub.MaxSessionsPerCredential()))
		return
	case err != nil:
		httpx.WriteError(w, http.StatusServiceUnavailable, httpx.CodeUnavailable, "the server is shutting down")
		return
	}
	// The server's ReadTimeout (and any write deadline) must not cut the websocket session: clear the
	// connection's deadlines before the upgrade. The hub keeps its own heartbeat and write deadlines.
	rc := http.NewResponseController(w)
	if err := errors.Join(rc.SetReadDeadline(time.Time{}), rc.SetWriteDeadline(time.Time{})); err != nil {
		a.log.DebugContext(r.Context(), "clear connection deadlines", "err", err)
	}
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		slot.Release()
		a.log.InfoContext(r.Context(), "websocket upgrade failed", "remote", ip, "err", err)
		return // Accept has answered
	}
	// The session runs on a goroutine of its own and this handler returns: the HTTP server's goroutine
	// (its frames, the middlewares' and this handler's) would otherwise stay parked under the session's
	// reader for the connection's whole life, and its stack, sized by those frames, is the largest part
	// of an idle agent's cost (docs/benchmarks.md). The hijacked connection is the hub's from here; the
	// request's context ends when this returns, so the session keeps its values only. Serve gives the
	// slot back.
	go a.hub.Serve(context.WithoutCancel(r.Context()), c, p, ip, slot)
}

// codeTooManySessions is the error code of a websocket refused because its key has the most sessions
// the hub allows; sessionsRetry is its Retry-After.
const (
	codeTooManySessions = "too_many_sessions"
	sessionsRetry       = 60 * time.Second
)

func isUpgrade(r *http.Request) bool {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return false
	}
	for _, v := range r.Header.Values("Connection") {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), "upgrade") {
				return true
			}
		}
	}
	return false
}
