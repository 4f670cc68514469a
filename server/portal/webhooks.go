package portal

import (
	"net/http"
	"strconv"
	"strings"

	"printdock/server/events"
	"printdock/server/keys"
	"printdock/server/webhooks"
)

// WebhooksView is what the Webhooks page calls (*webhooks.Service implements it).
type WebhooksView = webhooks.Admin

func (p *portal) webhookRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /webhooks", p.admin(p.webhooksPage))
	mux.HandleFunc("POST /webhooks", p.admin(p.createWebhook))
	mux.HandleFunc("GET /webhooks/{id}", p.admin(p.webhookPage))
	mux.HandleFunc("POST /webhooks/{id}/enable", p.admin(p.setWebhookEnabled(true)))
	mux.HandleFunc("POST /webhooks/{id}/disable", p.admin(p.setWebhookEnabled(false)))
	mux.HandleFunc("POST /webhooks/{id}/delete", p.admin(p.deleteWebhook))
	mux.HandleFunc("POST /webhooks/{id}/deliveries/{delivery}/resend", p.admin(p.resendDelivery))
}

type webhooksData struct {
	Available   bool
	Hooks       []webhooks.Webhook
	Types       []string
	URL         string
	Description string
	Checked     map[string]bool
}

func (p *portal) webhooksPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	p.renderWebhooks(w, r, c, http.StatusOK, "", webhooksData{})
}

func (p *portal) renderWebhooks(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, formErr string, d webhooksData) {
	d.Types, d.Available = events.Types, p.opts.Webhooks != nil
	if d.Available {
		hs, err := p.opts.Webhooks.List(r.Context(), c.actor)
		if err != nil {
			p.fail(w, r, c, err)
			return
		}
		d.Hooks = hs
	}
	v := p.newView(c, "Webhooks", "webhooks", d)
	v.Error = formErr
	p.render(w, r, status, "webhooks", v)
}

func (p *portal) createWebhook(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if p.opts.Webhooks == nil {
		p.fail(w, r, c, keys.ErrNotFound)
		return
	}
	d := webhooksData{URL: strings.TrimSpace(r.PostForm.Get("url")), Description: strings.TrimSpace(r.PostForm.Get("description")),
		Checked: map[string]bool{}}
	types := r.PostForm["events"]
	for _, t := range types {
		d.Checked[t] = true
	}
	h, err := p.opts.Webhooks.Create(r.Context(), c.actor, webhooks.Create{URL: d.URL, Events: types, Description: d.Description})
	if err != nil {
		if status, msg := statusOf(err); status == http.StatusBadRequest {
			p.renderWebhooks(w, r, c, status, msg, d)
			return
		}
		p.fail(w, r, c, err)
		return
	}
	evs := strings.Join(h.Events, ", ")
	if evs == "" {
		evs = "every event"
	}
	p.showSecrets(w, r, c, "webhooks", secretData{
		Heading: "Webhook created",
		Intro:   "Give this signing secret to the receiver: it verifies each delivery's webhook-signature header with it (Standard Webhooks).",
		Facts:   []fact{{"URL", h.URL}, {"Events", evs}, {"Webhook ID", h.ID}},
		Items:   []secretItem{p.secretItem(c, "Signing secret", "secret", h.Secret, "webhook-secret", h.Description)},
		Notes:   []string{"Deliveries that fail are retried with increasing pauses for 24 hours; the webhook's page shows each delivery and can send it again."},
		Back:    "/webhooks", BackLabel: "webhooks",
	})
}

func (p *portal) setWebhookEnabled(on bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *reqCtx) {
		if p.opts.Webhooks == nil {
			p.fail(w, r, c, keys.ErrNotFound)
			return
		}
		h, err := p.opts.Webhooks.Update(r.Context(), c.actor, r.PathValue("id"), webhooks.Patch{Enabled: &on})
		if err != nil {
			p.fail(w, r, c, err)
			return
		}
		msg := h.URL + " is enabled: it receives new events again."
		if !on {
			msg = h.URL + " is disabled: it receives no events, and deliveries already pending wait until it is enabled again."
		}
		p.redirectWith(w, r, c, "/webhooks", "ok", msg)
	}
}

func (p *portal) deleteWebhook(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if p.opts.Webhooks == nil {
		p.fail(w, r, c, keys.ErrNotFound)
		return
	}
	h, err := p.opts.Webhooks.Get(r.Context(), c.actor, r.PathValue("id"))
	if err == nil {
		err = p.opts.Webhooks.Delete(r.Context(), c.actor, h.ID)
	}
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	p.redirectWith(w, r, c, "/webhooks", "ok", h.URL+" is deleted, with its delivery log.")
}

type webhookData struct {
	Hook       webhooks.Webhook
	Deliveries []webhooks.Delivery
}

func (p *portal) webhookPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if p.opts.Webhooks == nil {
		p.fail(w, r, c, keys.ErrNotFound)
		return
	}
	h, err := p.opts.Webhooks.Get(r.Context(), c.actor, r.PathValue("id"))
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	ds, err := p.opts.Webhooks.Deliveries(r.Context(), c.actor, h.ID, 200)
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	p.render(w, r, http.StatusOK, "webhook", p.newView(c, "Webhook deliveries", "webhooks", webhookData{Hook: h, Deliveries: ds}))
}

func (p *portal) resendDelivery(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id := r.PathValue("id")
	did, err := strconv.ParseInt(r.PathValue("delivery"), 10, 64)
	if p.opts.Webhooks == nil || err != nil {
		p.fail(w, r, c, keys.ErrNotFound)
		return
	}
	d, err := p.opts.Webhooks.Resend(r.Context(), c.actor, id, did)
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	p.redirectWith(w, r, c, "/webhooks/"+id, "ok", "Delivery "+strconv.FormatInt(d.ID, 10)+" ("+d.MessageID+") will be sent again now.")
}
