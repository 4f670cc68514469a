package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"printdock/server/store"
	"printdock/server/store/internal/sqlq"
)

// Jobs.

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
	var sent, received, printing, finished, cancelAt sql.NullInt64
	dest := []any{&j.ID, &j.PortalID, &j.PrinterID, &j.ClientID, &j.PrinterURI, &j.Title, &j.Size, &j.Copies, &key,
		&j.Fingerprint, &j.CreatedBy, &state, &j.Reason, &j.Attempts, &j.SentSession, &created, &updated,
		&expires, &sent, &received, &printing, &finished, &cancelAt, &j.CancelRequestedBy}
	if content {
		dest = append(dest, &j.Content)
	}
	err := sc.Scan(dest...)
	j.IdempotencyKey, j.State = key.String, store.JobState(state)
	j.CreatedAt, j.UpdatedAt, j.ExpiresAt = ut(created), ut(updated), ut(expires)
	j.SentAt, j.ReceivedAt, j.PrintingAt, j.FinishedAt = optTime(sent), optTime(received), optTime(printing), optTime(finished)
	j.CancelRequestedAt = optTime(cancelAt)
	return j, err
}

// CreateJob stores the job's row and its content (table job_content) in one transaction.
func (q q) CreateJob(ctx context.Context, j store.Job) error {
	content := j.Content
	if content == nil {
		content = []byte{}
	}
	return q.atomic(ctx, func(w execer) error {
		_, err := w.ExecContext(ctx, `INSERT INTO jobs (id, portal_id, printer_id, client_id, title, size,
			copies, idempotency_key, fingerprint, created_by, state, reason, attempts, sent_session, created_at,
			updated_at, expires_at, sent_at, received_at, printing_at, finished_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			j.ID, j.PortalID, j.PrinterID, j.ClientID, j.Title, len(content), j.Copies,
			sqlq.NullStr(j.IdempotencyKey), j.Fingerprint, j.CreatedBy, string(j.State), j.Reason, j.Attempts,
			j.SentSession, us(j.CreatedAt), us(j.UpdatedAt), us(j.ExpiresAt), optUs(j.SentAt), optUs(j.ReceivedAt),
			optUs(j.PrintingAt), optUs(j.FinishedAt))
		if err != nil {
			return mapErr("create job", err)
		}
		_, err = w.ExecContext(ctx, `INSERT INTO job_content (job_id, content) VALUES (?, ?)`, j.ID, content)
		if err == nil && len(j.Preview) > 0 {
			_, err = w.ExecContext(ctx, `INSERT INTO job_preview (job_id, png) VALUES (?, ?)`, j.ID, j.Preview)
		}
		return mapErr("create job", err)
	})
}

func (q q) GetJob(ctx context.Context, id string) (store.Job, error) {
	j, err := scanJob(q.r.QueryRowContext(ctx, `SELECT `+sqlq.JobCols+sqlq.JobFrom+` WHERE j.id = ?`, id), false)
	return j, mapErr("get job", err)
}

func (q q) GetJobByIdempotencyKey(ctx context.Context, portalID, key string) (store.Job, error) {
	j, err := scanJob(q.r.QueryRowContext(ctx, `SELECT `+sqlq.JobCols+sqlq.JobFrom+`
		WHERE j.portal_id = ? AND j.idempotency_key = ?`, portalID, key), false)
	return j, mapErr("get job by idempotency key", err)
}

func (q q) JobContent(ctx context.Context, id string) ([]byte, error) {
	var b []byte
	err := q.r.QueryRowContext(ctx, `SELECT COALESCE(c.content, x'') FROM jobs j
		LEFT JOIN job_content c ON c.job_id = j.id WHERE j.id = ?`, id).Scan(&b)
	return b, mapErr("job content", err)
}

func (q q) JobPreview(ctx context.Context, id string) ([]byte, error) {
	var b []byte
	err := q.r.QueryRowContext(ctx, `SELECT png FROM job_preview WHERE job_id = ?`, id).Scan(&b)
	return b, mapErr("job preview", err)
}

func (q q) ListJobs(ctx context.Context, f store.JobFilter) ([]store.Job, error) {
	var a args
	query := `SELECT ` + sqlq.JobCols + sqlq.JobFrom + sqlq.Jobs(f, a.add)
	return q.queryJobs(ctx, "list jobs", false, query, a...)
}

func (q q) queryJobs(ctx context.Context, op string, content bool, query string, args ...any) ([]store.Job, error) {
	return queryAll(ctx, q.r, op, query, args, func(sc rowScanner) (store.Job, error) { return scanJob(sc, content) })
}

// pendingJobs is PendingJobs' query (arguments: client ID, session, limit).
const pendingJobs = `SELECT ` + sqlq.JobCols + `, COALESCE(c.content, x'')` + sqlq.JobFrom + `
		LEFT JOIN job_content c ON c.job_id = j.id
		WHERE j.client_id = ? AND ` + sqlq.ClientLive + ` AND p.present <> 0 AND j.cancel_requested_at IS NULL
			AND (j.state = 'queued' OR (j.state = 'sent' AND j.received_at IS NULL AND j.sent_session < ?))
		ORDER BY j.created_at, j.id LIMIT ?`

func (q q) PendingJobs(ctx context.Context, clientID string, session int64, limit int) ([]store.Job, error) {
	if limit <= 0 {
		limit = 100
	}
	return q.queryJobs(ctx, "pending jobs", true, pendingJobs, clientID, session, limit)
}

func (q q) UpdateJob(ctx context.Context, u store.JobUpdate) error {
	var a args
	n, err := q.execN(ctx, "update job", sqlq.JobUpdate(u, a.add), a...)
	if err != nil {
		return err
	}
	return sqlq.Optimistic("sqlite: update job", n, func() (string, error) {
		var state string
		err := q.w.QueryRowContext(ctx, `SELECT state FROM jobs WHERE id = ?`, u.ID).Scan(&state)
		return "state is " + state + ", not " + string(u.From), mapErr("job state", err)
	})
}

func (q q) SendQueuedJob(ctx context.Context, id string, at time.Time) (store.Job, error) {
	var a args
	var j store.Job
	var key sql.NullString
	var expires int64
	err := q.w.QueryRowContext(ctx, sqlq.SendQueuedJob(a.add, id, at), a...).Scan(&j.ID, &j.PortalID, &j.PrinterID,
		&j.ClientID, &j.Title, &key, &j.Attempts, &j.SentSession, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Job{}, fmt.Errorf("sqlite: send queued job: %w", store.ErrConflict)
	}
	j.IdempotencyKey, j.ExpiresAt = key.String, ut(expires)
	return j, mapErr("send queued job", err)
}

func (q q) AckJob(ctx context.Context, ack store.JobAck) (store.Job, error) {
	var a args
	var j store.Job
	var key sql.NullString
	err := q.w.QueryRowContext(ctx, sqlq.AckJob(a.add, ack), a...).Scan(&j.ID, &j.PortalID,
		&j.PrinterID, &j.ClientID, &j.Title, &key)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Job{}, fmt.Errorf("sqlite: ack job: %w", store.ErrConflict)
	}
	j.IdempotencyKey = key.String
	return j, mapErr("ack job", err)
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

func (q q) ListJobEvents(ctx context.Context, jobID string, p store.Page) ([]store.JobEvent, error) {
	var a args
	query := sqlq.JobEvents(jobID, p, a.add)
	return queryAll(ctx, q.r, "list job events", query, a, func(sc rowScanner) (store.JobEvent, error) {
		var e store.JobEvent
		var at int64
		var from, to string
		err := sc.Scan(&e.ID, &e.JobID, &at, &from, &to, &e.Reason, &e.Actor)
		e.At, e.From, e.To = ut(at), store.JobState(from), store.JobState(to)
		return e, err
	})
}
