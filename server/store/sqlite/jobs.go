package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"printdock/server/store"
)

// Clients.

const clientCols = `id, portal_id, credential_id, installation_id, hostname, agent_version, os, first_seen_at,
	last_seen_at, sessions, session_seq`

func scanClient(sc rowScanner) (store.Client, error) {
	var c store.Client
	var first, last int64
	err := sc.Scan(&c.ID, &c.PortalID, &c.CredentialID, &c.InstallationID, &c.Hostname, &c.AgentVersion, &c.OS,
		&first, &last, &c.Sessions, &c.SessionSeq)
	c.FirstSeenAt, c.LastSeenAt = ut(first), ut(last)
	return c, err
}

func (q q) ConnectClient(ctx context.Context, c store.Client) (store.Client, error) {
	got, err := scanClient(q.w.QueryRowContext(ctx, `INSERT INTO clients (`+clientCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 1)
		ON CONFLICT (id) DO UPDATE SET credential_id = excluded.credential_id,
			installation_id = excluded.installation_id, hostname = excluded.hostname,
			agent_version = excluded.agent_version, os = excluded.os, last_seen_at = excluded.last_seen_at,
			sessions = clients.sessions + 1, session_seq = clients.session_seq + 1
		RETURNING `+clientCols,
		c.ID, c.PortalID, c.CredentialID, c.InstallationID, c.Hostname, c.AgentVersion, c.OS,
		us(c.LastSeenAt), us(c.LastSeenAt)))
	return got, mapErr("connect client", err)
}

func (q q) DisconnectClient(ctx context.Context, id string, at time.Time) error {
	return q.exec1(ctx, "disconnect client", `UPDATE clients SET sessions = MAX(sessions - 1, 0), last_seen_at = ?
		WHERE id = ?`, us(at), id)
}

func (q q) ResetClientSessions(ctx context.Context) (int64, error) {
	return q.execN(ctx, "reset client sessions", `UPDATE clients SET sessions = 0 WHERE sessions <> 0`)
}

func (q q) GetClient(ctx context.Context, id string) (store.Client, error) {
	c, err := scanClient(q.r.QueryRowContext(ctx, `SELECT `+clientCols+` FROM clients WHERE id = ?`, id))
	return c, mapErr("get client", err)
}

func (q q) ListClients(ctx context.Context, portalID string) ([]store.Client, error) {
	return queryAll(ctx, q.r, "list clients", `SELECT `+clientCols+` FROM clients WHERE portal_id = ?
		ORDER BY first_seen_at, id`, []any{portalID}, scanClient)
}

// Printers.

const printerCols = `p.id, p.portal_id, p.client_id, p.uri, p.name, p.make, p.model, p.status, p.reason, p.present,
	p.first_seen_at, p.updated_at, c.sessions > 0`

const printerFrom = ` FROM printers p JOIN clients c ON c.id = p.client_id`

func scanPrinter(sc rowScanner) (store.Printer, error) {
	var p store.Printer
	var first, upd int64
	err := sc.Scan(&p.ID, &p.PortalID, &p.ClientID, &p.URI, &p.Name, &p.Make, &p.Model, &p.Status, &p.Reason,
		&p.Present, &first, &upd, &p.ClientOnline)
	p.FirstSeenAt, p.UpdatedAt = ut(first), ut(upd)
	return p, err
}

func (q q) UpsertPrinter(ctx context.Context, p store.Printer) error {
	_, err := q.w.ExecContext(ctx, `INSERT INTO printers (id, portal_id, client_id, uri, name, make, model, status,
		reason, present, first_seen_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, make = excluded.make, model = excluded.model,
			status = excluded.status, reason = excluded.reason, present = excluded.present,
			updated_at = excluded.updated_at`,
		p.ID, p.PortalID, p.ClientID, p.URI, p.Name, p.Make, p.Model, p.Status, p.Reason, p.Present,
		us(p.UpdatedAt), us(p.UpdatedAt))
	return mapErr("upsert printer", err)
}

func (q q) GetPrinter(ctx context.Context, id string) (store.Printer, error) {
	p, err := scanPrinter(q.r.QueryRowContext(ctx, `SELECT `+printerCols+printerFrom+` WHERE p.id = ?`, id))
	return p, mapErr("get printer", err)
}

func (q q) ListPrinters(ctx context.Context, f store.PrinterFilter) ([]store.Printer, error) {
	query := `SELECT ` + printerCols + printerFrom + ` WHERE p.portal_id = ?`
	args := []any{f.PortalID}
	if f.ClientID != "" {
		query += ` AND p.client_id = ?`
		args = append(args, f.ClientID)
	}
	query += ` ORDER BY p.name, p.uri, p.id`
	return queryAll(ctx, q.r, "list printers", query, args, scanPrinter)
}

// Jobs.

const jobCols = `j.id, j.portal_id, j.printer_id, j.client_id, p.uri, j.title, j.size, j.copies, j.idempotency_key,
	j.fingerprint, j.created_by, j.state, j.reason, j.attempts, j.sent_session, j.created_at, j.updated_at,
	j.expires_at, j.sent_at, j.received_at, j.printing_at, j.finished_at`

const jobFrom = ` FROM jobs j JOIN printers p ON p.id = j.printer_id`

func optTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := ut(v.Int64)
	return &t
}

func optUs(t *time.Time) any {
	if t == nil {
		return nil
	}
	return us(*t)
}

func scanJob(sc rowScanner, content bool) (store.Job, error) {
	var j store.Job
	var key sql.NullString
	var state string
	var created, updated, expires int64
	var sent, received, printing, finished sql.NullInt64
	dest := []any{&j.ID, &j.PortalID, &j.PrinterID, &j.ClientID, &j.PrinterURI, &j.Title, &j.Size, &j.Copies, &key,
		&j.Fingerprint, &j.CreatedBy, &state, &j.Reason, &j.Attempts, &j.SentSession, &created, &updated,
		&expires, &sent, &received, &printing, &finished}
	if content {
		dest = append(dest, &j.Content)
	}
	err := sc.Scan(dest...)
	j.IdempotencyKey, j.State = key.String, store.JobState(state)
	j.CreatedAt, j.UpdatedAt, j.ExpiresAt = ut(created), ut(updated), ut(expires)
	j.SentAt, j.ReceivedAt, j.PrintingAt, j.FinishedAt = optTime(sent), optTime(received), optTime(printing), optTime(finished)
	return j, err
}

func (q q) CreateJob(ctx context.Context, j store.Job) error {
	content := j.Content
	if content == nil {
		content = []byte{}
	}
	_, err := q.w.ExecContext(ctx, `INSERT INTO jobs (id, portal_id, printer_id, client_id, title, content, size,
		copies, idempotency_key, fingerprint, created_by, state, reason, attempts, sent_session, created_at,
		updated_at, expires_at, sent_at, received_at, printing_at, finished_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		j.ID, j.PortalID, j.PrinterID, j.ClientID, j.Title, content, len(content), j.Copies,
		nullStr(j.IdempotencyKey), j.Fingerprint, j.CreatedBy, string(j.State), j.Reason, j.Attempts,
		j.SentSession, us(j.CreatedAt), us(j.UpdatedAt), us(j.ExpiresAt), optUs(j.SentAt), optUs(j.ReceivedAt),
		optUs(j.PrintingAt), optUs(j.FinishedAt))
	return mapErr("create job", err)
}

func (q q) GetJob(ctx context.Context, id string) (store.Job, error) {
	j, err := scanJob(q.r.QueryRowContext(ctx, `SELECT `+jobCols+jobFrom+` WHERE j.id = ?`, id), false)
	return j, mapErr("get job", err)
}

func (q q) GetJobByIdempotencyKey(ctx context.Context, portalID, key string) (store.Job, error) {
	j, err := scanJob(q.r.QueryRowContext(ctx, `SELECT `+jobCols+jobFrom+`
		WHERE j.portal_id = ? AND j.idempotency_key = ?`, portalID, key), false)
	return j, mapErr("get job by idempotency key", err)
}

func (q q) JobContent(ctx context.Context, id string) ([]byte, error) {
	var b []byte
	err := q.r.QueryRowContext(ctx, `SELECT content FROM jobs WHERE id = ?`, id).Scan(&b)
	return b, mapErr("job content", err)
}

func (q q) ListJobs(ctx context.Context, f store.JobFilter) ([]store.Job, error) {
	var where []string
	var args []any
	if !f.AllPortals {
		where = append(where, `j.portal_id = ?`)
		args = append(args, f.PortalID)
	}
	if f.PrinterID != "" {
		where = append(where, `j.printer_id = ?`)
		args = append(args, f.PrinterID)
	}
	if f.ClientID != "" {
		where = append(where, `j.client_id = ?`)
		args = append(args, f.ClientID)
	}
	if len(f.States) > 0 {
		where = append(where, `j.state IN (?`+strings.Repeat(", ?", len(f.States)-1)+`)`)
		for _, s := range f.States {
			args = append(args, string(s))
		}
	}
	if !f.ExpiresBy.IsZero() {
		where = append(where, `j.expires_at <= ?`)
		args = append(args, us(f.ExpiresBy))
	}
	if f.Received != nil {
		if *f.Received {
			where = append(where, `j.received_at IS NOT NULL`)
		} else {
			where = append(where, `j.received_at IS NULL`)
		}
	}
	query := `SELECT ` + jobCols + jobFrom
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	switch {
	case f.OldestFirst && !f.ExpiresBy.IsZero():
		query += ` ORDER BY j.expires_at, j.created_at, j.id`
	case f.OldestFirst:
		query += ` ORDER BY j.created_at, j.id`
	default:
		query += ` ORDER BY j.created_at DESC, j.id DESC`
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	query += ` LIMIT ?`
	args = append(args, limit)
	return q.queryJobs(ctx, "list jobs", false, query, args...)
}

func (q q) queryJobs(ctx context.Context, op string, content bool, query string, args ...any) ([]store.Job, error) {
	return queryAll(ctx, q.r, op, query, args, func(sc rowScanner) (store.Job, error) { return scanJob(sc, content) })
}

func (q q) PendingJobs(ctx context.Context, clientID string, session int64, limit int) ([]store.Job, error) {
	if limit <= 0 {
		limit = 100
	}
	return q.queryJobs(ctx, "pending jobs", true, `SELECT `+jobCols+`, j.content`+jobFrom+`
		WHERE j.client_id = ? AND p.present <> 0 AND (j.state = 'queued'
			OR (j.state = 'sent' AND j.received_at IS NULL AND j.sent_session < ?))
		ORDER BY j.created_at, j.id LIMIT ?`, clientID, session, limit)
}

func isTerminal(s store.JobState) bool {
	switch s {
	case store.JobDone, store.JobFailed, store.JobCancelled, store.JobExpired:
		return true
	}
	return false
}

func (q q) UpdateJob(ctx context.Context, u store.JobUpdate) error {
	at := us(u.At)
	set := []string{`state = ?`, `reason = ?`, `updated_at = ?`}
	args := []any{string(u.To), u.Reason, at}
	if u.Sent {
		set = append(set, `sent_at = ?`, `attempts = attempts + 1`, `sent_session = ?`)
		args = append(args, at, u.Session)
	}
	if u.Received {
		set = append(set, `received_at = COALESCE(received_at, ?)`)
		args = append(args, at)
	}
	if u.To == store.JobPrinting {
		set = append(set, `printing_at = COALESCE(printing_at, ?)`)
		args = append(args, at)
	}
	if isTerminal(u.To) {
		set = append(set, `finished_at = ?`)
		args = append(args, at)
	}
	args = append(args, u.ID, string(u.From))
	n, err := q.execN(ctx, "update job", `UPDATE jobs SET `+strings.Join(set, ", ")+` WHERE id = ? AND state = ?`, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		var state string
		if err := q.w.QueryRowContext(ctx, `SELECT state FROM jobs WHERE id = ?`, u.ID).Scan(&state); err != nil {
			return mapErr("update job", err)
		}
		return fmt.Errorf("sqlite: update job: state is %s, not %s: %w", state, u.From, store.ErrConflict)
	}
	return nil
}

func (q q) AppendJobEvent(ctx context.Context, e store.JobEvent) (int64, error) {
	res, err := q.w.ExecContext(ctx, `INSERT INTO job_events (job_id, at, from_state, to_state, reason, actor)
		VALUES (?, ?, ?, ?, ?, ?)`, e.JobID, us(e.At), string(e.From), string(e.To), e.Reason, e.Actor)
	if err != nil {
		return 0, mapErr("append job event", err)
	}
	id, err := res.LastInsertId()
	return id, mapErr("append job event", err)
}

func (q q) ListJobEvents(ctx context.Context, jobID string) ([]store.JobEvent, error) {
	rows, err := q.r.QueryContext(ctx, `SELECT id, job_id, at, from_state, to_state, reason, actor FROM job_events
		WHERE job_id = ? ORDER BY id`, jobID)
	if err != nil {
		return nil, mapErr("list job events", err)
	}
	defer rows.Close()
	var out []store.JobEvent
	for rows.Next() {
		var e store.JobEvent
		var at int64
		var from, to string
		if err := rows.Scan(&e.ID, &e.JobID, &at, &from, &to, &e.Reason, &e.Actor); err != nil {
			return nil, mapErr("list job events", err)
		}
		e.At, e.From, e.To = ut(at), store.JobState(from), store.JobState(to)
		out = append(out, e)
	}
	return out, mapErr("list job events", rows.Err())
}
