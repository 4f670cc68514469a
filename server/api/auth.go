package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/coder/websocket"

	"printdock/protocol"
	"printdock/server/httpx"
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

// limited answers 429 and returns true when the client's address has failed too often.
func (a *API) limited(w http.ResponseWriter, r *http.Request, surface string) bool {
	ok, retry := a.limiter.Allow(httpx.LimitKey(httpx.ClientAddr(r)))
	if ok {
		return false
	}
	a.metrics.AuthFailure(surface, "rate_limited")
	httpx.WriteRateLimited(w, retry)
	return true
}

// failed records a failed authentication from r's address (why is a fixed category, never the secret).
func (a *API) failed(r *http.Request, surface, why string) {
	a.limiter.Fail(httpx.LimitKey(httpx.ClientAddr(r)))
	a.metrics.AuthFailure(surface, "unauthenticated")
	a.log.InfoContext(r.Context(), "authentication failed", "surface", surface, "why", why,
		"remote", httpx.ClientIP(r))
}

// checkSecret checks a bearer's format and kind locally. It answers 401 and returns false when the
// secret is malformed (truncated, mistyped, wrong checksum) or of a kind not accepted on this surface.
func (a *API) checkSecret(w http.ResponseWriter, r *http.Request, surface, secret string,
	allowed ...protocol.SecretKind) (protocol.SecretKind, bool) {
	kind, err := protocol.ParseSecret(secret)
	if err != nil {
		a.failed(r, surface, "malformed secret")
		unauthenticated(w, err.Error()) // ParseSecret's texts never contain the secret
		return "", false
	}
	for _, k := range allowed {
		if k == kind {
			return kind, true
		}
	}
	a.failed(r, surface, "wrong kind of secret")
	msg := "this endpoint accepts a personal API key (pdu_) or an OAuth access token (pdt_)"
	if surface == surfaceAgent {
		msg = "agents connect with a print client secret (pdc_), a personal API key (pdu_), or the shared secret (pds_) with the " + protocol.DeviceHeader + " header"
	}
	unauthenticated(w, msg)
	return "", false
}

// authFailed answers an Authenticate error: 401 (counted against the address), 403, or 500.
func (a *API) authFailed(w http.ResponseWriter, r *http.Request, surface string, err error) {
	switch {
	case errors.Is(err, keys.ErrUnauthenticated), errors.Is(err, keys.ErrNotFound):
		a.failed(r, surface, "unknown secret")
		unauthenticated(w, "invalid credentials")
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
		if a.limited(w, r, surfaceREST) {
			return
		}
		if _, ok := a.checkSecret(w, r, surfaceREST, secret, protocol.KindUser, protocol.KindOAuthToken); !ok {
			return
		}
		ip := httpx.ClientIP(r)
		p, err := a.keys.Authenticate(r.Context(), secret, "", ip)
		if err != nil {
			a.authFailed(w, r, surfaceREST, err)
			return
		}
		if p.Kind != keys.KindUser && p.Kind != keys.KindOAuth {
			a.failed(r, surfaceREST, "wrong kind of principal")
			unauthenticated(w, "invalid credentials")
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
	if a.limited(w, r, surfaceAgent) {
		return
	}
	kind, ok := a.checkSecret(w, r, surfaceAgent, secret,
		protocol.KindPrintClient, protocol.KindUser, protocol.KindShared)
	if !ok {
		return
	}
	device := ""
	if kind == protocol.KindShared {
		device = strings.TrimSpace(r.Header.Get(protocol.DeviceHeader))
		if device == "" || len(device) > maxDeviceIDLen {
			a.failed(r, surfaceAgent, "shared secret without device")
			unauthenticated(w, "the shared secret needs the device ID in the "+protocol.DeviceHeader+" header")
			return
		}
	}
	ip := httpx.ClientIP(r)
	p, err := a.keys.Authenticate(r.Context(), secret, device, ip)
	if err != nil {
		a.authFailed(w, r, surfaceAgent, err)
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
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		a.log.InfoContext(r.Context(), "websocket upgrade failed", "remote", ip, "err", err)
		return // Accept has answered
	}
	a.hub.Serve(c, p, ip)
}

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
