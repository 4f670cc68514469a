package api

import (
	"net/http"
	"time"

	"printdock/server/httpx"
	"printdock/server/keys"
)

// Endpoints beyond design.md §3: user role changes and deletion, the shared secret's devices, OAuth
// clients.

type updateUserReq struct {
	Role string `json:"role"`
}

func (a *API) updateUser(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	var req updateUserReq
	if err := httpx.DecodeJSON(w, r, &req, false); err != nil {
		return
	}
	u, err := a.keys.SetUserRole(r.Context(), act, r.PathValue("id"), keys.Role(req.Role))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, userJSON(u))
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	if err := a.keys.DeleteUser(r.Context(), act, r.PathValue("id")); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) sharedDevices(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	p, ok := parsePage(w, r)
	if !ok {
		return
	}
	ks, err := a.keys.SharedDevices(r.Context(), act, p.store())
	a.writeClientKeys(w, r, p, ks, err)
}

// OAuthClientJSON is an OAuth client as the API shows it.
type OAuthClientJSON struct {
	ID          string    `json:"id"` // the client_id
	Description string    `json:"description"`
	Prefix      string    `json:"prefix"`
	Status      string    `json:"status"`
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by"`
	// LastAccessedAt is when the client last got a token or used one (at most once a minute).
	LastAccessedAt *time.Time `json:"last_accessed_at"`
	ActivatedAt    *time.Time `json:"activated_at"`
	ExpiresAt      *time.Time `json:"expires_at"`
	Checked        bool       `json:"checked"` // got or used a token since it was created or last activated
	// ClientSecret appears only in the answer that creates the client.
	ClientSecret string `json:"client_secret,omitempty"`
}

func oauthClientJSON(c keys.OAuthClient) OAuthClientJSON {
	return OAuthClientJSON{ID: c.ID, Description: c.Description, Prefix: c.Prefix, Status: string(c.Status),
		CreatedAt: c.CreatedAt, CreatedBy: c.CreatedBy, LastAccessedAt: c.LastAccessedAt, ActivatedAt: c.ActivatedAt, ExpiresAt: c.ExpiresAt,
		Checked: c.UsedSinceActivation()}
}

type createOAuthClientReq struct {
	Description string `json:"description"`
	Active      *bool  `json:"active"` // absent: the portal's "new keys start inactive" setting
}

func (a *API) createOAuthClient(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	var req createOAuthClientReq
	if err := httpx.DecodeJSON(w, r, &req, false); err != nil {
		return
	}
	c, secret, err := a.keys.CreateOAuthClientWith(r.Context(), act, keys.NewOAuthClient{Description: req.Description, Active: req.Active})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := oauthClientJSON(c)
	out.ClientSecret = secret
	httpx.WriteJSON(w, http.StatusCreated, out)
}

func (a *API) listOAuthClients(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	p, ok := parsePage(w, r)
	if !ok {
		return
	}
	cs, err := a.keys.ListOAuthClients(r.Context(), act, p.store())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writePage(w, p, cs, keys.OAuthClient.Key, oauthClientJSON)
}

// moveClientKey gives a shared-secret device its own secret (own) or moves a key to the shared secret,
// keeping its ID; the answer holds the new secret when there is one.
func (a *API) moveClientKey(own bool) actorFunc {
	return func(w http.ResponseWriter, r *http.Request, act keys.Actor) {
		move := a.keys.UseSharedSecret
		if own {
			move = a.keys.GiveOwnSecret
		}
		c, err := move(r.Context(), act, r.PathValue("id"))
		if err != nil {
			a.fail(w, r, err)
			return
		}
		out := a.clientKeyJSON(c.Key)
		out.Secret = c.Secret
		httpx.WriteJSON(w, http.StatusOK, out)
	}
}

type expiryReq struct {
	ExpiresAt *time.Time `json:"expires_at"` // null: never
}

// setExpiry sets or clears when any key of the portal expires (print client secret, device, OAuth client,
// personal API key by its key ID).
func (a *API) setExpiry(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	var req expiryReq
	if err := httpx.DecodeJSON(w, r, &req, false); err != nil {
		return
	}
	if err := a.keys.SetExpiry(r.Context(), act, r.PathValue("id"), req.ExpiresAt); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) setOAuthClientActive(active bool) actorFunc {
	return func(w http.ResponseWriter, r *http.Request, act keys.Actor) {
		c, err := a.keys.SetOAuthClientActive(r.Context(), act, r.PathValue("id"), active)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		httpx.WriteJSON(w, http.StatusOK, oauthClientJSON(c))
	}
}

func (a *API) revokeOAuthClient(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	c, err := a.keys.RevokeOAuthClient(r.Context(), act, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, oauthClientJSON(c))
}

func (a *API) deleteOAuthClient(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	if err := a.keys.DeleteOAuthClient(r.Context(), act, r.PathValue("id")); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
