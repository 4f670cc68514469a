package sqlite

import (
	"context"

	"printdock/server/store"
	"printdock/server/store/internal/sqlq"
)

// Audit.

func (q q) AppendAudit(ctx context.Context, e store.AuditEntry) (int64, error) {
	res, err := q.w.ExecContext(ctx, `INSERT INTO audit_log (portal_id, at, actor, action, target, remote_addr, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, e.PortalID, us(e.At), e.Actor, e.Action, e.Target, e.RemoteAddr, e.Detail)
	if err != nil {
		return 0, mapErr("append audit", err)
	}
	id, err := res.LastInsertId()
	return id, mapErr("append audit", err)
}

func (q q) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	var a args
	query := sqlq.Audit(f, a.add)
	return queryAll(ctx, q.r, "list audit", query, a, func(sc rowScanner) (store.AuditEntry, error) {
		var e store.AuditEntry
		var at int64
		err := sc.Scan(&e.ID, &e.PortalID, &at, &e.Actor, &e.Action, &e.Target, &e.RemoteAddr, &e.Detail)
		e.At = ut(at)
		return e, err
	})
}
