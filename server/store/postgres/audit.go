package postgres

import (
	"context"

	"printdock/server/store"
	"printdock/server/store/internal/sqlq"
)

// Audit.

func (q q) AppendAudit(ctx context.Context, e store.AuditEntry) (int64, error) {
	var id int64
	err := q.row(ctx, "append audit", `INSERT INTO audit_log (portal_id, at, actor, action, target, remote_addr, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, func(sc scanner) error { return sc.Scan(&id) },
		e.PortalID, e.At, e.Actor, e.Action, e.Target, e.RemoteAddr, e.Detail)
	return id, err
}

func (q q) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	var a args
	sql := sqlq.Audit(f, a.add)
	return list(ctx, q, "list audit", sql, func(sc scanner) (store.AuditEntry, error) {
		var e store.AuditEntry
		err := sc.Scan(&e.ID, &e.PortalID, &e.At, &e.Actor, &e.Action, &e.Target, &e.RemoteAddr, &e.Detail)
		e.At = utc(e.At)
		return e, err
	}, a...)
}
