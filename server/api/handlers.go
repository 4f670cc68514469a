package api

import (
	"net/http"
	"time"

	"printdock/server/httpx"
	"printdock/server/keys"
)

// ClientKeyJSON is a print client secret (or a device using the shared secret) as the API shows it.
type ClientKeyJSON struct {
	ID              string     `json:"id"`
	Description     string     `json:"description"`
	Prefix          string     `json:"prefix"`
	Status          string     `json:"status"`
	UseSharedSecret bool       `json:"use_shared_secret"`
	CreatedAt       time.Time  `json:"created_at"`
	CreatedBy       string     `json:"created_by"`
	LastAccessedAt  *time.Time `json:"last_accessed_at"`
	ActivatedAt     *time.Time `json:"activated_at"` // when it was last activated again (null if never)
	ExpiresAt       *time.Time `json:"expires_at"`   // when it stops working by itself (null: never)
	Checked         bool       `json:"checked"`      // used since it was created or last activated
	Connected       bool       `json:"connected"`
	// Secret appears only in the answer that creates or rotates the key.
	Secret string `json:"secret,omitempty"`
}

func (a *API) clientKeyJSON(k keys.ClientKey) ClientKeyJSON {
	return ClientKeyJSON{
		ID:              k.ID,
		Description:     k.Description,
		Prefix:          k.Prefix,
		Status:          string(k.Status),
		UseSharedSecret: k.UseSharedSecret,
		CreatedAt:       k.CreatedAt,
		CreatedBy:       k.CreatedBy,
		LastAccessedAt:  k.LastAccessedAt,
		ActivatedAt:     k.ActivatedAt,
		ExpiresAt:       k.ExpiresAt,
		Checked:         k.UsedSinceActivation(),
		Connected:       a.hub != nil && a.hub.Connected(k.ID),
	}
}

// not negates an optional flag.
func not(b *bool) *bool {
	if b == nil {
		return nil
	}
	return new(!*b)
}

// UserJSON is a user as the API shows it.
type UserJSON struct {
	ID           string `json:"id"`
	PortalID     string `json:"portal_id"`
	Email        string `json:"email"`
	Role         string `json:"role"`
	APIKeyPrefix string `json:"api_key_prefix"`
	// APIKeyLastAccessedAt is when the personal API key was last used (at most once a minute).
	APIKeyLastAccessedAt *time.Time `json:"api_key_last_accessed_at"`
	CreatedAt            time.Time  `json:"created_at"`
}

func userJSON(u keys.User) UserJSON {
	return UserJSON{ID: u.ID, PortalID: u.PortalID, Email: u.Email, Role: string(u.Role),
		APIKeyPrefix: u.APIKeyPrefix, APIKeyLastAccessedAt: u.APIKeyLastAccessedAt, CreatedAt: u.CreatedAt}
}

type createClientKeyReq struct {
	Description     string `json:"description"`
	Inactive        *bool  `json:"inactive"` // absent: the portal's "new keys start inactive" setting
	UseSharedSecret bool   `json:"use_shared_secret"`
}

func (a *API) createClientKey(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	var req createClientKeyReq
	if err := httpx.DecodeJSON(w, r, &req, false); err != nil {
		return
	}
	c, err := a.keys.CreateClientKey(r.Context(), act, keys.NewClientKey{
		Description: req.Description, Active: not(req.Inactive), UseSharedSecret: req.UseSharedSecret})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := a.clientKeyJSON(c.Key)
	out.Secret = c.Secret
	httpx.WriteJSON(w, http.StatusCreated, out)
}

func (a *API) listClientKeys(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	p, ok := parsePage(w, r)
	if !ok {
		return
	}
	ks, err := a.keys.ListClientKeys(r.Context(), act, p.store())
	a.writeClientKeys(w, r, p, ks, err)
}

// writeClientKeys answers a page of print client keys (or err).
func (a *API) writeClientKeys(w http.ResponseWriter, r *http.Request, p pageReq, ks []keys.ClientKey, err error) {
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writePage(w, p, ks, keys.ClientKey.Key, a.clientKeyJSON)
}

func (a *API) getClientKey(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	k, err := a.keys.GetClientKey(r.Context(), act, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, a.clientKeyJSON(k))
}

func (a *API) deleteClientKey(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	if err := a.keys.DeleteClientKey(r.Context(), act, r.PathValue("id")); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) rotateClientKey(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	c, err := a.keys.RotateClientKey(r.Context(), act, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := a.clientKeyJSON(c.Key)
	out.Secret = c.Secret
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (a *API) activateClientKey(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	a.setActive(w, r, act, true)
}

func (a *API) deactivateClientKey(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	a.setActive(w, r, act, false)
}

func (a *API) setActive(w http.ResponseWriter, r *http.Request, act keys.Actor, active bool) {
	k, err := a.keys.SetClientKeyActive(r.Context(), act, r.PathValue("id"), active)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, a.clientKeyJSON(k))
}

func (a *API) revokeClientKey(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	k, err := a.keys.RevokeClientKey(r.Context(), act, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, a.clientKeyJSON(k))
}

// MeJSON is the caller as /api/v1/me shows it.
type MeJSON struct {
	UserJSON
	AuthKind string `json:"auth_kind"` // user (personal API key) or oauth
}

func (a *API) me(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	u, err := a.keys.Me(r.Context(), act)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, MeJSON{UserJSON: userJSON(u), AuthKind: string(act.Kind)})
}

type rotateOwnReq struct {
	Confirm      bool   `json:"confirm"`
	GraceSeconds *int64 `json:"grace_seconds"` // grace.go
}

type apiKeyResp struct {
	APIKey string `json:"api_key"`
	// PreviousValidUntil is until when the old key keeps working (null: it stopped at once).
	PreviousValidUntil *time.Time `json:"previous_valid_until"`
}

func (a *API) rotateOwnAPIKey(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	var req rotateOwnReq
	if err := httpx.DecodeJSON(w, r, &req, true); err != nil {
		return
	}
	grace, err := graceOf(req.GraceSeconds)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	k, err := a.keys.RollOwnAPIKey(r.Context(), act, req.Confirm, grace)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, apiKeyResp{APIKey: k.Secret, PreviousValidUntil: k.PreviousValidUntil})
}

func (a *API) rotateUserAPIKey(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	grace, ok := a.decodeGrace(w, r)
	if !ok {
		return
	}
	k, err := a.keys.RollUserAPIKey(r.Context(), act, r.PathValue("id"), grace)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, apiKeyResp{APIKey: k.Secret, PreviousValidUntil: k.PreviousValidUntil})
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	p, ok := parsePage(w, r)
	if !ok {
		return
	}
	us, err := a.keys.ListUsers(r.Context(), act, p.store())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writePage(w, p, us, keys.User.Key, userJSON)
}

type createUserReq struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

// CreatedUserJSON answers POST /api/v1/users: the user, and once, their password and personal API key.
type CreatedUserJSON struct {
	UserJSON
	Password string `json:"password"`
	APIKey   string `json:"api_key"`
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	var req createUserReq
	if err := httpx.DecodeJSON(w, r, &req, false); err != nil {
		return
	}
	role := keys.Role(req.Role)
	switch role {
	case "":
		role = keys.RoleUser
	case keys.RoleUser, keys.RoleAdmin:
	default:
		httpx.WriteError(w, http.StatusBadRequest, httpx.CodeBadRequest, `role must be "user" or "admin"`)
		return
	}
	u, pw, key, err := a.keys.CreateUser(r.Context(), act, req.Email, role)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, CreatedUserJSON{UserJSON: userJSON(u), Password: pw, APIKey: key})
}

type resetSharedReq struct {
	Confirmation string `json:"confirmation"`
	ResetDevices bool   `json:"reset_devices"`
}

type secretResp struct {
	Secret string `json:"secret"`
}

func (a *API) resetSharedSecret(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	var req resetSharedReq
	if err := httpx.DecodeJSON(w, r, &req, false); err != nil {
		return
	}
	s, err := a.keys.ResetSharedSecret(r.Context(), act, req.Confirmation, req.ResetDevices)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, secretResp{Secret: s})
}

// AuditJSON is one audit log entry.
type AuditJSON struct {
	ID         int64     `json:"id"`
	At         time.Time `json:"at"`
	Actor      string    `json:"actor"`
	Action     string    `json:"action"`
	Target     string    `json:"target"`
	RemoteAddr string    `json:"remote_addr"`
	Detail     string    `json:"detail"`
}

func (a *API) audit(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	q := r.URL.Query()
	f := keys.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action")}
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				httpx.WriteError(w, http.StatusBadRequest, httpx.CodeBadRequest, name+" must be an RFC 3339 time")
				return
			}
			*dst = t
		}
	}
	p, ok := parsePage(w, r)
	if !ok {
		return
	}
	sp := p.store()
	f.Limit, f.After = sp.Limit, sp.After
	es, err := a.keys.Audit(r.Context(), act, f)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writePage(w, p, es, keys.AuditEntry.Key, func(e keys.AuditEntry) AuditJSON {
		return AuditJSON{ID: e.ID, At: e.At, Actor: e.Actor, Action: e.Action,
			Target: e.Target, RemoteAddr: e.RemoteAddr, Detail: e.Detail}
	})
}
