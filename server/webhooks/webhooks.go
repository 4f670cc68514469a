// Package webhooks owns printdock-server's webhooks: the endpoints a portal's administrators register
// (URL, event types, description, enabled), their signing secrets (Standard Webhooks: "whsec_" + base64,
// shown once, kept sealed with a key derived from the server's pepper), and the delivery of the event log
// (package events) to them: Sender claims due deliveries from the store's outbox (one row per event and
// endpoint, written with the event), signs and POSTs them through an HTTP client that refuses private,
// loopback and link-local addresses at dial time (ssrf.go), and retries with exponential backoff and
// jitter for a day before marking a delivery failed — in order per subject (a job's events arrive in
// the order they happened) and, with replicas, claimed by one replica only.
package webhooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"printdock/server/events"
	"printdock/server/keys"
	"printdock/server/store"
)

// Limits.
const (
	MaxURLLen         = 2048
	MaxDescriptionLen = 256
	MaxPerPortal      = 50
)

// Store is what the package needs of its store (store/sqlite, store/postgres).
type Store interface {
	store.WebhookStore
	ListEvents(ctx context.Context, f store.EventFilter) ([]store.Event, error)
}

// Admin is what the REST API and the portal call: a portal's administrators manage its webhooks
// (*Service implements it).
type Admin interface {
	Create(ctx context.Context, a keys.Actor, c Create) (Webhook, error)
	List(ctx context.Context, a keys.Actor) ([]Webhook, error)
	Get(ctx context.Context, a keys.Actor, id string) (Webhook, error)
	Update(ctx context.Context, a keys.Actor, id string, p Patch) (Webhook, error)
	Delete(ctx context.Context, a keys.Actor, id string) error
	Deliveries(ctx context.Context, a keys.Actor, id string, limit int) ([]Delivery, error)
	Resend(ctx context.Context, a keys.Actor, id string, deliveryID int64) (Delivery, error)
}

var _ Admin = (*Service)(nil)

// Webhook is an endpoint as the API shows it.
type Webhook struct {
	ID          string    `json:"id"`
	URL         string    `json:"url"`
	Events      []string  `json:"events"` // empty: every event type
	Description string    `json:"description"`
	Enabled     bool      `json:"enabled"`
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by"`
	UpdatedAt   time.Time `json:"updated_at"`
	// Secret is the signing secret, only in the answer that creates the webhook.
	Secret string `json:"secret,omitempty"`
}

func webhookOf(w store.Webhook) Webhook {
	evs := w.Events
	if evs == nil {
		evs = []string{}
	}
	return Webhook{ID: w.ID, URL: w.URL, Events: evs, Description: w.Description, Enabled: w.Enabled,
		CreatedAt: w.CreatedAt, CreatedBy: w.CreatedBy, UpdatedAt: w.UpdatedAt}
}

// Delivery is one event sent (or to send) to a webhook.
type Delivery struct {
	ID            int64      `json:"id"`
	EventID       int64      `json:"event_id"`
	MessageID     string     `json:"message_id"` // the webhook-id header
	State         string     `json:"state"`      // pending, delivered, failed
	Attempts      int        `json:"attempts"`
	CreatedAt     time.Time  `json:"created_at"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"` // pending only
	LastAttemptAt *time.Time `json:"last_attempt_at,omitempty"`
	LastStatus    int        `json:"last_status,omitempty"`
	LastError     string     `json:"last_error,omitempty"`
	DeliveredAt   *time.Time `json:"delivered_at,omitempty"`
}

// MessageID is the webhook-id of an event: the same for every attempt and endpoint, so receivers can
// recognise a repeat.
func MessageID(eventID int64) string { return fmt.Sprintf("evt_%d", eventID) }

func deliveryOf(d store.WebhookDelivery) Delivery {
	out := Delivery{ID: d.ID, EventID: d.EventID, MessageID: MessageID(d.EventID), State: d.State, Attempts: d.Attempts,
		CreatedAt: d.CreatedAt, LastAttemptAt: d.LastAttemptAt, LastStatus: d.LastStatus, LastError: d.LastError,
		DeliveredAt: d.DeliveredAt}
	if d.State == store.DeliveryPending {
		next := d.NextAttemptAt
		out.NextAttemptAt = &next
	}
	return out
}

// Options configure a Service.
type Options struct {
	Store  Store
	Pepper []byte // the server's pepper: the secrets' sealing key is derived from it
	Log    *slog.Logger
	Clock  func() time.Time
	// AllowPrivate lets webhooks reach private, loopback and link-local addresses
	// (--webhooks-allow-private).
	AllowPrivate bool
}

// Service manages webhooks (admins of their portal).
type Service struct {
	st    Store
	o     Options
	log   *slog.Logger
	sealK []byte
}

// New returns a Service.
func New(o Options) *Service {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{st: o.Store, o: o, log: log.With("component", "webhooks"), sealK: sealKey(o.Pepper)}
}

func (s *Service) now() time.Time { return s.o.Clock().UTC().Truncate(time.Microsecond) }

func requireAdmin(a keys.Actor) error {
	if a.PortalID == "" || a.Role != keys.RoleAdmin {
		return fmt.Errorf("webhooks: administrator role required: %w", keys.ErrForbidden)
	}
	return nil
}

func actorName(a keys.Actor) string { return keys.ActorName(a) }

func invalid(format string, args ...any) error {
	return fmt.Errorf("webhooks: %s: %w", fmt.Sprintf(format, args...), keys.ErrInvalid)
}

// checkURL validates a webhook URL: http or https, a host, no fragment; a literal address must be
// public unless AllowPrivate (names are checked when dialled).
func (s *Service) checkURL(raw string) error {
	if raw == "" || len(raw) > MaxURLLen {
		return invalid("url is required (at most %d characters)", MaxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Hostname() == "" {
		return invalid("url must be an absolute http or https URL")
	}
	if u.Fragment != "" || u.User != nil {
		return invalid("url must have no fragment and no user information")
	}
	if !s.o.AllowPrivate {
		if err := checkHost(u.Hostname()); err != nil {
			return invalid("url: %v", err)
		}
	}
	return nil
}

func checkEvents(evs []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, e := range evs {
		if e == "*" {
			return nil, nil
		}
		if !events.Known(e) {
			return nil, invalid("unknown event type %q (known: %s)", e, strings.Join(events.Types, ", "))
		}
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out, nil
}

func checkDescription(d string) error {
	if utf8.RuneCountInString(d) > MaxDescriptionLen || !utf8.ValidString(d) {
		return invalid("description: at most %d characters of UTF-8", MaxDescriptionLen)
	}
	return nil
}

// get returns the actor's portal's webhook (ErrNotFound for another portal's).
func (s *Service) get(ctx context.Context, a keys.Actor, id string) (store.Webhook, error) {
	if err := requireAdmin(a); err != nil {
		return store.Webhook{}, err
	}
	w, err := s.st.GetWebhook(ctx, id)
	if err == nil && w.PortalID != a.PortalID {
		err = store.ErrNotFound
	}
	return w, storeErr("get webhook", err)
}

func storeErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("webhooks: %s: %w", op, keys.ErrNotFound)
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("webhooks: %s: %w", op, keys.ErrConflict)
	}
	return fmt.Errorf("webhooks: %s: %w", op, err)
}
