package spool

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"time"
)

// AddLater is Add as a lazy change (commit.go), for a job the caller has checked is not spooled (Has):
// it returns at once with the job as it will be stored (no Seq; Content is n's), and the insert is
// committed with the spool's next change that is not lazy (a printer's StartCopy of this very job, say),
// or within lazyMax. then gets Add's answer after that commit, in a goroutine of its own.
//
// Nothing may be told of the job (received) before it is committed: before then is called, or before a
// change made after AddLater returned is committed (changes commit in the order they were made).
func (s *Spool) AddLater(n NewJob, now time.Time, then func(j Job, isNew bool, err error)) Job {
	if n.ID == "" {
		go then(Job{}, false, errors.New("spool: add: empty job ID"))
		return Job{}
	}
	n = n.normal()
	var j Job
	var isNew bool
	s.later(s.addFn(n, now, &j, &isNew), true, func(err error) {
		if err != nil {
			then(Job{}, false, s.wrap("add", err))
			return
		}
		if isNew {
			j.Content = n.Content
		}
		then(j, isNew, nil)
	})
	at := ut(us(now))
	return Job{ID: n.ID, PrinterID: n.PrinterID, Title: n.Title, Content: n.Content, Size: len(n.Content),
		ZPL: hasZPL(n.Content), Copies: n.Copies,
		ExpiresAt: ut(us(n.ExpiresAt)), State: Received, Deliveries: 1, ReceivedAt: at, UpdatedAt: at}
}

// Has reports whether a job with this ID is spooled (committed).
func (s *Spool) Has(ctx context.Context, id string) (bool, error) {
	var one int
	err := s.st.exists.QueryRowContext(ctx, id).Scan(&one)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	}
	return false, s.wrap("has", err)
}

// Sync returns once every change made before it, lazy ones too, is committed.
func (s *Spool) Sync(ctx context.Context) error {
	return s.writeChange(ctx, &change{fn: func(*sql.Tx) error { return nil }, done: make(chan error, 1)})
}

// hasZPL is Job.ZPL for content not read back from the file: cols computes the same in SQL (^XA or ^xa).
func hasZPL(content []byte) bool {
	return bytes.Contains(content, []byte("^XA")) || bytes.Contains(content, []byte("^xa"))
}
