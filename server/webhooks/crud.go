package webhooks

import (
	"context"

	"printdock/server/keys"
	"printdock/server/store"
)

// Create is a new webhook: URL, event types (empty or "*": all) and a description.
type Create struct {
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description"`
}

// Patch changes the fields it sets.
type Patch struct {
	URL         *string   `json:"url"`
	Events      *[]string `json:"events"`
	Description *string   `json:"description"`
	Enabled     *bool     `json:"enabled"`
}

// Create registers an enabled webhook (admin) and returns it with its signing secret, which is shown
// only here.
func (s *Service) Create(ctx context.Context, a keys.Actor, c Create) (Webhook, error) {
	if err := requireAdmin(a); err != nil {
		return Webhook{}, err
	}
	if err := s.checkURL(c.URL); err != nil {
		return Webhook{}, err
	}
	evs, err := checkEvents(c.Events)
	if err != nil {
		return Webhook{}, err
	}
	if err := checkDescription(c.Description); err != nil {
		return Webhook{}, err
	}
	have, err := s.st.ListWebhooks(ctx, a.PortalID)
	if err != nil {
		return Webhook{}, storeErr("create webhook", err)
	}
	if len(have) >= MaxPerPortal {
		return Webhook{}, invalid("a portal has at most %d webhooks", MaxPerPortal)
	}
	secret, raw := newSecret()
	sealed, err := s.seal(raw)
	if err != nil {
		return Webhook{}, err
	}
	now := s.now()
	w := store.Webhook{ID: newID("wh_"), PortalID: a.PortalID, URL: c.URL, Events: evs, Description: c.Description,
		Enabled: true, Secret: sealed, CreatedAt: now, CreatedBy: actorName(a), UpdatedAt: now}
	if err := s.st.CreateWebhook(ctx, w); err != nil {
		return Webhook{}, storeErr("create webhook", err)
	}
	s.log.InfoContext(ctx, "webhook created", "webhook_id", w.ID, "portal_id", w.PortalID, "by", w.CreatedBy)
	out := webhookOf(w)
	out.Secret = secret
	return out, nil
}

// List returns the portal's webhooks (admin).
func (s *Service) List(ctx context.Context, a keys.Actor) ([]Webhook, error) {
	if err := requireAdmin(a); err != nil {
		return nil, err
	}
	ws, err := s.st.ListWebhooks(ctx, a.PortalID)
	if err != nil {
		return nil, storeErr("list webhooks", err)
	}
	out := make([]Webhook, 0, len(ws))
	for _, w := range ws {
		out = append(out, webhookOf(w))
	}
	return out, nil
}

// Get returns one webhook of the portal (admin).
func (s *Service) Get(ctx context.Context, a keys.Actor, id string) (Webhook, error) {
	w, err := s.get(ctx, a, id)
	if err != nil {
		return Webhook{}, err
	}
	return webhookOf(w), nil
}

// Update changes a webhook (admin). A disabled webhook gets no deliveries of new events; those already
// pending wait until it is enabled again.
func (s *Service) Update(ctx context.Context, a keys.Actor, id string, p Patch) (Webhook, error) {
	w, err := s.get(ctx, a, id)
	if err != nil {
		return Webhook{}, err
	}
	if p.URL != nil {
		if err := s.checkURL(*p.URL); err != nil {
			return Webhook{}, err
		}
		w.URL = *p.URL
	}
	if p.Events != nil {
		if w.Events, err = checkEvents(*p.Events); err != nil {
			return Webhook{}, err
		}
	}
	if p.Description != nil {
		if err := checkDescription(*p.Description); err != nil {
			return Webhook{}, err
		}
		w.Description = *p.Description
	}
	if p.Enabled != nil {
		w.Enabled = *p.Enabled
	}
	w.UpdatedAt = s.now()
	if err := s.st.UpdateWebhook(ctx, w); err != nil {
		return Webhook{}, storeErr("update webhook", err)
	}
	return webhookOf(w), nil
}

// Delete deletes a webhook and its deliveries (admin).
func (s *Service) Delete(ctx context.Context, a keys.Actor, id string) error {
	w, err := s.get(ctx, a, id)
	if err != nil {
		return err
	}
	if err := s.st.DeleteWebhook(ctx, w.ID); err != nil {
		return storeErr("delete webhook", err)
	}
	s.log.InfoContext(ctx, "webhook deleted", "webhook_id", w.ID, "by", actorName(a))
	return nil
}

// MaxDeliveries bounds Deliveries' limit.
const MaxDeliveries = 500

// Deliveries returns a webhook's latest deliveries, newest first (admin; limit <= 0: 100).
func (s *Service) Deliveries(ctx context.Context, a keys.Actor, id string, limit int) ([]Delivery, error) {
	w, err := s.get(ctx, a, id)
	if err != nil {
		return nil, err
	}
	ds, err := s.st.ListDeliveries(ctx, w.ID, min(limit, MaxDeliveries))
	if err != nil {
		return nil, storeErr("list deliveries", err)
	}
	out := make([]Delivery, 0, len(ds))
	for _, d := range ds {
		out = append(out, deliveryOf(d))
	}
	return out, nil
}

// Resend sends a delivery again now, whatever its state (admin). Its receiver gets the same message ID.
func (s *Service) Resend(ctx context.Context, a keys.Actor, id string, deliveryID int64) (Delivery, error) {
	w, err := s.get(ctx, a, id)
	if err != nil {
		return Delivery{}, err
	}
	d, err := s.st.GetDelivery(ctx, deliveryID)
	if err == nil && d.WebhookID != w.ID {
		err = store.ErrNotFound
	}
	if err != nil {
		return Delivery{}, storeErr("resend delivery", err)
	}
	now := s.now()
	if err := s.st.ResendDelivery(ctx, d.ID, now); err != nil {
		return Delivery{}, storeErr("resend delivery", err)
	}
	d.State, d.NextAttemptAt = store.DeliveryPending, now
	s.log.InfoContext(ctx, "webhook delivery resent", "webhook_id", w.ID, "delivery_id", d.ID, "by", actorName(a))
	return deliveryOf(d), nil
}
