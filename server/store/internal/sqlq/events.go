package sqlq

import (
	"strings"
	"time"

	"printdock/server/store"
)

// The event log and webhooks (store.EventStore, store.WebhookStore).

// EventCols is the columns of events, in the order of store.Event's fields.
const EventCols = `id, portal_id, type, at, subject, printer_id, data`

// WebhookCols is the columns of webhooks, in the order of store.Webhook's fields.
const WebhookCols = `id, portal_id, url, events, description, enabled, secret, created_at, created_by, updated_at`

// DeliveryCols is the columns of webhook_deliveries, in the order of store.WebhookDelivery's fields.
const DeliveryCols = `id, webhook_id, event_id, subject, state, attempts, created_at, next_attempt_at,
	last_attempt_at, last_status, last_error, delivered_at`

// WebhookEvents is the stored form of a webhook's event types: space-separated ("" for all).
func WebhookEvents(types []string) string { return strings.Join(types, " ") }

// ParseWebhookEvents reverses WebhookEvents.
func ParseWebhookEvents(s string) []string { return strings.Fields(s) }

// QueueDeliveries returns the INSERT … SELECT that queues e to the portal's enabled webhooks that take its
// type. eventID returns the SQL of the event's ID (a placeholder or a column); it is called in textual
// order with arg, as SQLite's positional placeholders need.
func QueueDeliveries(arg Arg, e store.Event, eventID func() string) string {
	q := `INSERT INTO webhook_deliveries (webhook_id, event_id, subject, state, created_at, next_attempt_at)
		SELECT w.id, ` + eventID()
	q += `, ` + arg(e.Subject) + `, ` + arg(store.DeliveryPending) + `, ` + arg(e.At) + `, ` + arg(e.At)
	q += ` FROM webhooks w WHERE w.portal_id = ` + arg(e.PortalID) + ` AND w.enabled = ` + arg(true)
	return q + ` AND (w.events = '' OR ' ' || w.events || ' ' LIKE ` + likeType(arg, e.Type) + `)`
}

// likeType is the LIKE pattern matching typ in a space-separated list: a literal when typ is a plain
// event type (they are a fixed set), a placeholder otherwise. SQLite re-prepares a statement whenever a
// bound LIKE pattern changes (its LIKE optimization depends on the value), which cost a fifth of the
// single writer's time under load; a literal is planned once per type and cached.
func likeType(arg Arg, typ string) string {
	plain := typ != "" && !strings.ContainsFunc(typ, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-')
	})
	if !plain {
		return arg("% " + typ + " %")
	}
	return `'% ` + typ + ` %'`
}

// Events returns the SELECT of ListEvents.
func Events(f store.EventFilter, arg Arg) string {
	q := `SELECT ` + EventCols + ` FROM events WHERE portal_id = ` + arg(f.PortalID) + ` AND id > ` + arg(f.After)
	if len(f.Types) > 0 {
		q += ` AND type IN ` + In(arg, f.Types)
	}
	if f.PrinterID != "" {
		q += ` AND printer_id = ` + arg(f.PrinterID)
	}
	return q + ` ORDER BY id LIMIT ` + arg(limit(f.Limit))
}

// DueDeliveries returns the SELECT of the IDs ClaimDeliveries leases (without a locking clause).
func DueDeliveries(arg Arg, now time.Time, n int) string {
	q := `SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
		WHERE d.state = ` + arg(store.DeliveryPending)
	q += ` AND d.next_attempt_at <= ` + arg(now)
	q += ` AND w.enabled = ` + arg(true)
	q += ` AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.webhook_id = d.webhook_id
			AND e.subject = d.subject AND e.event_id < d.event_id AND e.state = ` + arg(store.DeliveryPending) + `)`
	return q + ` ORDER BY d.next_attempt_at, d.id LIMIT ` + arg(n)
}

// LeaseDeliveries returns the UPDATE that leases the deliveries whose IDs ids (a subquery, built when
// called) selects.
func LeaseDeliveries(arg Arg, leaseUntil time.Time, ids func() string) string {
	q := `UPDATE webhook_deliveries SET next_attempt_at = ` + arg(leaseUntil) + `, attempts = attempts + 1
		WHERE id IN (`
	return q + ids() + `) RETURNING ` + DeliveryCols
}

// FinishDelivery returns the UPDATE of FinishDelivery.
func FinishDelivery(arg Arg, r store.DeliveryResult) string {
	delivered := any(nil)
	if r.State == store.DeliveryDelivered {
		delivered = r.At
	}
	return `UPDATE webhook_deliveries SET state = ` + arg(r.State) + `, next_attempt_at = ` + arg(r.NextAttemptAt) + `,
		last_attempt_at = ` + arg(r.At) + `, last_status = ` + arg(r.Status) + `, last_error = ` + arg(r.Error) + `,
		delivered_at = COALESCE(delivered_at, ` + arg(delivered) + `) WHERE id = ` + arg(r.ID)
}

// ResendDelivery returns the UPDATE of ResendDelivery.
func ResendDelivery(arg Arg, id int64, at time.Time) string {
	return `UPDATE webhook_deliveries SET state = ` + arg(store.DeliveryPending) + `, next_attempt_at = ` + arg(at) +
		` WHERE id = ` + arg(id)
}

// UpdateWebhook returns the UPDATE of UpdateWebhook.
func UpdateWebhook(arg Arg, w store.Webhook) string {
	return `UPDATE webhooks SET url = ` + arg(w.URL) + `, events = ` + arg(WebhookEvents(w.Events)) + `,
		description = ` + arg(w.Description) + `, enabled = ` + arg(w.Enabled) + `, updated_at = ` + arg(w.UpdatedAt) +
		` WHERE id = ` + arg(w.ID)
}

// CreateWebhook returns the INSERT of CreateWebhook.
func CreateWebhook(arg Arg, w store.Webhook) string {
	return `INSERT INTO webhooks (` + WebhookCols + `) VALUES (` + arg(w.ID) + `, ` + arg(w.PortalID) + `, ` +
		arg(w.URL) + `, ` + arg(WebhookEvents(w.Events)) + `, ` + arg(w.Description) + `, ` + arg(w.Enabled) + `, ` +
		arg(w.Secret) + `, ` + arg(w.CreatedAt) + `, ` + arg(w.CreatedBy) + `, ` + arg(w.UpdatedAt) + `)`
}
