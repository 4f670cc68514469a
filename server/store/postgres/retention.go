package postgres

import (
	"context"
	"fmt"
	"time"

	"printdock/server/store/internal/sqlq"
)

// Retention (store.RetentionStore) and running a task on one replica at a time (store.Exclusive).

func (q q) DropJobContent(ctx context.Context, before time.Time, limit int) (int64, error) {
	var p args
	if _, err := q.exec(ctx, "drop job previews", sqlq.DropJobPreviews(p.add, before, limit), p...); err != nil {
		return 0, err
	}
	var a args
	return q.exec(ctx, "drop job content", `UPDATE jobs SET content = ''::bytea WHERE id IN (SELECT id FROM jobs
		WHERE finished_at IS NOT NULL AND octet_length(content) > 0 AND finished_at < `+a.add(before)+`
		ORDER BY finished_at LIMIT `+a.add(limit)+`)`, a...)
}

// deleteOld runs one retention DELETE that query builds: at most limit rows older than before.
func (q q) deleteOld(ctx context.Context, op string, query func(sqlq.Arg, time.Time, int) string, before time.Time, limit int) (int64, error) {
	var a args
	return q.exec(ctx, op, query(a.add, before, limit), a...)
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

// taskLock is the advisory lock key of the current schema's task name ($1).
const taskLock = `hashtextextended('printdock.task.' || current_schema() || '.' || $1, 0)`

// RunExclusive runs fn while holding a session advisory lock named after the schema and name on a
// connection of its own, so that one replica at a time runs the task; it returns ran = false at once when
// another replica holds the lock. Closing that connection releases the lock even if the unlock is lost.
func (db *DB) RunExclusive(ctx context.Context, name string, fn func(ctx context.Context) error) (bool, error) {
	c, err := db.pool.dial(ctx)
	if err != nil {
		return false, fmt.Errorf("postgres: run %s: %w", name, err)
	}
	defer closeConn(c)
	var ok bool
	if err := c.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+taskLock+`)`, name).Scan(&ok); err != nil {
		return false, fmt.Errorf("postgres: run %s: lock: %w", name, err)
	}
	if !ok {
		return false, nil
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeWait)
		defer cancel()
		_, _ = c.Exec(ctx, `SELECT pg_advisory_unlock(`+taskLock+`)`, name)
	}()
	return true, fn(ctx)
}
