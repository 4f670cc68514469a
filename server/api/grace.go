package api

import (
	"net/http"
	"time"

	"printdock/server/httpx"
	"printdock/server/keys"
)

// Rolling a key with a grace period (keys/grace.go): the rotate routes of personal API keys and OAuth
// clients take an optional {"grace_seconds": N} (0..86400) and answer previous_valid_until.

type graceReq struct {
	GraceSeconds *int64 `json:"grace_seconds"`
}

// graceOf turns grace_seconds into a duration (0 when absent; keys.ErrGraceRange, a 400, outside
// 0..86400).
func graceOf(secs *int64) (time.Duration, error) {
	if secs == nil {
		return 0, nil
	}
	if *secs < 0 || *secs > int64(keys.MaxGrace/time.Second) {
		return 0, keys.ErrGraceRange
	}
	return time.Duration(*secs) * time.Second, nil
}

// decodeGrace reads an optional {"grace_seconds": N} body; it answers the error itself when !ok.
func (a *API) decodeGrace(w http.ResponseWriter, r *http.Request) (time.Duration, bool) {
	var req graceReq
	if err := httpx.DecodeJSON(w, r, &req, true); err != nil {
		return 0, false
	}
	grace, err := graceOf(req.GraceSeconds)
	if err != nil {
		a.fail(w, r, err)
		return 0, false
	}
	return grace, true
}

// rotatedOAuthClientJSON is the answer of an OAuth client's roll: the client, its new secret (once) and
// until when the old one works.
type rotatedOAuthClientJSON struct {
	OAuthClientJSON
	PreviousValidUntil *time.Time `json:"previous_valid_until"`
}

func (a *API) rotateOAuthClient(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	grace, ok := a.decodeGrace(w, r)
	if !ok {
		return
	}
	c, k, err := a.keys.RotateOAuthClient(r.Context(), act, r.PathValue("id"), grace)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := rotatedOAuthClientJSON{OAuthClientJSON: oauthClientJSON(c), PreviousValidUntil: k.PreviousValidUntil}
	out.ClientSecret = k.Secret
	httpx.WriteJSON(w, http.StatusOK, out)
}
