package spool

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"sync/atomic"
	"time"
)

// Group commit. Every change goes through one committer goroutine: it takes all the changes pending at
// that moment and applies them in one transaction, so they share one commit (one fsync of the WAL).
// A caller still returns only after its change is on disk, exactly as with a commit of its own; callers
// that arrive while a commit is being synced simply wait for the next one. A change that fails (other
// than ErrNotFound / ErrFinished, which change nothing) rolls its batch back, and the batch is then
// applied one change per transaction so each caller gets its own answer.
//
// A lazy change (Later) does not start a commit: it waits, at most lazyMax, for the next change that
// does, and its caller hears of it (then) only after that commit. A printer's worker uses it for the
// last CopyWritten of a job when the next job is already queued, so that it shares a commit with the
// next job's StartCopy; the job's done status goes out only after the commit, as before. The agent
// inserts a new job with one (AddLater), so that the insert shares the commit of the job's first step.

// maxBatch bounds the changes of one transaction (a job's content can be megabytes).
const maxBatch = 128

// lazyMax is the longest a lazy change waits for another change to share its commit.
const lazyMax = 10 * time.Millisecond

// change is one pending change: fn runs inside the batch's transaction (tx), or, for a change that is
// alone in its batch and one statement (alone), with tx nil: that statement commits on its own
// (autocommit), which saves the BEGIN and COMMIT statements.
type change struct {
	fn    func(tx *sql.Tx) error
	alone bool
	done  chan error  // buffered; nil for a lazy change
	then  func(error) // a lazy change's answer, called after the commit
	// noSync: the change need not be synced (MarkReported). A batch of such changes only is committed
	// with synchronous=NORMAL; with any other change it is synced like the rest.
	noSync bool
	timer  *time.Timer // a lazy change's lazyMax; stopped when it is committed sooner
}

// committer is the Spool's group-commit state.
type committer struct {
	kick    chan struct{} // buffered 1: there is pending work
	exited  chan struct{} // closed when the committer goroutine ends
	commits atomic.Int64  // transactions committed (benchmarks)
	changes atomic.Int64  // changes applied (benchmarks)
}

// Commits returns how many transactions the spool committed and how many changes they held since it was
// opened (for benchmarks: changes ÷ commits is the batching achieved).
func (s *Spool) Commits() (commits, changes int64) {
	return s.cm.commits.Load(), s.cm.changes.Load()
}

// write applies fn in a transaction shared with whatever other changes are pending, and returns when it
// is committed (synced). fn's error is the caller's; ErrNotFound and ErrFinished leave the batch intact.
// If ctx ends before the committer took the change, it is dropped; once taken, write waits for its end
// so that the caller never mistakes a committed change for a failed one.
// fn must be one statement that changes anything (s.in gives it its statements).
func (s *Spool) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.writeChange(ctx, &change{fn: fn, alone: true, done: make(chan error, 1)})
}

// in is st as run by a change: in its transaction, or on its own when tx is nil.
func (s *Spool) in(tx *sql.Tx, st *sql.Stmt) *sql.Stmt {
	if tx == nil {
		return st
	}
	return tx.Stmt(st)
}

func (s *Spool) writeChange(ctx context.Context, c *change) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.pending = append(s.pending, c)
	s.eager++
	select { // under mu: Close closes kick under mu
	case s.cm.kick <- struct{}{}:
	default:
	}
	s.mu.Unlock()
	select {
	case err := <-c.done:
		return err
	case <-ctx.Done():
		s.mu.Lock()
		if i := slices.Index(s.pending, c); i >= 0 {
			s.pending = slices.Delete(s.pending, i, i+1)
			s.eager--
			s.mu.Unlock()
			return ctx.Err()
		}
		s.mu.Unlock()
		return <-c.done
	}
}

// later queues fn as a lazy change: committed with the next change that is not, or after lazyMax; then
// gets its answer (in a goroutine of its own) after that commit.
func (s *Spool) later(fn func(tx *sql.Tx) error, alone bool, then func(error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		go then(ErrClosed)
		return
	}
	c := &change{fn: fn, alone: alone, then: then}
	s.pending = append(s.pending, c)
	c.timer = time.AfterFunc(lazyMax, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		// Only while c waits: a timer that fires as c's commit begins must not hurry a later lazy change.
		if !s.closed && slices.Contains(s.pending, c) {
			s.lazyDue = true
			select {
			case s.cm.kick <- struct{}{}:
			default:
			}
		}
	})
}

// commitLoop is the committer goroutine: it runs until Close, committing what is pending, and at Close
// commits what is left (lazy changes too).
func (s *Spool) commitLoop() {
	defer close(s.cm.exited)
	for {
		_, open := <-s.cm.kick
		s.commitDue()
		if !open {
			return
		}
	}
}

// commitDue commits the pending changes, unless all of them are lazy and none is due yet.
func (s *Spool) commitDue() {
	for {
		s.mu.Lock()
		if len(s.pending) == 0 || s.eager == 0 && !s.lazyDue && !s.closed {
			if len(s.pending) == 0 {
				s.lazyDue = false
			}
			s.mu.Unlock()
			return
		}
		n := min(len(s.pending), maxBatch)
		batch := slices.Clone(s.pending[:n])
		s.pending = slices.Delete(s.pending, 0, n)
		for _, c := range batch {
			if c.done != nil {
				s.eager--
			}
			if c.timer != nil {
				c.timer.Stop() // committed before its lazyMax
			}
		}
		if len(s.pending) == 0 {
			s.lazyDue = false
		}
		s.mu.Unlock()
		s.commitBatch(batch)
	}
}

// answer gives c its result.
func (c *change) answer(err error) {
	if c.done != nil {
		c.done <- err
		return
	}
	go c.then(err)
}

// commitBatch applies batch in one transaction, or, if that fails, each change in its own.
func (s *Spool) commitBatch(batch []*change) {
	errs := make([]error, len(batch))
	if err := s.commitTx(batch, errs); err == nil || len(batch) == 1 {
		for i, c := range batch {
			if err != nil {
				errs[i] = err
			}
			c.answer(errs[i])
		}
		return
	}
	for _, c := range batch {
		one := []*change{c}
		e := []error{nil}
		if err := s.commitTx(one, e); err != nil {
			e[0] = err
		}
		c.answer(e[0])
	}
}

// benign errors are answers, not failures: the change did nothing and the batch goes on.
func benign(err error) bool { return errors.Is(err, ErrNotFound) || errors.Is(err, ErrFinished) }

// syncFull sets the connection back to synchronous=FULL if a batch of unsynced changes left it at
// NORMAL; s.notFull stays set while that fails, so a synced change never commits without FULL.
func (s *Spool) syncFull(ctx context.Context) error {
	if !s.notFull {
		return nil
	}
	if _, err := s.db.ExecContext(ctx, `PRAGMA synchronous = FULL`); err != nil {
		return err
	}
	s.notFull = false
	return nil
}

// commitTx runs batch in one transaction and commits it; errs gets each change's benign answer.
func (s *Spool) commitTx(batch []*change, errs []error) error {
	ctx := context.Background()
	noSync := !slices.ContainsFunc(batch, func(c *change) bool { return !c.noSync })
	if len(batch) == 1 && batch[0].alone && !noSync {
		if err := s.syncFull(ctx); err != nil {
			return err
		}
		err := batch[0].fn(nil)
		if err != nil && !benign(err) {
			return err
		}
		errs[0] = err
		s.cm.commits.Add(1)
		s.cm.changes.Add(1)
		return nil
	}
	// The one connection's synchronous setting: NORMAL for this batch only, FULL for every other.
	if noSync {
		if _, err := s.db.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
			return err
		}
		s.notFull = true
		defer func() { _ = s.syncFull(ctx) }() // a failure leaves notFull set: the next synced batch tries again
	} else if err := s.syncFull(ctx); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	for i, c := range batch {
		if err := c.fn(tx); err != nil {
			if !benign(err) {
				_ = tx.Rollback()
				return err
			}
			errs[i] = err
		}
	}
	if err := tx.Commit(); err != nil {
		// A failed COMMIT may leave the connection's transaction open (SQLite keeps it after some
		// errors); end it so the next batch starts clean.
		_, _ = s.db.ExecContext(context.Background(), `ROLLBACK`)
		return err
	}
	s.cm.commits.Add(1)
	s.cm.changes.Add(int64(len(batch)))
	return nil
}
