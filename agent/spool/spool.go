// Package spool is the agent's durable print-job spool: every job the server sends is written here
// (and synced to disk) before the agent acknowledges it, and every step of its printing is recorded
// before the agent tells the server about it, so an agent that crashes or loses power at any moment
// finds, on restart, exactly which jobs it owes and how far each got. It also keeps finished jobs for the
// local API's history and previews until they are purged.
//
// The spool is one SQLite file (modernc.org/sqlite, pure Go) in WAL mode with synchronous=FULL: a
// method that changes a job returns only after the change is on disk. Changes made at the same moment
// share one transaction and one sync (group commit, commit.go). See docs/spool.md for the job life
// cycle and the one window in which a crash can still print a label twice.
package spool

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// States of a spooled job. A job is open while received or printing, finished when done or failed.
const (
	Received = "received" // stored; not yet written to the printer
	Printing = "printing" // the agent has started writing it (see Job.InFlight and Job.CopiesDone)
	Done     = "done"     // every copy was handed to the printer
	Failed   = "failed"   // given up; Reason says why
	// Cancelled: discarded before any of it was written (a cancel from the server, or a discard at
	// the agent); it never prints.
	Cancelled = "cancelled"
)

// Errors callers branch on.
var (
	ErrNotFound = errors.New("spool: job not found")
	ErrFinished = errors.New("spool: job already finished")
	ErrClosed   = errors.New("spool: closed")
)

// Job is one spooled job.
type Job struct {
	Seq       int64 // order of arrival
	ID        string
	PrinterID string
	Title     string
	Content   []byte // nil in List results
	Size      int
	ZPL       bool // the content holds a ZPL format (^XA), so it has a preview
	Copies    int
	ExpiresAt time.Time // zero: never

	State string
	// Reason: why the job failed, or (Waiting) why it waits.
	Reason string
	// Waiting is true while an open job waits for its printer (reported as failed with retry=true).
	Waiting bool
	// CopiesDone is how many copies were completely handed to the printer.
	CopiesDone int
	// InFlight is true from just before a copy's bytes go to the printer until the write is known to
	// have ended. A job found InFlight after a restart may have printed that copy (docs/spool.md).
	InFlight bool
	Attempts int // writes started
	// Deliveries counts how often the server sent the job (a redelivery is not printed again).
	Deliveries int

	ReceivedAt time.Time
	UpdatedAt  time.Time
	FinishedAt time.Time // zero while open

	// Reported is the status key (see Key) last sent to the server, "" if none; ReportedAt when.
	// It is written lazily (MarkReported): after a crash a status may be sent again, never lost.
	Reported   string
	ReportedAt time.Time
}

// Open reports whether the job is still to be printed.
func (j Job) Open() bool { return j.State == Received || j.State == Printing }

// Expired reports whether the job's expiry has passed at now (inclusive, as on the server).
func (j Job) Expired(now time.Time) bool { return !j.ExpiresAt.IsZero() && !now.Before(j.ExpiresAt) }

// Key is the identity of the status the job should report now: its state, whether it waits, and the
// reason. When Key differs from Reported the server has not heard the latest.
func (j Job) Key() string {
	w := "0"
	if j.Waiting {
		w = "1"
	}
	return j.State + "|" + w + "|" + j.Reason
}

// Spool is an open spool file. Its methods are safe for concurrent use.
type Spool struct {
	db   *sql.DB
	path string
	st   stmts
	cm   committer
	// notFull: the connection was left at synchronous=NORMAL (committer goroutine only).
	notFull bool

	mu      sync.Mutex // protects the following
	pending []*change  // changes waiting for the committer, in order
	eager   int        // how many of them are not lazy
	lazyDue bool       // a lazy change waited lazyMax: commit
	closed  bool
}

// FileName is the spool's file name in the agent's state directory.
const FileName = "spool.db"

const schemaVersion = 1

const schema = `
CREATE TABLE IF NOT EXISTS jobs (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	id          TEXT    NOT NULL UNIQUE,
	printer_id  TEXT    NOT NULL,
	title       TEXT    NOT NULL DEFAULT '',
	content     BLOB    NOT NULL,
	copies      INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL DEFAULT 0,
	state       TEXT    NOT NULL,
	reason      TEXT    NOT NULL DEFAULT '',
	waiting     INTEGER NOT NULL DEFAULT 0,
	copies_done INTEGER NOT NULL DEFAULT 0,
	in_flight   INTEGER NOT NULL DEFAULT 0,
	attempts    INTEGER NOT NULL DEFAULT 0,
	deliveries  INTEGER NOT NULL DEFAULT 1,
	received_at INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	finished_at INTEGER NOT NULL DEFAULT 0,
	reported    TEXT    NOT NULL DEFAULT '',
	reported_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_open ON jobs (state, seq) WHERE state IN ('received', 'printing');
CREATE INDEX IF NOT EXISTS jobs_finished ON jobs (finished_at) WHERE finished_at <> 0;
`

// OpenFile opens (creating if needed) the spool at path. The directory must exist.
func OpenFile(ctx context.Context, path string) (*Spool, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("spool: open: %w", err)
	}
	// synchronous=FULL: a commit returns after the WAL is synced, so an acknowledged step survives a
	// power loss, not only a crash of the process.
	dsn := "file:" + (&url.URL{Path: abs}).EscapedPath() +
		"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("spool: open: %w", err)
	}
	// One connection: SQLite has one writer, and serialising here avoids SQLITE_BUSY between our own
	// goroutines. Reads are short (the content is read by ID only).
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	s := &Spool{db: db, path: abs, cm: committer{kick: make(chan struct{}, 1), exited: make(chan struct{})}}
	err = s.migrate(ctx)
	if err == nil {
		err = s.prepare(ctx)
	}
	if err != nil {
		s.closeStmts()
		db.Close()
		return nil, err
	}
	_ = os.Chmod(abs, 0o600)
	go s.commitLoop()
	return s, nil
}

// Open opens the spool of the agent state directory dir (dir/spool.db).
func Open(ctx context.Context, dir string) (*Spool, error) {
	return OpenFile(ctx, filepath.Join(dir, FileName))
}

// Path is the spool file.
func (s *Spool) Path() string { return s.path }

// Close closes the spool after committing the changes already pending; later changes fail with
// ErrClosed.
func (s *Spool) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.cm.kick)
	}
	s.mu.Unlock()
	<-s.cm.exited
	s.closeStmts()
	return s.db.Close()
}

func (s *Spool) migrate(ctx context.Context) error {
	var v int
	if err := s.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return fmt.Errorf("spool: open: %w", err)
	}
	if v > schemaVersion {
		return fmt.Errorf("spool: open: the spool was written by a newer agent (schema %d > %d)", v, schemaVersion)
	}
	if v == schemaVersion {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("spool: migrate: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("spool: migrate: %w", err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, schemaVersion)); err != nil {
		return fmt.Errorf("spool: migrate: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("spool: migrate: %w", err)
	}
	return nil
}

func us(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func ut(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// cols are a job's columns as Job reads them; its ZPL expression has a Go twin, hasZPL (AddLater).
const cols = `seq, id, printer_id, title, length(content), instr(content, X'5E5841') > 0 OR instr(content, X'5E7861') > 0, copies, expires_at, state, reason, waiting, copies_done,
	in_flight, attempts, deliveries, received_at, updated_at, finished_at, reported, reported_at`

func scan(sc interface{ Scan(...any) error }, withContent bool) (Job, error) {
	var j Job
	var exp, rec, upd, fin, rep int64
	dest := []any{&j.Seq, &j.ID, &j.PrinterID, &j.Title, &j.Size, &j.ZPL, &j.Copies, &exp, &j.State, &j.Reason, &j.Waiting,
		&j.CopiesDone, &j.InFlight, &j.Attempts, &j.Deliveries, &rec, &upd, &fin, &j.Reported, &rep}
	if withContent {
		dest = append(dest, &j.Content)
	}
	if err := sc.Scan(dest...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return j, ErrNotFound
		}
		return j, err
	}
	j.ExpiresAt, j.ReceivedAt, j.UpdatedAt, j.FinishedAt, j.ReportedAt = ut(exp), ut(rec), ut(upd), ut(fin), ut(rep)
	return j, nil
}

// NewJob is what the server sent.
type NewJob struct {
	ID        string
	PrinterID string
	Title     string
	Content   []byte
	Copies    int
	ExpiresAt time.Time
}

// Add stores a job the server sent, durably, unless a job with its ID is already spooled. It returns the
// job as stored and whether it was new; for a job already there (a redelivery) it counts the delivery and
// changes nothing else. The returned Content is the job's for a new job, nil for a redelivery.
func (s *Spool) Add(ctx context.Context, n NewJob, now time.Time) (Job, bool, error) {
	if n.ID == "" {
		return Job{}, false, errors.New("spool: add: empty job ID")
	}
	n = n.normal()
	var j Job
	var isNew bool
	err := s.write(ctx, s.addFn(n, now, &j, &isNew))
	if err != nil {
		return Job{}, false, s.wrap("add", err)
	}
	if isNew {
		j.Content = n.Content
	}
	return j, isNew, nil
}

// normal is n as stored: at least one copy, a content that is not nil.
func (n NewJob) normal() NewJob {
	n.Copies = max(n.Copies, 1)
	if n.Content == nil {
		n.Content = []byte{}
	}
	return n
}

// addFn is the change Add makes; its result goes to *j and *isNew.
func (s *Spool) addFn(n NewJob, now time.Time, j *Job, isNew *bool) func(tx *sql.Tx) error {
	return func(tx *sql.Tx) error {
		var err error
		*j, err = scan(s.in(tx, s.st.insert).QueryRow(n.ID, n.PrinterID, n.Title, n.Content, n.Copies, us(n.ExpiresAt), us(now), us(now)), false)
		if *isNew = err == nil; *isNew || !errors.Is(err, ErrNotFound) {
			return err
		}
		// Already there: a redelivery.
		*j, err = scan(s.in(tx, s.st.redeliver).QueryRow(n.ID), false)
		return err
	}
}

func (s *Spool) wrap(op string, err error) error {
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrFinished) {
		return fmt.Errorf("spool: %s: %w", op, err)
	}
	if msg := err.Error(); strings.Contains(msg, "database is closed") || strings.Contains(msg, "statement is closed") {
		return fmt.Errorf("spool: %s: %w", op, ErrClosed)
	}
	return fmt.Errorf("spool: %s: %w", op, err)
}

// Get returns the job with its content.
func (s *Spool) Get(ctx context.Context, id string) (Job, error) {
	j, err := scan(s.st.get.QueryRowContext(ctx, id), true)
	if err != nil {
		return j, s.wrap("get", err)
	}
	return j, nil
}

// OpenJobs returns the open jobs (received or printing) with their content, oldest first.
func (s *Spool) OpenJobs(ctx context.Context) ([]Job, error) {
	return s.query(ctx, "open jobs", true, `SELECT `+cols+`, content FROM jobs WHERE state IN ('received', 'printing') ORDER BY seq`)
}

// List returns up to limit jobs without their content, newest first.
func (s *Spool) List(ctx context.Context, limit int) ([]Job, error) {
	if limit <= 0 {
		limit = 100
	}
	return s.query(ctx, "list", false, `SELECT `+cols+` FROM jobs ORDER BY seq DESC LIMIT ?`, limit)
}

// Unreported returns, without content, the jobs whose latest status the server may not have: the
// status changed since it was last sent, or it was sent at or after since (non-zero), when a connection
// that may have lost it ended. Oldest first.
func (s *Spool) Unreported(ctx context.Context, since time.Time) ([]Job, error) {
	return s.query(ctx, "unreported", false, `SELECT `+cols+` FROM jobs
		WHERE reported <> state || '|' || waiting || '|' || reason OR (? <> 0 AND reported_at >= ?)
		ORDER BY seq`, us(since), us(since))
}

func (s *Spool) query(ctx context.Context, op string, withContent bool, q string, args ...any) ([]Job, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		j, err := scan(rows, withContent)
		if err != nil {
			return nil, s.wrap(op, err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(op, err)
	}
	return out, nil
}

// Report is one status sent to the server.
type Report struct {
	ID  string
	Key string // Job.Key() at the time it was sent
	At  time.Time
}

// MarkReported records statuses sent to the server, in one transaction. It is not synced on its own
// (a crash may forget it: the status is then sent again, which the server ignores): it joins whatever
// other changes are pending, and alone it is committed with synchronous=NORMAL.
func (s *Spool) MarkReported(ctx context.Context, reps []Report) error {
	if len(reps) == 0 {
		return nil
	}
	return s.wrap2("mark reported", s.writeChange(ctx, &change{noSync: true, done: make(chan error, 1), fn: func(tx *sql.Tx) error {
		st := tx.Stmt(s.st.report)
		for _, r := range reps {
			if _, err := st.Exec(r.Key, us(r.At), r.ID, us(r.At)); err != nil {
				return err
			}
		}
		return nil
	}}))
}

func (s *Spool) wrap2(op string, err error) error {
	if err == nil {
		return nil
	}
	return s.wrap(op, err)
}

// Purge deletes finished jobs that finished before before, and the oldest finished jobs beyond keep
// (keep <= 0: no limit). It returns how many it deleted.
func (s *Spool) Purge(ctx context.Context, before time.Time, keep int) (int64, error) {
	var n int64
	res, err := s.db.ExecContext(ctx, `DELETE FROM jobs WHERE finished_at <> 0 AND finished_at < ?`, us(before))
	if err != nil {
		return 0, s.wrap("purge", err)
	}
	c, _ := res.RowsAffected()
	n += c
	if keep > 0 {
		res, err = s.db.ExecContext(ctx, `DELETE FROM jobs WHERE finished_at <> 0 AND seq NOT IN
			(SELECT seq FROM jobs WHERE finished_at <> 0 ORDER BY seq DESC LIMIT ?)`, keep)
		if err != nil {
			return n, s.wrap("purge", err)
		}
		c, _ = res.RowsAffected()
		n += c
	}
	return n, nil
}

// Counts returns how many jobs are open and finished.
func (s *Spool) Counts(ctx context.Context) (open, finished int, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(state IN ('received', 'printing')), 0), COALESCE(SUM(state NOT IN ('received', 'printing')), 0)
		FROM jobs`).Scan(&open, &finished)
	return open, finished, s.wrap2("counts", err)
}
