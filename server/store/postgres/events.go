package postgres

import (
	"context"
	"time"

	"printdock/server/store"
	"printdock/server/store/internal/sqlq"
)

// The event log and webhooks.
//
// Event IDs come from an identity column, which hands out numbers in the order transactions ask, not the
// order they commit. So that a reader that has seen ID N never later finds a new event below N (the event
// stream resumes from an ID), AppendEvent first takes a transaction-level advisory lock: event-writing
// transactions commit one after another, each holding the lock from its first event to its commit. A
// transaction that has written an event and then waits for a row another event writer holds is a deadlock,
// which PostgreSQL breaks and the store retries.
const eventLock = 0x7064_6576_656e_7473 // "pdevents"

// typed is an Arg that casts each placeholder to its value's type: in INSERT … SELECT and SELECT lists
// PostgreSQL cannot infer them.
func (a *args) typed(v any) string {
	p := a.add(v)
	switch v.(type) {
	case time.Time:
		return p + "::timestamptz"
	case bool:
		return p + "::boolean"
	case int64:
		return p + "::bigint"
	case string:
		return p + "::text"
	}
	return p
}

func (q q) AppendEvent(ctx context.Context, e store.Event) (int64, error) {
	var a args
	sql := `WITH lock AS (SELECT pg_advisory_xact_lock(` + a.typed(int64(eventLock)) + `)),
		ev AS (INSERT INTO events (portal_id, type, at, subject, printer_id, data)
			SELECT ` + a.typed(e.PortalID) + `, ` + a.typed(e.Type) + `, ` + a.typed(e.At) + `, ` + a.typed(e.Subject) + `, ` +
		a.typed(e.PrinterID) + `, ` + a.typed(e.Data) + ` FROM lock RETURNING id),
		d AS (` + sqlq.QueueDeliveries(a.typed, e, func() string { return `(SELECT id FROM ev)` }) + `)
		SELECT id FROM ev`
	var id int64
	err := q.row(ctx, "append event", sql, func(sc scanner) error { return sc.Scan(&id) }, a...)
	return id, err
}

func scanEvent(sc scanner) (store.Event, error) {
	var e store.Event
	err := sc.Scan(&e.ID, &e.PortalID, &e.Type, &e.At, &e.Subject, &e.PrinterID, &e.Data)
	e.At = utc(e.At)
	return e, err
}

func (q q) ListEvents(ctx context.Context, f store.EventFilter) ([]store.Event, error) {
	var a args
	sql := sqlq.Events(f, a.add)
	return list(ctx, q.committed(), "list events", sql, scanEvent, a...)
}

func (q q) LastEventID(ctx context.Context, portalID string) (int64, error) {
	var id int64
	err := q.committed().row(ctx, "last event id", `SELECT COALESCE(MAX(id), 0) FROM events WHERE portal_id = $1`,
		func(sc scanner) error { return sc.Scan(&id) }, portalID)
	return id, err
}

func scanWebhook(sc scanner) (store.Webhook, error) {
	var w store.Webhook
	var events string
	err := sc.Scan(&w.ID, &w.PortalID, &w.URL, &events, &w.Description, &w.Enabled, &w.Secret, &w.CreatedAt,
		&w.CreatedBy, &w.UpdatedAt)
	w.Events, w.CreatedAt, w.UpdatedAt = sqlq.ParseWebhookEvents(events), utc(w.CreatedAt), utc(w.UpdatedAt)
	return w, err
}

func (q q) CreateWebhook(ctx context.Context, w store.Webhook) error {
	var a args
	_, err := q.exec(ctx, "create webhook", sqlq.CreateWebhook(a.add, w), a...)
	return err
}

func (q q) GetWebhook(ctx context.Context, id string) (store.Webhook, error) {
	return one(ctx, q, "get webhook", `SELECT `+sqlq.WebhookCols+` FROM webhooks WHERE id = $1`, scanWebhook, id)
}

func (q q) ListWebhooks(ctx context.Context, portalID string, p store.Page) ([]store.Webhook, error) {
	var a args
	return list(ctx, q, "list webhooks", sqlq.Webhooks(portalID, p, a.add), scanWebhook, a...)
}

func (q q) UpdateWebhook(ctx context.Context, w store.Webhook) error {
	var a args
	return q.exec1(ctx, "update webhook", sqlq.UpdateWebhook(a.add, w), a...)
}

func (q q) DeleteWebhook(ctx context.Context, id string) error {
	return q.exec1(ctx, "delete webhook", `DELETE FROM webhooks WHERE id = $1`, id)
}

func scanDelivery(sc scanner) (store.WebhookDelivery, error) {
	var d store.WebhookDelivery
	err := sc.Scan(&d.ID, &d.WebhookID, &d.EventID, &d.Subject, &d.State, &d.Attempts, &d.CreatedAt, &d.NextAttemptAt,
		&d.LastAttemptAt, &d.LastStatus, &d.LastError, &d.DeliveredAt)
	d.CreatedAt, d.NextAttemptAt = utc(d.CreatedAt), utc(d.NextAttemptAt)
	d.LastAttemptAt, d.DeliveredAt = optUTC(d.LastAttemptAt), optUTC(d.DeliveredAt)
	return d, err
}

func (q q) ListDeliveries(ctx context.Context, webhookID string, p store.Page) ([]store.WebhookDelivery, error) {
	var a args
	return list(ctx, q, "list deliveries", sqlq.Deliveries(webhookID, p, a.add), scanDelivery, a...)
}

func (q q) GetDelivery(ctx context.Context, id int64) (store.WebhookDelivery, error) {
	return one(ctx, q, "get delivery", `SELECT `+sqlq.DeliveryCols+` FROM webhook_deliveries WHERE id = $1`,
		scanDelivery, id)
}

// ClaimDeliveries leases in one statement: FOR UPDATE SKIP LOCKED passes over rows another replica is
// claiming at the same moment, and a claim that committed moved next_attempt_at past now.
func (q q) ClaimDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]store.WebhookDelivery, error) {
	var a args
	sql := sqlq.LeaseDeliveries(a.add, leaseUntil, func() string {
		return sqlq.DueDeliveries(a.add, now, limit) + ` FOR UPDATE OF d SKIP LOCKED`
	})
	return list(ctx, q, "claim deliveries", sql, scanDelivery, a...)
}

func (q q) FinishDelivery(ctx context.Context, r store.DeliveryResult) error {
	var a args
	return q.exec1(ctx, "finish delivery", sqlq.FinishDelivery(a.typed, r), a...)
}

func (q q) ResendDelivery(ctx context.Context, id int64, at time.Time) error {
	var a args
	return q.exec1(ctx, "resend delivery", sqlq.ResendDelivery(a.add, id, at), a...)
}
