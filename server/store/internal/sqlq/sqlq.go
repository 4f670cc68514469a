// Package sqlq builds the SQL that the SQLite and PostgreSQL stores share: the filtered and ordered list
// queries (users, credentials, clients, printers, jobs, audit entries) with their keyset pagination (page.go), the job update, and the reading of an optimistic update's outcome. Each
// store passes its dialect as an Arg function, which records a query argument and returns its placeholder.
package sqlq

import (
	"fmt"
	"strings"
	"time"

	"printdock/server/store"
)

// Arg records v as the next argument of the query being built and returns its placeholder ("?" in
// SQLite, "$n" in PostgreSQL). It converts v to the dialect's stored form where they differ (SQLite
// stores a time.Time as Unix microseconds).
type Arg func(v any) string

// DefaultLimit is the number of rows a list returns when its filter sets no limit.
const DefaultLimit = 100

func limit(n int) int {
	if n <= 0 {
		return DefaultLimit
	}
	return n
}

// In returns "(p1, p2, …)" with a placeholder for each of vs (at least one).
func In[T any](arg Arg, vs []T) string {
	ps := make([]string, len(vs))
	for i, v := range vs {
		ps[i] = arg(v)
	}
	return "(" + strings.Join(ps, ", ") + ")"
}

// Strings converts a slice of string-like values (states, kinds) to their strings.
func Strings[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// ClientLive is the condition of the index jobs_client_live (migration 016): a client's jobs that are
// queued or sent. A query of a client's jobs states it, word for word, so that SQLite uses that index
// (it uses a partial index only for a query that repeats the index's condition).
const ClientLive = `j.state IN ('queued', 'sent')`

// live reports whether every state of states (at least one) is queued or sent.
func live(states []store.JobState) bool {
	for _, s := range states {
		if s != store.JobQueued && s != store.JobSent {
			return false
		}
	}
	return len(states) > 0
}

// Jobs returns what follows "SELECT … FROM jobs j JOIN printers p …" in ListJobs: the WHERE clause of f
// (none when f selects everything), the order and the limit.
func Jobs(f store.JobFilter, arg Arg) string {
	var where []string
	if !f.AllPortals {
		where = append(where, `j.portal_id = `+arg(f.PortalID))
	}
	if f.PrinterID != "" {
		where = append(where, `j.printer_id = `+arg(f.PrinterID))
	}
	if f.ClientID != "" {
		where = append(where, `j.client_id = `+arg(f.ClientID))
		if live(f.States) {
			where = append(where, ClientLive)
		}
	}
	if len(f.States) > 0 {
		where = append(where, `j.state IN `+In(arg, Strings(f.States)))
	}
	if !f.ExpiresBy.IsZero() {
		where = append(where, `j.expires_at <= `+arg(f.ExpiresBy))
	}
	if f.Received != nil {
		where = append(where, isSet(`j.received_at`, *f.Received))
	}
	if f.CancelRequested != nil {
		where = append(where, isSet(`j.cancel_requested_at`, *f.CancelRequested))
	}
	if f.IdempotencyKey != "" {
		where = append(where, `j.idempotency_key = `+arg(f.IdempotencyKey))
	}
	if !f.CreatedAfter.IsZero() {
		where = append(where, `j.created_at > `+arg(f.CreatedAfter))
	}
	if k := f.After; !k.IsZero() && f.ExpiresBy.IsZero() {
		op := ` < `
		if f.OldestFirst {
			op = ` > `
		}
		where = append(where, `(j.created_at, j.id)`+op+`(`+arg(k.At)+`, `+arg(k.ID)+`)`)
	}
	var sql string
	if len(where) > 0 {
		sql = ` WHERE ` + strings.Join(where, ` AND `)
	}
	switch {
	case f.OldestFirst && !f.ExpiresBy.IsZero():
		sql += ` ORDER BY j.expires_at, j.created_at, j.id`
	case f.OldestFirst:
		sql += ` ORDER BY j.created_at, j.id`
	default:
		sql += ` ORDER BY j.created_at DESC, j.id DESC`
	}
	return sql + ` LIMIT ` + arg(limit(f.Limit))
}

// isSet is "col IS NOT NULL" (set) or "col IS NULL".
func isSet(col string, set bool) string {
	if set {
		return col + ` IS NOT NULL`
	}
	return col + ` IS NULL`
}

// AuditCols are the columns ListAudit selects, in the order of store.AuditEntry's fields.
const AuditCols = `id, portal_id, at, actor, action, target, remote_addr, detail`

// Audit returns the whole ListAudit query for f.
func Audit(f store.AuditFilter, arg Arg) string {
	sql := `SELECT ` + AuditCols + ` FROM audit_log WHERE portal_id = ` + arg(f.PortalID)
	if f.Actor != "" {
		sql += ` AND actor = ` + arg(f.Actor)
	}
	if f.Action != "" {
		sql += ` AND action = ` + arg(f.Action)
	}
	if !f.Since.IsZero() {
		sql += ` AND at >= ` + arg(f.Since)
	}
	if !f.Until.IsZero() {
		sql += ` AND at < ` + arg(f.Until)
	}
	return sql + after(arg, f.After, true, `at, id`, f.After.At, f.After.Seq) + ` ORDER BY at DESC, id DESC LIMIT ` + arg(limit(f.Limit))
}

// JobUpdate returns the UPDATE statement of u (see store.JobUpdate): it changes the row only while the
// job is in u.From.
func JobUpdate(u store.JobUpdate, arg Arg) string {
	set := []string{`state = ` + arg(string(u.To)), `reason = ` + arg(u.Reason), `updated_at = ` + arg(u.At)}
	if u.Sent {
		set = append(set, `sent_at = `+arg(u.At), `attempts = attempts + 1`, `sent_session = `+arg(u.Session))
	}
	if u.Received {
		set = append(set, `received_at = COALESCE(received_at, `+arg(u.At)+`)`)
	}
	if u.CancelBy != "" {
		set = append(set, `cancel_requested_at = `+arg(u.At), `cancel_requested_by = `+arg(u.CancelBy))
	}
	if u.To == store.JobPrinting {
		set = append(set, `printing_at = COALESCE(printing_at, `+arg(u.At)+`)`)
	}
	if u.To.Terminal() {
		set = append(set, `finished_at = `+arg(u.At))
	}
	return `UPDATE jobs SET ` + strings.Join(set, ", ") + ` WHERE id = ` + arg(u.ID) + ` AND state = ` + arg(string(u.From))
}

// SendQueuedJob is the UPDATE … RETURNING of store.JobStore.SendQueuedJob; SendQueuedCols are the
// columns it returns.
func SendQueuedJob(arg Arg, id string, at time.Time) string {
	return `UPDATE jobs SET state = ` + arg(string(store.JobSent)) + `, reason = '', updated_at = ` + arg(at) +
		`, sent_at = ` + arg(at) + `, attempts = attempts + 1,
		sent_session = (SELECT c.session_seq FROM clients c WHERE c.id = jobs.client_id)
		WHERE id = ` + arg(id) + ` AND state = ` + arg(string(store.JobQueued)) + ` AND cancel_requested_at IS NULL
			AND expires_at > ` + arg(at) + ` RETURNING ` + SendQueuedCols
}

// SendQueuedCols are the columns SendQueuedJob returns, in store.Job's order.
const SendQueuedCols = `id, portal_id, printer_id, client_id, title, idempotency_key, attempts, sent_session, expires_at`

// AckJob is the UPDATE … RETURNING of store.JobStore.AckJob; AckCols are the columns it returns.
func AckJob(arg Arg, a store.JobAck) string {
	set := `state = ` + arg(string(a.To)) + `, reason = '', updated_at = ` + arg(a.At) +
		`, received_at = COALESCE(received_at, ` + arg(a.At) + `)`
	if a.Printing || a.To == store.JobPrinting {
		set += `, printing_at = COALESCE(printing_at, ` + arg(a.At) + `)`
	}
	if a.To.Terminal() {
		set += `, finished_at = ` + arg(a.At)
	}
	where := `id = ` + arg(a.ID) + ` AND client_id = ` + arg(a.ClientID) + ` AND state = ` + arg(string(a.From)) +
		` AND cancel_requested_at IS NULL`
	if a.Received {
		where += ` AND received_at IS NULL`
	}
	return `UPDATE jobs SET ` + set + ` WHERE ` + where + ` RETURNING ` + AckCols
}

// AckCols are the columns AckJob returns, in store.Job's order.
const AckCols = `id, portal_id, printer_id, client_id, title, idempotency_key`

// Optimistic completes a conditional update (UPDATE … WHERE id = … AND <expected state>) that changed n
// rows: nil when it changed the row; otherwise the error of current, which reads the row (store.ErrNotFound
// when it is gone), or store.ErrConflict with what current says of the row's actual state. op prefixes the
// error ("sqlite: update job").
func Optimistic(op string, n int64, current func() (string, error)) error {
	if n > 0 {
		return nil
	}
	why, err := current()
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return fmt.Errorf("%s: %s: %w", op, why, store.ErrConflict)
}

// DeleteFinishedJobs deletes at most limit jobs (their events go with them) that finished before before.
func DeleteFinishedJobs(arg Arg, before time.Time, limit int) string {
	return `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE finished_at IS NOT NULL AND finished_at < ` +
		arg(before) + ` ORDER BY finished_at LIMIT ` + arg(limit) + `)`
}

// DropJobPreviews deletes the stored previews of at most limit jobs that finished before before (their
// content goes at the same time: a preview shows the same customer data).
func DropJobPreviews(arg Arg, before time.Time, limit int) string {
	return `DELETE FROM job_preview WHERE job_id IN (SELECT v.job_id FROM job_preview v JOIN jobs j ON j.id = v.job_id
		WHERE j.finished_at IS NOT NULL AND j.finished_at < ` + arg(before) + ` LIMIT ` + arg(limit) + `)`
}

// DeleteAudit deletes at most limit audit entries recorded before before.
func DeleteAudit(arg Arg, before time.Time, limit int) string {
	return `DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ` + arg(before) +
		` ORDER BY at LIMIT ` + arg(limit) + `)`
}

// DeleteDeliveries deletes at most limit webhook deliveries that finished (delivered, or failed for
// good) before before; pending ones stay. Oldest first (ids grow with time).
func DeleteDeliveries(arg Arg, before time.Time, limit int) string {
	return `DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries WHERE state IN (` +
		arg(store.DeliveryDelivered) + `, ` + arg(store.DeliveryFailed) + `) AND COALESCE(delivered_at, last_attempt_at, created_at) < ` +
		arg(before) + ` ORDER BY id LIMIT ` + arg(limit) + `)`
}

// DeleteEvents deletes at most limit events recorded before before that have no pending delivery (their
// finished deliveries go with them, ON DELETE CASCADE). Oldest first.
func DeleteEvents(arg Arg, before time.Time, limit int) string {
	return `DELETE FROM events WHERE id IN (SELECT e.id FROM events e WHERE e.at < ` + arg(before) +
		` AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id AND d.state = ` +
		arg(store.DeliveryPending) + `) ORDER BY e.id LIMIT ` + arg(limit) + `)`
}
