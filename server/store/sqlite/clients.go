package sqlite

import (
	"context"
	"time"

	"printdock/server/store"
	"printdock/server/store/internal/sqlq"
)

// Clients.

func scanClient(sc rowScanner) (store.Client, error) {
	var c store.Client
	var first, last int64
	err := sc.Scan(&c.ID, &c.PortalID, &c.CredentialID, &c.InstallationID, &c.Hostname, &c.AgentVersion, &c.OS,
		&first, &last, &c.Sessions, &c.SessionSeq, &c.Features)
	c.FirstSeenAt, c.LastSeenAt = ut(first), ut(last)
	return c, err
}

func (q q) ConnectClient(ctx context.Context, c store.Client) (store.Client, error) {
	got, err := scanClient(q.w.QueryRowContext(ctx, `INSERT INTO clients (`+sqlq.ClientCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 1, ?)
		ON CONFLICT (id) DO UPDATE SET credential_id = excluded.credential_id,
			installation_id = excluded.installation_id, hostname = excluded.hostname,
			agent_version = excluded.agent_version, os = excluded.os, last_seen_at = excluded.last_seen_at,
			sessions = clients.sessions + 1, session_seq = clients.session_seq + 1, features = excluded.features
		RETURNING `+sqlq.ClientCols,
		c.ID, c.PortalID, c.CredentialID, c.InstallationID, c.Hostname, c.AgentVersion, c.OS,
		us(c.LastSeenAt), us(c.LastSeenAt), c.Features))
	return got, mapErr("connect client", err)
}

func (q q) DisconnectClient(ctx context.Context, id string, at time.Time) error {
	return q.exec1(ctx, "disconnect client", `UPDATE clients SET sessions = MAX(sessions - 1, 0), last_seen_at = ?
		WHERE id = ?`, us(at), id)
}

// ResetClientSessions also sets the LastSeenAt of the clients it marks offline to now (when their
// disconnect is noticed: printer alerts count them offline from then, not from their last connect).
func (q q) ResetClientSessions(ctx context.Context) (int64, error) {
	return q.execN(ctx, "reset client sessions", `UPDATE clients SET sessions = 0, last_seen_at = MAX(last_seen_at, ?)
		WHERE sessions <> 0`, us(time.Now()))
}

func (q q) GetClient(ctx context.Context, id string) (store.Client, error) {
	c, err := scanClient(q.r.QueryRowContext(ctx, `SELECT `+sqlq.ClientCols+` FROM clients WHERE id = ?`, id))
	return c, mapErr("get client", err)
}

func (q q) ClientSession(ctx context.Context, id string) (int64, error) {
	var n int64
	err := q.r.QueryRowContext(ctx, `SELECT session_seq FROM clients WHERE id = ?`, id).Scan(&n)
	return n, mapErr("client session", err)
}

func (q q) ListClients(ctx context.Context, portalID string, p store.Page) ([]store.Client, error) {
	var a args
	query := sqlq.Clients(portalID, p, a.add)
	return queryAll(ctx, q.r, "list clients", query, a, scanClient)
}

func (q q) CountClients(ctx context.Context, portalID, credentialID string) (int, error) {
	var n int
	err := q.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM clients WHERE portal_id = ? AND credential_id = ?`,
		portalID, credentialID).Scan(&n)
	return n, mapErr("count clients", err)
}

func (q q) OtherLiveInstallation(ctx context.Context, portalID, credentialID, installationID string) (store.Client, error) {
	c, err := scanClient(q.r.QueryRowContext(ctx, `SELECT `+sqlq.ClientCols+` FROM clients
		WHERE portal_id = ? AND credential_id = ? AND installation_id <> ? AND sessions > 0
		ORDER BY first_seen_at, id LIMIT 1`, portalID, credentialID, installationID))
	return c, mapErr("other live installation", err)
}

func (q q) CountPrinters(ctx context.Context, portalID string) (int, error) {
	var n int
	err := q.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM printers WHERE portal_id = ?`, portalID).Scan(&n)
	return n, mapErr("count printers", err)
}

// Printers.

func scanPrinter(sc rowScanner) (store.Printer, error) {
	var p store.Printer
	var first, upd, since, seen int64
	var raised *int64
	err := sc.Scan(&p.ID, &p.PortalID, &p.ClientID, &p.URI, &p.Name, &p.Make, &p.Model, &p.Status, &p.Reason,
		&p.Present, &first, &upd, &p.Language, &p.DPI, &p.StatusMode, &p.ClientOnline, &since, &seen, &raised)
	p.FirstSeenAt, p.UpdatedAt, p.StatusSince, p.ClientSeenAt = ut(first), ut(upd), ut(since), ut(seen)
	if raised != nil {
		p.AlertRaisedAt = ut(*raised)
	}
	return p, err
}

func (q q) UpsertPrinter(ctx context.Context, p store.Printer) error {
	_, err := q.w.ExecContext(ctx, `INSERT INTO printers (id, portal_id, client_id, uri, name, make, model, status,
		reason, present, first_seen_at, updated_at, language, dpi, status_mode, status_since)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, make = excluded.make, model = excluded.model,
			status = excluded.status, reason = excluded.reason, present = excluded.present,
			updated_at = excluded.updated_at, language = excluded.language, dpi = excluded.dpi,
			status_mode = excluded.status_mode, status_since = CASE WHEN printers.status <> excluded.status
				OR printers.present <> excluded.present THEN excluded.updated_at ELSE printers.status_since END`,
		p.ID, p.PortalID, p.ClientID, p.URI, p.Name, p.Make, p.Model, p.Status, p.Reason, p.Present,
		us(p.UpdatedAt), us(p.UpdatedAt), p.Language, p.DPI, p.StatusMode, us(p.UpdatedAt))
	return mapErr("upsert printer", err)
}

func (q q) GetPrinter(ctx context.Context, id string) (store.Printer, error) {
	p, err := scanPrinter(q.r.QueryRowContext(ctx, `SELECT `+sqlq.PrinterCols+sqlq.PrinterFrom+` WHERE p.id = ?`, id))
	return p, mapErr("get printer", err)
}

func (q q) ListPrinters(ctx context.Context, f store.PrinterFilter) ([]store.Printer, error) {
	var a args
	query := sqlq.Printers(f, a.add)
	return queryAll(ctx, q.r, "list printers", query, a, scanPrinter)
}

func (q q) AlertCandidates(ctx context.Context, alertStates []string) ([]store.Printer, error) {
	var a args
	query := sqlq.AlertCandidates(alertStates, a.add)
	return queryAll(ctx, q.r, "alert candidates", query, a, scanPrinter)
}

func (q q) SetPrinterAlert(ctx context.Context, id string, at time.Time) (bool, error) {
	query, arg := `UPDATE printers SET alert_raised_at = NULL WHERE id = ? AND alert_raised_at IS NOT NULL`, []any{id}
	if !at.IsZero() {
		query, arg = `UPDATE printers SET alert_raised_at = ? WHERE id = ? AND alert_raised_at IS NULL`, []any{us(at), id}
	}
	n, err := q.execN(ctx, "set printer alert", query, arg...)
	return n == 1, err
}
