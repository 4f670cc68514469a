package store

import (
	"context"
	"time"
)

// Event is one entry of the durable event log (package events owns the types and their data). IDs
// increase in commit order: a reader that has seen id N never later finds a new event below N.
type Event struct {
	ID       int64
	PortalID string
	Type     string
	At       time.Time
	// Subject orders webhook deliveries: a later event of the same subject is not sent to an endpoint
	// while an earlier one to it is pending (a job, client, printer or credential ID).
	Subject   string
	PrinterID string // "" when the event concerns no printer
	Data      string // JSON; never a secret
}

// EventFilter selects events of one portal with ID > After, oldest first.
type EventFilter struct {
	PortalID  string
	After     int64
	Types     []string // any of them; all when empty
	PrinterID string
	Limit     int // <= 0: 100
}

// EventStore persists the event log.
type EventStore interface {
	// AppendEvent records e (its ID is assigned) and, in the same transaction, queues one pending
	// delivery (due at e.At) to every enabled webhook of the portal that takes e.Type. It returns the ID,
	// except inside a SQLite write transaction, which writes the row at commit and returns 0.
	AppendEvent(ctx context.Context, e Event) (int64, error)
	ListEvents(ctx context.Context, f EventFilter) ([]Event, error)
	// LastEventID is the highest event ID of the portal (0 when it has none).
	LastEventID(ctx context.Context, portalID string) (int64, error)
}

// Webhook delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// Webhook is an endpoint that receives a portal's events.
type Webhook struct {
	ID          string
	PortalID    string
	URL         string
	Events      []string // event types; empty: all
	Description string
	Enabled     bool
	Secret      []byte // the signing secret, sealed (package webhooks)
	CreatedAt   time.Time
	CreatedBy   string
	UpdatedAt   time.Time
}

// WebhookDelivery is one event sent (or to send) to one webhook.
type WebhookDelivery struct {
	ID            int64
	WebhookID     string
	EventID       int64
	Subject       string
	State         string
	Attempts      int
	CreatedAt     time.Time
	NextAttemptAt time.Time
	LastAttemptAt *time.Time
	LastStatus    int // HTTP status of the last attempt; 0 when none was received
	LastError     string
	DeliveredAt   *time.Time
}

// DeliveryResult records one attempt of a delivery (FinishDelivery).
type DeliveryResult struct {
	ID            int64
	State         string // pending (retry at NextAttemptAt), delivered or failed
	At            time.Time
	NextAttemptAt time.Time
	Status        int
	Error         string
}

// WebhookStore persists webhooks and their deliveries.
type WebhookStore interface {
	CreateWebhook(ctx context.Context, w Webhook) error
	GetWebhook(ctx context.Context, id string) (Webhook, error)
	// ListWebhooks returns a page of the portal's webhooks, oldest first (key: TimeKey(CreatedAt, ID)).
	ListWebhooks(ctx context.Context, portalID string, p Page) ([]Webhook, error)
	// UpdateWebhook sets url, events, description, enabled and updated_at.
	UpdateWebhook(ctx context.Context, w Webhook) error
	DeleteWebhook(ctx context.Context, id string) error // and its deliveries
	// ListDeliveries returns a page of a webhook's deliveries, newest first (key: Key{Seq: ID}; a page
	// without a limit has 100 rows).
	ListDeliveries(ctx context.Context, webhookID string, p Page) ([]WebhookDelivery, error)
	GetDelivery(ctx context.Context, id int64) (WebhookDelivery, error)
	// ClaimDeliveries leases at most limit pending deliveries due at now, of enabled webhooks, that have
	// no pending delivery of an earlier event of the same subject to the same webhook: it counts an
	// attempt and moves next_attempt_at to leaseUntil, so no other caller (replica) claims them before
	// the lease ends. Oldest due first.
	ClaimDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]WebhookDelivery, error)
	FinishDelivery(ctx context.Context, r DeliveryResult) error
	// ResendDelivery makes a delivery pending and due at `at` again.
	ResendDelivery(ctx context.Context, id int64, at time.Time) error
}
