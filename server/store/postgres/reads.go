package postgres

import (
	"context"

	"printdock/server/store"
)

// Fewer serialization failures on the delivery path.
//
// Under SERIALIZABLE every statement takes SIRead (predicate) locks on what it reads — whole B-tree
// pages, or a whole table after a sequential scan — and a transaction whose reads another one writes,
// and whose writes a third one read, is aborted as a pivot (SQLSTATE 40001). Three replicas delivering
// and acknowledging jobs while every replica's event bus reads the event log made such pivots of almost
// every delivery (docs/benchmarks.md). Two things keep the reads out of that graph:
//
//   - Standalone reads (outside a transaction: ListEvents, LastEventID, PendingJobs, GetJob, ListJobs,
//     ListJobEvents, GetClient) run READ COMMITTED, read only, on connections of their own (DB.reads).
//     A single statement sees one snapshot of committed rows at either level; whatever the caller does
//     with the answer happens in another transaction, which SERIALIZABLE could not protect either. What
//     the read gives up is only its own place in a serial order (the read-only anomaly), which none of
//     these callers depend on: the event bus and webhook sender rely on event IDs committing in order
//     (the advisory lock of AppendEvent gives that at any level), PendingFor's answer is a hint that
//     MarkSent checks again, and the API's job reads show what was committed.
//   - A transaction begun with store.WithRowLocks (jobs.inBatch: mark sent, job statuses) runs READ
//     COMMITTED, on a pool of its own (DB.batches), and GetJob in it locks the job's row FOR UPDATE (the
//     batch locks all its jobs first, in ID order, with LockJobs: a delivery batch and a status batch of
//     one client used to lock them in different orders, and PostgreSQL breaks a deadlock only after
//     deadlock_timeout, a second). Its decisions rest on that row alone
//     (state, received_at, cancel request, expiry), which stays as read until commit, and every write is
//     to that row (UpdateJob, still guarded by its state) or appends (job_events, events — in order by
//     the advisory lock). The other rows it reads (the client's session counter, the printer's URI, the
//     portal's webhooks) are read at the statement's moment, as SERIALIZABLE would order the
//     transaction before a change committed after it; a stale session counter can only cause one extra
//     redelivery, which the agent's spool recognizes by job ID and does not print again.

// committed is q with its standalone statements run READ COMMITTED, read only (on DB.reads); inside a
// transaction it is q.
func (s q) committed() q {
	if db, ok := s.r.(*DB); ok {
		return q{r: committedRunner{db}, rep: s.rep}
	}
	return s
}

// committedRunner runs each statement on a connection of DB.reads.
type committedRunner struct{ db *DB }

func (r committedRunner) run(ctx context.Context, fn func(c querier) error) error {
	return r.db.runOn(ctx, r.db.reads, fn)
}

var _ store.JobLocker = (*txStore)(nil)

// LockJobs locks the jobs' rows FOR UPDATE, in ID order, when t was begun with store.WithRowLocks (and
// does nothing otherwise: SERIALIZABLE needs no locks).
func (t *txStore) LockJobs(ctx context.Context, ids []string) error {
	if !t.locks || len(ids) == 0 {
		return nil
	}
	_, err := t.exec(ctx, "lock jobs", `SELECT 1 FROM (SELECT id FROM jobs WHERE id = ANY($1) ORDER BY id FOR UPDATE) l`, ids)
	return err
}
