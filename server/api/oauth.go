package api

import (
	"errors"
	"mime"
	"net/http"
	"net/url"

	"printdock/protocol"
	"printdock/server/httpx"
	"printdock/server/keys"
)

// oauthError is the RFC 6749 §5.2 error shape.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

type tokenResp struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Pragma", "no-cache")
	httpx.WriteJSON(w, status, oauthError{Error: code, Description: desc})
}

// oauthToken is the client-credentials grant (RFC 6749 §4.4): client_id and client_secret in the form
// body or in HTTP Basic authentication, never in the URL.
func (a *API) oauthToken(w http.ResponseWriter, r *http.Request) {
	g := a.gate(r)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request",
			"the body must be application/x-www-form-urlencoded")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeOAuthError(w, http.StatusRequestEntityTooLarge, "invalid_request", "the body is too large")
			return
		}
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "the form body is malformed")
		return
	}
	if q := r.URL.Query(); q.Has("client_secret") || q.Has("client_id") {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request",
			"client credentials must not be sent in the URL")
		return
	}
	f := r.PostForm
	for _, k := range []string{"grant_type", "client_id", "client_secret", "scope"} {
		if len(f[k]) > 1 {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "parameter "+k+" is repeated")
			return
		}
	}
	switch gt := f.Get("grant_type"); gt {
	case "client_credentials":
	case "":
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "grant_type is required")
		return
	default:
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "only client_credentials is supported")
		return
	}
	id, secret := f.Get("client_id"), f.Get("client_secret")
	basicID, basicSecret, basic := r.BasicAuth()
	if basic {
		if f.Has("client_secret") {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request",
				"send the client credentials either in the Authorization header or in the body, not both")
			return
		}
		var err1, err2 error
		id, err1 = url.QueryUnescape(basicID)
		secret, err2 = url.QueryUnescape(basicSecret)
		if err1 != nil || err2 != nil {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "malformed Basic credentials")
			return
		}
	}
	invalidClient := func(desc string) {
		if basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="printdock"`)
		}
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", desc)
	}
	if id == "" || secret == "" {
		invalidClient("client_id and client_secret are required")
		return
	}
	secret = protocol.NormalizeSecret(secret)
	if kind, err := protocol.ParseSecret(secret); err != nil || kind != protocol.KindOAuthClient {
		msg := "the client secret must be an OAuth client secret (pdo_)"
		if err != nil {
			msg = err.Error()
		}
		a.refuse(w, r, g, surfaceOAuth, "malformed client secret", func() { invalidClient(msg) })
		return
	}
	tok, ttl, err := a.keys.IssueToken(r.Context(), id, secret, httpx.ClientIP(r))
	switch {
	case err == nil:
	case errors.Is(err, keys.ErrInactive), errors.Is(err, keys.ErrRevoked):
		// The secret was right (keys checks it first), so saying why does not help a guesser.
		msg := "the client is revoked: ask the portal's administrator for a new one"
		if errors.Is(err, keys.ErrInactive) {
			msg = "the client is inactive: ask the portal's administrator to activate it"
		}
		a.refuse(w, r, g, surfaceOAuth, "client not active", func() { invalidClient(msg) })
		return
	case errors.Is(err, keys.ErrUnauthenticated), errors.Is(err, keys.ErrNotFound):
		a.refuse(w, r, g, surfaceOAuth, "invalid client", func() { invalidClient("client authentication failed") })
		return
	case errors.Is(err, keys.ErrInvalid):
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", clientMessage(err))
		return
	default:
		a.log.ErrorContext(r.Context(), "issue token", "err", httpx.RedactSecrets(err.Error()))
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "internal error")
		return
	}
	w.Header().Set("Pragma", "no-cache")
	httpx.WriteJSON(w, http.StatusOK, tokenResp{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int64(ttl.Seconds())})
}
