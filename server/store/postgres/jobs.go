package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"printdock/server/store"
	"printdock/server/store/internal/sqlq"
)

// Jobs.

func scanJob(sc scanner, content bool) (store.Job, error) {
	var j store.Job
	var key *string
	var state string
	dest := []any{&j.ID, &j.PortalID, &j.PrinterID, &j.ClientID, &j.PrinterURI, &j.Title, &j.Size, &j.Copies, &key,
		&j.Fingerprint, &j.CreatedBy, &state, &j.Reason, &j.Attempts, &j.SentSession, &j.CreatedAt, &j.UpdatedAt,
		&j.ExpiresAt, &j.SentAt, &j.ReceivedAt, &j.PrintingAt, &j.FinishedAt, &j.CancelRequestedAt, &j.CancelRequestedBy}
	if content {
		dest = append(dest, &j.Content)
	}
	err := sc.Scan(dest...)
	j.IdempotencyKey, j.State = str(key), store.JobState(state)
	j.CreatedAt, j.UpdatedAt, j.ExpiresAt = utc(j.CreatedAt), utc(j.UpdatedAt), utc(j.ExpiresAt)
	j.SentAt, j.ReceivedAt, j.PrintingAt, j.FinishedAt = optUTC(j.SentAt), optUTC(j.ReceivedAt), optUTC(j.PrintingAt), optUTC(j.FinishedAt)
	j.CancelRequestedAt = optUTC(j.CancelRequestedAt)
	return j, err
}

func scanJobs(content bool) func(scanner) (store.Job, error) {
	return func(sc scanner) (store.Job, error) { return scanJob(sc, content) }
}

func (q q) CreateJob(ctx context.Context, j store.Job) error {
	content := j.Content
	if content == nil {
		content = []byte{} // a nil slice would be NULL
	}
	_, err := q.exec(ctx, "create job", `INSERT INTO jobs (id, portal_id, printer_id, client_id, title, content, size,
		copies, idempotency_key, fingerprint, created_by, state, reason, attempts, sent_session, created_at,
		updated_at, expires_at, sent_at, received_at, printing_at, finished_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)`,
		j.ID, j.PortalID, j.PrinterID, j.ClientID, j.Title, content, int64(len(content)), j.Copies,
		sqlq.NullStr(j.IdempotencyKey), j.Fingerprint, j.CreatedBy, string(j.State), j.Reason, j.Attempts,
		j.SentSession, j.CreatedAt, j.UpdatedAt, j.ExpiresAt, j.SentAt, j.ReceivedAt, j.PrintingAt, j.FinishedAt)
	if err == nil && len(j.Preview) > 0 {
		_, err = q.exec(ctx, "create job", `INSERT INTO job_preview (job_id, png) VALUES ($1, $2)`, j.ID, j.Preview)
	}
	return err
}

func (q q) GetJob(ctx context.Context, id string) (store.Job, error) {
	sql := `SELECT ` + sqlq.JobCols + sqlq.JobFrom + ` WHERE j.id = $1`
	if t, ok := q.r.(*txStore); ok && t.locks {
		sql += ` FOR UPDATE OF j` // reads.go
	}
	return one(ctx, q.committed(), "get job", sql, scanJobs(false), id)
}

func (q q) GetJobByIdempotencyKey(ctx context.Context, portalID, key string) (store.Job, error) {
	return one(ctx, q, "get job by idempotency key", `SELECT `+sqlq.JobCols+sqlq.JobFrom+`
		WHERE j.portal_id = $1 AND j.idempotency_key = $2`, scanJobs(false), portalID, key)
}

func (q q) JobContent(ctx context.Context, id string) ([]byte, error) {
	var b []byte
	err := q.row(ctx, "job content", `SELECT content FROM jobs WHERE id = $1`, func(sc scanner) error {
		return sc.Scan(&b)
	}, id)
	return b, err
}

func (q q) JobPreview(ctx context.Context, id string) ([]byte, error) {
	var b []byte
	err := q.row(ctx, "job preview", `SELECT png FROM job_preview WHERE job_id = $1`, func(sc scanner) error {
		return sc.Scan(&b)
	}, id)
	return b, err
}

func (q q) ListJobs(ctx context.Context, f store.JobFilter) ([]store.Job, error) {
	var a args
	sql := `SELECT ` + sqlq.JobCols + sqlq.JobFrom + sqlq.Jobs(f, a.add)
	return list(ctx, q.committed(), "list jobs", sql, scanJobs(false), a...)
}

func (q q) PendingJobs(ctx context.Context, clientID string, session int64, limit int) ([]store.Job, error) {
	if limit <= 0 {
		limit = 100
	}
	return list(ctx, q.committed(), "pending jobs", `SELECT `+sqlq.JobCols+`, j.content`+sqlq.JobFrom+`
		WHERE j.client_id = $1 AND `+sqlq.ClientLive+` AND p.present AND j.cancel_requested_at IS NULL AND (j.state = 'queued'
			OR (j.state = 'sent' AND j.received_at IS NULL AND j.sent_session < $2))
		ORDER BY j.created_at, j.id LIMIT $3`, scanJobs(true), clientID, session, limit)
}

func (q q) UpdateJob(ctx context.Context, u store.JobUpdate) error {
	var a args
	n, err := q.exec(ctx, "update job", sqlq.JobUpdate(u, a.add), a...)
	if err != nil {
		return err
	}
	return sqlq.Optimistic("postgres: update job", n, func() (string, error) {
		var state string
		err := q.row(ctx, "job state", `SELECT state FROM jobs WHERE id = $1`, func(sc scanner) error {
			return sc.Scan(&state)
		}, u.ID)
		return "state is " + state + ", not " + string(u.From), err
	})
}

func (q q) SendQueuedJob(ctx context.Context, id string, at time.Time) (store.Job, error) {
	var a args
	var j store.Job
	var key *string
	err := q.row(ctx, "send queued job", sqlq.SendQueuedJob(a.add, id, at), func(sc scanner) error {
		return sc.Scan(&j.ID, &j.PortalID, &j.PrinterID, &j.ClientID, &j.Title, &key, &j.Attempts, &j.SentSession, &j.ExpiresAt)
	}, a...)
	if errors.Is(err, store.ErrNotFound) {
		return store.Job{}, fmt.Errorf("postgres: send queued job: %w", store.ErrConflict)
	}
	j.IdempotencyKey, j.ExpiresAt = str(key), utc(j.ExpiresAt)
	return j, err
}

func (q q) AckJob(ctx context.Context, ack store.JobAck) (store.Job, error) {
	var a args
	var j store.Job
	var key *string
	err := q.row(ctx, "ack job", sqlq.AckJob(a.add, ack), func(sc scanner) error {
		return sc.Scan(&j.ID, &j.PortalID, &j.PrinterID, &j.ClientID, &j.Title, &key)
	}, a...)
	if errors.Is(err, store.ErrNotFound) {
		return store.Job{}, fmt.Errorf("postgres: ack job: %w", store.ErrConflict)
	}
	j.IdempotencyKey = str(key)
	return j, err
}

func (q q) AppendJobEvent(ctx context.Context, e store.JobEvent) (int64, error) {
	var id int64
	err := q.row(ctx, "append job event", `INSERT INTO job_events (job_id, at, from_state, to_state, reason, actor)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, func(sc scanner) error { return sc.Scan(&id) },
		e.JobID, e.At, string(e.From), string(e.To), e.Reason, e.Actor)
	return id, err
}

func (q q) ListJobEvents(ctx context.Context, jobID string, p store.Page) ([]store.JobEvent, error) {
	var a args
	sql := sqlq.JobEvents(jobID, p, a.add)
	return list(ctx, q.committed(), "list job events", sql, func(sc scanner) (store.JobEvent, error) {
		var e store.JobEvent
		var from, to string
		err := sc.Scan(&e.ID, &e.JobID, &e.At, &from, &to, &e.Reason, &e.Actor)
		e.At, e.From, e.To = utc(e.At), store.JobState(from), store.JobState(to)
		return e, err
	}, a...)
}
