package postgres

import (
	"context"
	"time"

	"printdock/server/store"
	"printdock/server/store/internal/sqlq"
)

// Clients.

func scanClient(sc scanner) (store.Client, error) {
	var c store.Client
	err := sc.Scan(&c.ID, &c.PortalID, &c.CredentialID, &c.InstallationID, &c.Hostname, &c.AgentVersion, &c.OS,
		&c.FirstSeenAt, &c.LastSeenAt, &c.Sessions, &c.SessionSeq, &c.Features)
	c.FirstSeenAt, c.LastSeenAt = utc(c.FirstSeenAt), utc(c.LastSeenAt)
	return c, err
}

// ConnectClient also counts the session under this replica (client_presence, replica.go), in the same
// statement.
func (q q) ConnectClient(ctx context.Context, c store.Client) (store.Client, error) {
	var got store.Client
	err := q.row(ctx, "connect client", `WITH cl AS (
			INSERT INTO clients AS cl (`+sqlq.ClientCols+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 1, 1, $10)
			ON CONFLICT (id) DO UPDATE SET credential_id = excluded.credential_id,
				installation_id = excluded.installation_id, hostname = excluded.hostname,
				agent_version = excluded.agent_version, os = excluded.os, last_seen_at = excluded.last_seen_at,
				sessions = cl.sessions + 1, session_seq = cl.session_seq + 1, features = excluded.features
			RETURNING `+sqlq.ClientCols+`
		), pr AS (
			INSERT INTO client_presence (replica_id, client_id, sessions) SELECT $9, id, 1 FROM cl
			ON CONFLICT (replica_id, client_id) DO UPDATE SET sessions = client_presence.sessions + 1
		)
		SELECT `+sqlq.ClientCols+` FROM cl`, func(sc scanner) (err error) {
		got, err = scanClient(sc)
		return err
	}, c.ID, c.PortalID, c.CredentialID, c.InstallationID, c.Hostname, c.AgentVersion, c.OS, c.LastSeenAt, q.rep,
		c.Features)
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
// interface says: every client's sessions become zero. A client it marks offline gets LastSeenAt now
// (its disconnect as noticed; printer alerts count from it).
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
		UPDATE clients c SET sessions = COALESCE((SELECT n FROM live WHERE live.client_id = c.id), 0),
			last_seen_at = CASE WHEN COALESCE((SELECT n FROM live WHERE live.client_id = c.id), 0) = 0
				THEN GREATEST(c.last_seen_at, now()) ELSE c.last_seen_at END
		WHERE c.sessions <> COALESCE((SELECT n FROM live WHERE live.client_id = c.id), 0)`, q.rep, ReplicaTTL.Seconds())
}

func (q q) GetClient(ctx context.Context, id string) (store.Client, error) {
	return one(ctx, q.committed(), "get client", `SELECT `+sqlq.ClientCols+` FROM clients WHERE id = $1`, scanClient, id)
}

func (q q) ClientSession(ctx context.Context, id string) (int64, error) {
	return one(ctx, q.committed(), "client session", `SELECT session_seq FROM clients WHERE id = $1`,
		func(sc scanner) (n int64, err error) { return n, sc.Scan(&n) }, id)
}

func (q q) ListClients(ctx context.Context, portalID string, p store.Page) ([]store.Client, error) {
	var a args
	sql := sqlq.Clients(portalID, p, a.add)
	return list(ctx, q, "list clients", sql, scanClient, a...)
}

func (q q) CountClients(ctx context.Context, portalID, credentialID string) (int, error) {
	var n int
	err := q.row(ctx, "count clients", `SELECT COUNT(*) FROM clients WHERE portal_id = $1 AND credential_id = $2`,
		func(sc scanner) error { return sc.Scan(&n) }, portalID, credentialID)
	return n, err
}

func (q q) OtherLiveInstallation(ctx context.Context, portalID, credentialID, installationID string) (store.Client, error) {
	return one(ctx, q, "other live installation", `SELECT `+sqlq.ClientCols+` FROM clients
		WHERE portal_id = $1 AND credential_id = $2 AND installation_id <> $3 AND sessions > 0
		ORDER BY first_seen_at, id LIMIT 1`, scanClient, portalID, credentialID, installationID)
}

func (q q) CountPrinters(ctx context.Context, portalID string) (int, error) {
	var n int
	err := q.row(ctx, "count printers", `SELECT COUNT(*) FROM printers WHERE portal_id = $1`,
		func(sc scanner) error { return sc.Scan(&n) }, portalID)
	return n, err
}

// Printers.

func scanPrinter(sc scanner) (store.Printer, error) {
	var p store.Printer
	var raised *time.Time
	err := sc.Scan(&p.ID, &p.PortalID, &p.ClientID, &p.URI, &p.Name, &p.Make, &p.Model, &p.Status, &p.Reason,
		&p.Present, &p.FirstSeenAt, &p.UpdatedAt, &p.Language, &p.DPI, &p.StatusMode, &p.ClientOnline,
		&p.StatusSince, &p.ClientSeenAt, &raised)
	p.FirstSeenAt, p.UpdatedAt, p.StatusSince = utc(p.FirstSeenAt), utc(p.UpdatedAt), utc(p.StatusSince)
	p.ClientSeenAt = utc(p.ClientSeenAt)
	if raised != nil {
		p.AlertRaisedAt = utc(*raised)
	}
	return p, err
}

func (q q) UpsertPrinter(ctx context.Context, p store.Printer) error {
	_, err := q.exec(ctx, "upsert printer", `INSERT INTO printers (id, portal_id, client_id, uri, name, make, model,
		status, reason, present, first_seen_at, updated_at, language, dpi, status_mode, status_since)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13, $14, $11)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, make = excluded.make, model = excluded.model,
			status = excluded.status, reason = excluded.reason, present = excluded.present,
			updated_at = excluded.updated_at, language = excluded.language, dpi = excluded.dpi,
			status_mode = excluded.status_mode, status_since = CASE WHEN printers.status <> excluded.status
				OR printers.present <> excluded.present THEN excluded.updated_at ELSE printers.status_since END`,
		p.ID, p.PortalID, p.ClientID, p.URI, p.Name, p.Make, p.Model, p.Status, p.Reason, p.Present, p.UpdatedAt,
		p.Language, p.DPI, p.StatusMode)
	return err
}

func (q q) GetPrinter(ctx context.Context, id string) (store.Printer, error) {
	return one(ctx, q, "get printer", `SELECT `+sqlq.PrinterCols+sqlq.PrinterFrom+` WHERE p.id = $1`, scanPrinter, id)
}

func (q q) ListPrinters(ctx context.Context, f store.PrinterFilter) ([]store.Printer, error) {
	var a args
	sql := sqlq.Printers(f, a.add)
	return list(ctx, q, "list printers", sql, scanPrinter, a...)
}

func (q q) AlertCandidates(ctx context.Context, alertStates []string) ([]store.Printer, error) {
	var a args
	sql := sqlq.AlertCandidates(alertStates, a.add)
	return list(ctx, q, "alert candidates", sql, scanPrinter, a...)
}

func (q q) SetPrinterAlert(ctx context.Context, id string, at time.Time) (bool, error) {
	sql, arg := `UPDATE printers SET alert_raised_at = NULL WHERE id = $1 AND alert_raised_at IS NOT NULL`, []any{id}
	if !at.IsZero() {
		sql, arg = `UPDATE printers SET alert_raised_at = $2 WHERE id = $1 AND alert_raised_at IS NULL`, []any{id, at}
	}
	n, err := q.exec(ctx, "set printer alert", sql, arg...)
	return n == 1, err
}
