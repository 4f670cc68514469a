package spool

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The steps of a job's printing: each changes an open job and returns it.

// update changes an open job with st (args, then the ID) and returns it (without content); ErrFinished
// when it is finished.
func (s *Spool) update(ctx context.Context, op, id string, st *sql.Stmt, args ...any) (Job, error) {
	var j Job
	err := s.write(ctx, s.updateFn(&j, id, st, args))
	if err != nil {
		return j, s.wrap(op, err)
	}
	return j, nil
}

// updateFn is the change update makes, its result stored in *j.
func (s *Spool) updateFn(j *Job, id string, st *sql.Stmt, args []any) func(tx *sql.Tx) error {
	args = append(args, id)
	return func(tx *sql.Tx) error {
		var err error
		*j, err = scan(s.in(tx, st).QueryRow(args...), false)
		if errors.Is(err, ErrNotFound) {
			var one int
			if gerr := s.in(tx, s.st.exists).QueryRow(id).Scan(&one); gerr == nil {
				err = ErrFinished
			}
		}
		return err
	}
}

// StartCopy records, durably, that copy CopiesDone+1 of the job is about to be written to the printer:
// the job becomes printing and in flight. Call it before the first byte goes out.
func (s *Spool) StartCopy(ctx context.Context, id string, now time.Time) (Job, error) {
	return s.update(ctx, "start copy", id, s.st.startCopy, us(now))
}

// CopyWritten records, durably, that the copy in flight reached the printer completely. After the last
// copy the job is done.
func (s *Spool) CopyWritten(ctx context.Context, id string, now time.Time) (Job, error) {
	return s.update(ctx, "copy written", id, s.st.copyWritten, us(now), us(now))
}

// CopyWrittenLater is CopyWritten as a lazy change: it returns at once, the change is committed with
// the spool's next change (or within lazyMax), and then gets the result after that commit, in a
// goroutine of its own. Nothing may be told of the copy's completion before then is called.
func (s *Spool) CopyWrittenLater(id string, now time.Time, then func(Job, error)) {
	var j Job
	s.later(s.updateFn(&j, id, s.st.copyWritten, []any{us(now), us(now)}), true, func(err error) {
		if err != nil {
			then(j, s.wrap("copy written", err))
			return
		}
		then(j, nil)
	})
}

// NotWritten records that the copy in flight did not reach the printer at all (the write failed before
// anything that could print went out), so writing it again cannot print it twice.
func (s *Spool) NotWritten(ctx context.Context, id string, now time.Time) (Job, error) {
	return s.update(ctx, "not written", id, s.st.notWritten, us(now))
}

// Wait records that the job waits for its printer, and why.
func (s *Spool) Wait(ctx context.Context, id, reason string, now time.Time) (Job, error) {
	return s.update(ctx, "wait", id, s.st.waiting, reason, us(now))
}

// Finish ends an open job as done, failed or cancelled (with reason).
func (s *Spool) Finish(ctx context.Context, id, state, reason string, now time.Time) (Job, error) {
	if state != Done && state != Failed && state != Cancelled {
		return Job{}, fmt.Errorf("spool: finish: bad state %q", state)
	}
	return s.update(ctx, "finish", id, s.st.finish, state, reason, us(now), us(now))
}
