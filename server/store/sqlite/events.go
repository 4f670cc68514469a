package sqlite

import (
	"context"
	"database/sql"
	"time"

	"printdock/server/store"
	"printdock/server/store/internal/sqlq"
)

// The event log and webhooks. SQLite has one writer, so event IDs commit in order.

// AppendEvent inserts the event; the trigger events_queue_deliveries (migration 015) queues its webhook
// deliveries in the same statement (sqlq.QueueDeliveries' rows).
func (q q) AppendEvent(ctx context.Context, e store.Event) (int64, error) {
	res, err := q.w.ExecContext(ctx, `INSERT INTO events (portal_id, type, at, subject, printer_id, data)
		VALUES (?, ?, ?, ?, ?, ?)`, e.PortalID, e.Type, us(e.At), e.Subject, e.PrinterID, e.Data)
	if err != nil {
		return 0, mapErr("append event", err)
	}
	id, err := res.LastInsertId()
	return id, mapErr("append event", err)
}

func scanEvent(sc rowScanner) (store.Event, error) {
	var e store.Event
	var at int64
	err := sc.Scan(&e.ID, &e.PortalID, &e.Type, &at, &e.Subject, &e.PrinterID, &e.Data)
	e.At = ut(at)
	return e, err
}

func (q q) ListEvents(ctx context.Context, f store.EventFilter) ([]store.Event, error) {
	var a args
	query := sqlq.Events(f, a.add)
	return queryAll(ctx, q.r, "list events", query, a, scanEvent)
}

func (q q) LastEventID(ctx context.Context, portalID string) (int64, error) {
	var id int64
	err := q.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM events WHERE portal_id = ?`, portalID).Scan(&id)
	return id, mapErr("last event id", err)
}

func scanWebhook(sc rowScanner) (store.Webhook, error) {
	var w store.Webhook
	var events string
	var created, updated int64
	err := sc.Scan(&w.ID, &w.PortalID, &w.URL, &events, &w.Description, &w.Enabled, &w.Secret, &created,
		&w.CreatedBy, &updated)
	w.Events, w.CreatedAt, w.UpdatedAt = sqlq.ParseWebhookEvents(events), ut(created), ut(updated)
	return w, err
}

func (q q) CreateWebhook(ctx context.Context, w store.Webhook) error {
	q.h.noWebhooks.Store(false)
	var a args
	_, err := q.w.ExecContext(ctx, sqlq.CreateWebhook(a.add, w), a...)
	return mapErr("create webhook", err)
}

func (q q) GetWebhook(ctx context.Context, id string) (store.Webhook, error) {
	w, err := scanWebhook(q.r.QueryRowContext(ctx, `SELECT `+sqlq.WebhookCols+` FROM webhooks WHERE id = ?`, id))
	return w, mapErr("get webhook", err)
}

func (q q) ListWebhooks(ctx context.Context, portalID string, p store.Page) ([]store.Webhook, error) {
	var a args
	return queryAll(ctx, q.r, "list webhooks", sqlq.Webhooks(portalID, p, a.add), a, scanWebhook)
}

func (q q) UpdateWebhook(ctx context.Context, w store.Webhook) error {
	q.h.noWebhooks.Store(false)
	var a args
	return q.exec1(ctx, "update webhook", sqlq.UpdateWebhook(a.add, w), a...)
}

func (q q) DeleteWebhook(ctx context.Context, id string) error {
	return q.exec1(ctx, "delete webhook", `DELETE FROM webhooks WHERE id = ?`, id)
}

func scanDelivery(sc rowScanner) (store.WebhookDelivery, error) {
	var d store.WebhookDelivery
	var created, next int64
	var last, delivered sql.NullInt64
	err := sc.Scan(&d.ID, &d.WebhookID, &d.EventID, &d.Subject, &d.State, &d.Attempts, &created, &next, &last,
		&d.LastStatus, &d.LastError, &delivered)
	d.CreatedAt, d.NextAttemptAt, d.LastAttemptAt, d.DeliveredAt = ut(created), ut(next), optTime(last), optTime(delivered)
	return d, err
}

func (q q) ListDeliveries(ctx context.Context, webhookID string, p store.Page) ([]store.WebhookDelivery, error) {
	var a args
	return queryAll(ctx, q.r, "list deliveries", sqlq.Deliveries(webhookID, p, a.add), a, scanDelivery)
}

func (q q) GetDelivery(ctx context.Context, id int64) (store.WebhookDelivery, error) {
	d, err := scanDelivery(q.r.QueryRowContext(ctx, `SELECT `+sqlq.DeliveryCols+` FROM webhook_deliveries WHERE id = ?`, id))
	return d, mapErr("get delivery", err)
}

// ClaimDeliveries leases in one UPDATE … RETURNING on the single writer: no other claim runs meanwhile.
// While no webhook is enabled (hints) there is nothing to claim and the writer is left alone: the webhook
// sender claims after every commit that recorded events.
func (q q) ClaimDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]store.WebhookDelivery, error) {
	if q.h.noWebhooks.Load() {
		return nil, nil
	}
	var out []store.WebhookDelivery
	err := q.atomic(ctx, func(w execer) error {
		var a args
		lease := sqlq.LeaseDeliveries(a.add, leaseUntil, func() string { return sqlq.DueDeliveries(a.add, now, limit) })
		var err error
		out, err = queryAll(ctx, w, "claim deliveries", lease, a, scanDelivery)
		return err
	})
	return out, err
}

func (q q) FinishDelivery(ctx context.Context, r store.DeliveryResult) error {
	var a args
	return q.exec1(ctx, "finish delivery", sqlq.FinishDelivery(a.add, r), a...)
}

func (q q) ResendDelivery(ctx context.Context, id int64, at time.Time) error {
	var a args
	return q.exec1(ctx, "resend delivery", sqlq.ResendDelivery(a.add, id, at), a...)
}
