package sqlite

import (
	"context"
	"time"

	"printdock/server/store"
	"printdock/server/store/internal/sqlq"
)

// Retention (store.RetentionStore) and settings (store.Settings).

func (q q) DropJobContent(ctx context.Context, before time.Time, limit int) (int64, error) {
	var p args
	if _, err := q.execN(ctx, "drop job previews", sqlq.DropJobPreviews(p.add, before, limit), p...); err != nil {
		return 0, err
	}
	var a args
	return q.execN(ctx, "drop job content", `DELETE FROM job_content WHERE job_id IN (SELECT c.job_id
		FROM job_content c JOIN jobs j ON j.id = c.job_id
		WHERE j.finished_at IS NOT NULL AND j.finished_at < `+a.add(before)+` LIMIT `+a.add(limit)+`)`, a...)
}

// deleteOld runs one retention DELETE that query builds: at most limit rows older than before.
func (q q) deleteOld(ctx context.Context, op string, query func(sqlq.Arg, time.Time, int) string, before time.Time, limit int) (int64, error) {
	var a args
	return q.execN(ctx, op, query(a.add, before, limit), a...)
}

func (q q) DeleteFinishedJobs(ctx context.Context, before time.Time, limit int) (int64, error) {
	return q.deleteOld(ctx, "delete finished jobs", sqlq.DeleteFinishedJobs, before, limit)
}

func (q q) DeleteAudit(ctx context.Context, before time.Time, limit int) (int64, error) {
	return q.deleteOld(ctx, "delete audit", sqlq.DeleteAudit, before, limit)
}

func (q q) DeleteDeliveries(ctx context.Context, before time.Time, limit int) (int64, error) {
	return q.deleteOld(ctx, "delete deliveries", sqlq.DeleteDeliveries, before, limit)
}

func (q q) DeleteEvents(ctx context.Context, before time.Time, limit int) (int64, error) {
	return q.deleteOld(ctx, "delete events", sqlq.DeleteEvents, before, limit)
}

// EnsureSetting stores value under name unless a value is stored there already, and returns the stored
// value.
func (db *DB) EnsureSetting(ctx context.Context, name, value string) (string, error) {
	var got string
	err := db.InTx(ctx, func(tx store.Store) error {
		t := tx.(*txStore)
		if _, err := t.w.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`,
			name, value); err != nil {
			return err
		}
		return t.w.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&got)
	})
	return got, mapErr("ensure setting", err)
}
