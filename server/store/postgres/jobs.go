package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"printdock/server/store"
)

// Clients.

const clientCols = `id, portal_id, credential_id, installation_id, hostname, agent_version, os, first_seen_at,
	last_seen_at, sessions, session_seq`

func scanClient(sc scanner) (store.Client, error) {
	var c store.Client
	err := sc.Scan(&c.ID, &c.PortalID, &c.CredentialID, &c.InstallationID, &c.Hostname, &c.AgentVersion, &c.OS,
		&c.FirstSeenAt, &c.LastSeenAt, &c.Sessions, &c.SessionSeq)
	c.FirstSeenAt, c.LastSeenAt = utc(c.FirstSeenAt), utc(c.LastSeenAt)
	return c, err
}

// ConnectClient also counts the session under this replica (client_presence, replica.go), in the same
// statement.
func (q q) ConnectClient(ctx context.Context, c store.Client) (store.Client, error) {
	var got store.Client
	err := q.row(ctx, "connect client", `WITH cl AS (
			INSERT INTO clients AS cl (`+clientCols+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 1, 1)
			ON CONFLICT (id) DO UPDATE SET credential_id = excluded.credential_id,
				installation_id = excluded.installation_id, hostname = excluded.hostname,
				agent_version = excluded.agent_version, os = excluded.os, last_seen_at = excluded.last_seen_at,
				sessions = cl.sessions + 1, session_seq = cl.session_seq + 1
			RETURNING `+clientCols+`
		), pr AS (
			INSERT INTO client_presence (replica_id, client_id, sessions) SELECT $9, id, 1 FROM cl
			ON CONFLICT (replica_id, client_id) DO UPDATE SET sessions = client_presence.sessions + 1
		)
		SELECT `+clientCols+` FROM cl`, func(sc scanner) (err error) {
		got, err = scanClient(sc)
		return err
	}, c.ID, c.PortalID, c.CredentialID, c.InstallationID, c.Hostname, c.AgentVersion, c.OS, c.LastSeenAt, q.rep)
	return got, err
}

// DisconnectClient removes one session this replica counts. A session this replica no longer counts
// (the others swept it while this replica was unreachable) was already subtracted from clients.sessions.
func (q q) DisconnectClient(ctx context.Context, id string, at time.Time) error {
	return q.exec1(ctx, "disconnect client", `WITH pr AS (
			UPDATE client_presence SET sessions = sessions - 1
			WHERE replica_id = $3 AND client_id = $2 AND sessions > 0 RETURNING 1
		)
		UPDATE clients SET sessions = GREATEST(sessions - (SELECT COUNT(*) FROM pr), 0), last_seen_at = $1
		WHERE id = $2`, at, id, q.rep)
}

// ResetClientSessions forgets the sessions this replica counts and those of replicas that are gone (not
// seen for ReplicaTTL), and recomputes every client's sessions from the live replicas' counts: at a
// replica's start it marks offline only the agents no live replica holds. On one replica it is what the
// interface says: every client's sessions become zero.
func (q q) ResetClientSessions(ctx context.Context) (int64, error) {
	return q.exec(ctx, "reset client sessions", `WITH gone AS (
			DELETE FROM client_presence p WHERE p.replica_id = $1 OR NOT EXISTS (SELECT 1 FROM replicas r
				WHERE r.id = p.replica_id AND r.seen_at >= now() - make_interval(secs => $2))
		), live AS (
			SELECT p.client_id, SUM(p.sessions) AS n FROM client_presence p
			WHERE p.replica_id <> $1 AND EXISTS (SELECT 1 FROM replicas r
				WHERE r.id = p.replica_id AND r.seen_at >= now() - make_interval(secs => $2))
			GROUP BY p.client_id
		)
		UPDATE clients c SET sessions = COALESCE((SELECT n FROM live WHERE live.client_id = c.id), 0)
		WHERE c.sessions <> COALESCE((SELECT n FROM live WHERE live.client_id = c.id), 0)`, q.rep, ReplicaTTL.Seconds())
}

func (q q) GetClient(ctx context.Context, id string) (store.Client, error) {
	var c store.Client
	err := q.row(ctx, "get client", `SELECT `+clientCols+` FROM clients WHERE id = $1`, func(sc scanner) (err error) {
		c, err = scanClient(sc)
		return err
	}, id)
	return c, err
}

func (q q) ListClients(ctx context.Context, portalID string) ([]store.Client, error) {
	return list(ctx, q, "list clients", `SELECT `+clientCols+` FROM clients WHERE portal_id = $1
		ORDER BY first_seen_at, id`, scanClient, portalID)
}

// Printers.

const printerCols = `p.id, p.portal_id, p.client_id, p.uri, p.name, p.make, p.model, p.status, p.reason, p.present,
	p.first_seen_at, p.updated_at, c.sessions > 0`

const printerFrom = ` FROM printers p JOIN clients c ON c.id = p.client_id`

func scanPrinter(sc scanner) (store.Printer, error) {
	var p store.Printer
	err := sc.Scan(&p.ID, &p.PortalID, &p.ClientID, &p.URI, &p.Name, &p.Make, &p.Model, &p.Status, &p.Reason,
		&p.Present, &p.FirstSeenAt, &p.UpdatedAt, &p.ClientOnline)
	p.FirstSeenAt, p.UpdatedAt = utc(p.FirstSeenAt), utc(p.UpdatedAt)
	return p, err
}

func (q q) UpsertPrinter(ctx context.Context, p store.Printer) error {
	_, err := q.exec(ctx, "upsert printer", `INSERT INTO printers (id, portal_id, client_id, uri, name, make, model,
		status, reason, present, first_seen_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, make = excluded.make, model = excluded.model,
			status = excluded.status, reason = excluded.reason, present = excluded.present,
			updated_at = excluded.updated_at`,
		p.ID, p.PortalID, p.ClientID, p.URI, p.Name, p.Make, p.Model, p.Status, p.Reason, p.Present, p.UpdatedAt)
	return err
}

func (q q) GetPrinter(ctx context.Context, id string) (store.Printer, error) {
	var p store.Printer
	err := q.row(ctx, "get printer", `SELECT `+printerCols+printerFrom+` WHERE p.id = $1`, func(sc scanner) (err error) {
		p, err = scanPrinter(sc)
		return err
	}, id)
	return p, err
}

func (q q) ListPrinters(ctx context.Context, f store.PrinterFilter) ([]store.Printer, error) {
	var a args
	sql := `SELECT ` + printerCols + printerFrom + ` WHERE p.portal_id = ` + a.add(f.PortalID)
	if f.ClientID != "" {
		sql += ` AND p.client_id = ` + a.add(f.ClientID)
	}
	sql += ` ORDER BY p.name, p.uri, p.id`
	return list(ctx, q, "list printers", sql, scanPrinter, a...)
}

// Jobs.

const jobCols = `j.id, j.portal_id, j.printer_id, j.client_id, p.uri, j.title, j.size, j.copies, j.idempotency_key,
	j.fingerprint, j.created_by, j.state, j.reason, j.attempts, j.sent_session, j.created_at, j.updated_at,
	j.expires_at, j.sent_at, j.received_at, j.printing_at, j.finished_at`

const jobFrom = ` FROM jobs j JOIN printers p ON p.id = j.printer_id`

func scanJob(sc scanner, content bool) (store.Job, error) {
	var j store.Job
	var key *string
	var state string
	dest := []any{&j.ID, &j.PortalID, &j.PrinterID, &j.ClientID, &j.PrinterURI, &j.Title, &j.Size, &j.Copies, &key,
		&j.Fingerprint, &j.CreatedBy, &state, &j.Reason, &j.Attempts, &j.SentSession, &j.CreatedAt, &j.UpdatedAt,
		&j.ExpiresAt, &j.SentAt, &j.ReceivedAt, &j.PrintingAt, &j.FinishedAt}
	if content {
		dest = append(dest, &j.Content)
	}
	err := sc.Scan(dest...)
	j.IdempotencyKey, j.State = str(key), store.JobState(state)
	j.CreatedAt, j.UpdatedAt, j.ExpiresAt = utc(j.CreatedAt), utc(j.UpdatedAt), utc(j.ExpiresAt)
	j.SentAt, j.ReceivedAt, j.PrintingAt, j.FinishedAt = optUTC(j.SentAt), optUTC(j.ReceivedAt), optUTC(j.PrintingAt), optUTC(j.FinishedAt)
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
		nullStr(j.IdempotencyKey), j.Fingerprint, j.CreatedBy, string(j.State), j.Reason, j.Attempts,
		j.SentSession, j.CreatedAt, j.UpdatedAt, j.ExpiresAt, j.SentAt, j.ReceivedAt, j.PrintingAt, j.FinishedAt)
	return err
}

func (q q) getJob(ctx context.Context, op, where string, a ...any) (store.Job, error) {
	var j store.Job
	err := q.row(ctx, op, `SELECT `+jobCols+jobFrom+` WHERE `+where, func(sc scanner) (err error) {
		j, err = scanJob(sc, false)
		return err
	}, a...)
	return j, err
}

func (q q) GetJob(ctx context.Context, id string) (store.Job, error) {
	return q.getJob(ctx, "get job", `j.id = $1`, id)
}

func (q q) GetJobByIdempotencyKey(ctx context.Context, portalID, key string) (store.Job, error) {
	return q.getJob(ctx, "get job by idempotency key", `j.portal_id = $1 AND j.idempotency_key = $2`, portalID, key)
}

func (q q) JobContent(ctx context.Context, id string) ([]byte, error) {
	var b []byte
	err := q.row(ctx, "job content", `SELECT content FROM jobs WHERE id = $1`, func(sc scanner) error {
		return sc.Scan(&b)
	}, id)
	return b, err
}

func (q q) ListJobs(ctx context.Context, f store.JobFilter) ([]store.Job, error) {
	var where []string
	var a args
	if !f.AllPortals {
		where = append(where, `j.portal_id = `+a.add(f.PortalID))
	}
	if f.PrinterID != "" {
		where = append(where, `j.printer_id = `+a.add(f.PrinterID))
	}
	if f.ClientID != "" {
		where = append(where, `j.client_id = `+a.add(f.ClientID))
	}
	if len(f.States) > 0 {
		states := make([]string, len(f.States))
		for i, s := range f.States {
			states[i] = string(s)
		}
		where = append(where, `j.state = ANY(`+a.add(states)+`)`)
	}
	if !f.ExpiresBy.IsZero() {
		where = append(where, `j.expires_at <= `+a.add(f.ExpiresBy))
	}
	if f.Received != nil {
		if *f.Received {
			where = append(where, `j.received_at IS NOT NULL`)
		} else {
			where = append(where, `j.received_at IS NULL`)
		}
	}
	sql := `SELECT ` + jobCols + jobFrom
	if len(where) > 0 {
		sql += ` WHERE ` + strings.Join(where, ` AND `)
	}
	switch {
	case f.OldestFirst && !f.ExpiresBy.IsZero():
		sql += ` ORDER BY j.expires_at, j.created_at, j.id`
	case f.OldestFirst:
		sql += ` ORDER BY j.created_at, j.id`
	default:
		sql += ` ORDER BY j.created_at DESC, j.id DESC`
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	sql += ` LIMIT ` + a.add(limit)
	return list(ctx, q, "list jobs", sql, scanJobs(false), a...)
}

func (q q) PendingJobs(ctx context.Context, clientID string, session int64, limit int) ([]store.Job, error) {
	if limit <= 0 {
		limit = 100
	}
	return list(ctx, q, "pending jobs", `SELECT `+jobCols+`, j.content`+jobFrom+`
		WHERE j.client_id = $1 AND p.present AND (j.state = 'queued'
			OR (j.state = 'sent' AND j.received_at IS NULL AND j.sent_session < $2))
		ORDER BY j.created_at, j.id LIMIT $3`, scanJobs(true), clientID, session, limit)
}

func isTerminal(s store.JobState) bool {
	switch s {
	case store.JobDone, store.JobFailed, store.JobCancelled, store.JobExpired:
		return true
	}
	return false
}

func (q q) UpdateJob(ctx context.Context, u store.JobUpdate) error {
	var a args
	at := a.add(u.At)
	set := []string{`state = ` + a.add(string(u.To)), `reason = ` + a.add(u.Reason), `updated_at = ` + at}
	if u.Sent {
		set = append(set, `sent_at = `+at, `attempts = attempts + 1`, `sent_session = `+a.add(u.Session))
	}
	if u.Received {
		set = append(set, `received_at = COALESCE(received_at, `+at+`)`)
	}
	if u.To == store.JobPrinting {
		set = append(set, `printing_at = COALESCE(printing_at, `+at+`)`)
	}
	if isTerminal(u.To) {
		set = append(set, `finished_at = `+at)
	}
	sql := `UPDATE jobs SET ` + strings.Join(set, ", ") + ` WHERE id = ` + a.add(u.ID) + ` AND state = ` + a.add(string(u.From))
	n, err := q.exec(ctx, "update job", sql, a...)
	if err != nil {
		return err
	}
	if n == 0 {
		var state string
		if err := q.row(ctx, "update job", `SELECT state FROM jobs WHERE id = $1`, func(sc scanner) error {
			return sc.Scan(&state)
		}, u.ID); err != nil {
			return err
		}
		return fmt.Errorf("postgres: update job: state is %s, not %s: %w", state, u.From, store.ErrConflict)
	}
	return nil
}

func (q q) AppendJobEvent(ctx context.Context, e store.JobEvent) (int64, error) {
	var id int64
	err := q.row(ctx, "append job event", `INSERT INTO job_events (job_id, at, from_state, to_state, reason, actor)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, func(sc scanner) error { return sc.Scan(&id) },
		e.JobID, e.At, string(e.From), string(e.To), e.Reason, e.Actor)
	return id, err
}

func (q q) ListJobEvents(ctx context.Context, jobID string) ([]store.JobEvent, error) {
	return list(ctx, q, "list job events", `SELECT id, job_id, at, from_state, to_state, reason, actor
		FROM job_events WHERE job_id = $1 ORDER BY id`, func(sc scanner) (store.JobEvent, error) {
		var e store.JobEvent
		var from, to string
		err := sc.Scan(&e.ID, &e.JobID, &e.At, &from, &to, &e.Reason, &e.Actor)
		e.At, e.From, e.To = utc(e.At), store.JobState(from), store.JobState(to)
		return e, err
	}, jobID)
}
