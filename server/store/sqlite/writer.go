package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"printdock/server/store"
)

// maxGroup bounds how many InTx calls share one SQLite transaction.
const maxGroup = 128

// errClosed is returned by InTx after Close.
var errClosed = errors.New("sqlite: store closed")

// Group commit. SQLite has one writer, and every transaction pays BEGIN IMMEDIATE, COMMIT (a WAL append)
// and the hand-over of the writer connection. Under load, InTx calls therefore share transactions: one
// goroutine (the writer) owns the write transaction and runs the queued InTx functions one after another
// in it; the calls that queued while the writer was busy join the open transaction (up to maxGroup), then
// it commits once. An InTx call returns after the commit of the transaction that holds its work, so
// "InTx returned nil" still means "committed". Functions still run one after another, so the serial
// semantics InTx callers rely on are unchanged. At low load a group is one call.
//
// When a function fails (or panics), the transaction — which then holds its partial writes — is rolled
// back as a whole, the failed call is answered, and the functions that had succeeded in it run again in a
// new transaction (InTx functions may run more than once, as store.Store.InTx documents: the PostgreSQL
// store retries serialization failures the same way). This costs a rerun on the rare failure instead of a SAVEPOINT and RELEASE around
// every call. A panic is re-raised on the caller's goroutine.
//
// fn runs on the writer goroutine: handing the transaction to each caller's goroutine and back costs two
// scheduler round trips per call, which under load is most of a group's time.
//
// If COMMIT fails, every call in the group gets the error and none of their work is kept.

type txReq struct {
	ctx  context.Context
	fn   func(tx store.Store) error
	done chan txResult // buffered
}

type txResult struct {
	err      error
	panicked bool
	pval     any
}

// InTx runs fn in a write transaction (BEGIN IMMEDIATE on the writer connection), possibly shared with
// concurrent InTx calls (group commit, see above). It returns once the transaction has committed.
func (db *DB) InTx(ctx context.Context, fn func(tx store.Store) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	r := &txReq{ctx: ctx, fn: fn, done: make(chan txResult, 1)}
	select {
	case db.reqs <- r:
	case <-db.quit:
		return errClosed
	}
	res := <-r.done
	if res.panicked {
		panic(res.pval)
	}
	return res.err
}

// writeLoop is the writer goroutine: it runs groups of InTx calls until Close.
func (db *DB) writeLoop() {
	quit := false
	defer func() {
		if quit {
			close(db.loopDone)
			return
		}
		// An fn called runtime.Goexit (t.FailNow in a test) on this goroutine; group cleaned up.
		go db.writeLoop()
	}()
	for {
		select {
		case r := <-db.reqs:
			db.group(r)
		case <-db.finish:
			db.finishCheckpoint()
		case <-db.quit:
			quit = true
			return
		}
	}
}

// call runs fn, recovering a panic. exited reports runtime.Goexit.
func call(fn func(store.Store) error, t store.Store) (res txResult) {
	normal := false
	defer func() {
		if !normal {
			if p := recover(); p != nil {
				res = txResult{panicked: true, pval: p}
			}
		}
	}()
	err := fn(t)
	normal = true
	return txResult{err: err}
}

// Stats counts the store's work since Open: statements run on the writer (inside write transactions and
// single writes) and on the read pool, write transactions committed and the InTx calls they held, and the
// writer's finishing checkpoints (checkpoint.go) with the time the writer spent in them.
type Stats struct {
	Writes, Reads       int64
	Transactions, Calls int64
	WALRestarts         int64
	WALRestartTime      time.Duration
}

// Stats returns the counts so far (metrics, debugging and benchmarks: statements per job).
func (db *DB) Stats() Stats {
	return Stats{Writes: db.ws.n.Load(), Reads: db.rs.n.Load(), Transactions: db.txs.Load(), Calls: db.calls.Load(),
		WALRestarts: db.finishes.Load(), WALRestartTime: time.Duration(db.finishNanos.Load())}
}

// group runs first and the calls queued behind it in one transaction.
func (db *DB) group(first *txReq) {
	queue := []*txReq{first} // to run before taking more from db.reqs
	taken := 1
	var ok []*txReq // succeeded, waiting for the commit
	var cur *txReq  // running
	var tx *sql.Tx
	completed := false
	direct := false // write appended rows at once (after pending rows failed to be written)
	defer func() {
		if completed {
			return
		}
		// runtime.Goexit in fn: give up the group.
		if tx != nil {
			_ = tx.Rollback()
		}
		err := errors.New("sqlite: transaction abandoned: a function exited its goroutine")
		for _, r := range append(append(ok, queue...), cur) {
			if r != nil {
				r.done <- txResult{err: err}
			}
		}
	}()
	for {
		var err error
		tx, err = db.w.BeginTx(context.Background(), nil)
		if err != nil {
			for _, r := range queue {
				r.done <- txResult{err: fmt.Errorf("sqlite: begin: %w", err)}
			}
			tx, queue, completed = nil, nil, true
			return
		}
		var p *pending
		if !direct {
			p = &pending{}
		}
		x := txExec{tx: tx, c: db.ws, p: p}
		t := &txStore{q: q{w: x, r: x, h: db.h}, p: p}
		failed := false
		for !failed {
			var r *txReq
			if len(queue) > 0 {
				r, queue = queue[0], queue[1:]
			} else if taken < maxGroup {
				select {
				case r = <-db.reqs:
					taken++
				default:
				}
			}
			if r == nil {
				break
			}
			if err := r.ctx.Err(); err != nil {
				r.done <- txResult{err: fmt.Errorf("sqlite: begin: %w", err)}
				continue
			}
			cur = r
			res := call(r.fn, t)
			cur = nil
			if res.err == nil && !res.panicked {
				ok = append(ok, r)
				continue
			}
			// fn failed (or panicked) with its writes mixed into the transaction: roll all of it back,
			// answer r, and run the calls that had succeeded again in a new transaction.
			_ = tx.Rollback()
			tx = nil
			r.done <- res
			queue = append(ok, queue...)
			ok = nil
			failed = true
		}
		if failed {
			continue
		}
		if p != nil {
			err := p.err
			if err == nil {
				err = p.flush(context.Background(), txExec{tx: tx, c: db.ws})
			}
			if err != nil {
				// A pending row was refused: run the group again writing each row as it is appended, so
				// that the call that appended it fails alone.
				_ = tx.Rollback()
				tx = nil
				queue = append(ok, queue...)
				ok, direct = nil, true
				continue
			}
		}
		err = tx.Commit()
		db.txs.Add(1)
		db.calls.Add(int64(len(ok)))
		if err != nil {
			err = fmt.Errorf("sqlite: commit: %w", err)
		}
		tx, completed = nil, true
		for _, r := range ok {
			r.done <- txResult{err: err}
		}
		db.committed()
		db.ws.prepareWanted(context.Background())
		return
	}
}
