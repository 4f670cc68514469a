package api

import (
	"net/http"
	"strconv"

	"printdock/server/httpx"
	"printdock/server/keys"
	"printdock/server/webhooks"
)

// Webhooks is what the API calls to manage webhooks (administrators of the caller's portal).
type Webhooks = webhooks.Admin

// withWebhooks answers 503 when the API has no webhooks service.
func (a *API) withWebhooks(h actorFunc) actorFunc {
	return func(w http.ResponseWriter, r *http.Request, act keys.Actor) {
		if a.webhooks == nil {
			httpx.WriteError(w, http.StatusServiceUnavailable, httpx.CodeUnavailable, "webhooks are not available")
			return
		}
		h(w, r, act)
	}
}

func (a *API) webhookRoutes(m routeMux) {
	m.HandleFunc("POST /api/v1/webhooks", a.user(a.withWebhooks(a.createWebhook)))
	m.HandleFunc("GET /api/v1/webhooks", a.user(a.withWebhooks(a.listWebhooks)))
	m.HandleFunc("GET /api/v1/webhooks/{id}", a.user(a.withWebhooks(a.getWebhook)))
	m.HandleFunc("PATCH /api/v1/webhooks/{id}", a.user(a.withWebhooks(a.updateWebhook)))
	m.HandleFunc("DELETE /api/v1/webhooks/{id}", a.user(a.withWebhooks(a.deleteWebhook)))
	m.HandleFunc("GET /api/v1/webhooks/{id}/deliveries", a.user(a.withWebhooks(a.webhookDeliveries)))
	m.HandleFunc("POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/resend", a.user(a.withWebhooks(a.resendDelivery)))
	m.HandleFunc("GET /api/v1/events", a.user(a.eventStream))
}

func (a *API) createWebhook(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	var req webhooks.Create
	if err := httpx.DecodeJSON(w, r, &req, false); err != nil {
		return
	}
	h, err := a.webhooks.Create(r.Context(), act, req)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/webhooks/"+h.ID)
	httpx.WriteJSON(w, http.StatusCreated, h)
}

func (a *API) listWebhooks(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	hs, err := a.webhooks.List(r.Context(), act)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, page[webhooks.Webhook]{Items: hs})
}

func (a *API) getWebhook(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	h, err := a.webhooks.Get(r.Context(), act, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, h)
}

func (a *API) updateWebhook(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	var req webhooks.Patch
	if err := httpx.DecodeJSON(w, r, &req, false); err != nil {
		return
	}
	h, err := a.webhooks.Update(r.Context(), act, r.PathValue("id"), req)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, h)
}

func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	if err := a.webhooks.Delete(r.Context(), act, r.PathValue("id")); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// webhookDeliveries is GET /api/v1/webhooks/{id}/deliveries?limit=1..500 (newest first, default 100).
func (a *API) webhookDeliveries(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > webhooks.MaxDeliveries {
			httpx.WriteError(w, http.StatusBadRequest, httpx.CodeBadRequest, "limit must be 1..500")
			return
		}
		limit = n
	}
	ds, err := a.webhooks.Deliveries(r.Context(), act, r.PathValue("id"), limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, page[webhooks.Delivery]{Items: ds})
}

func (a *API) resendDelivery(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	id, err := strconv.ParseInt(r.PathValue("delivery_id"), 10, 64)
	if err != nil || id <= 0 {
		httpx.WriteError(w, http.StatusNotFound, httpx.CodeNotFound, "not found")
		return
	}
	d, err := a.webhooks.Resend(r.Context(), act, r.PathValue("id"), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusAccepted, d)
}
