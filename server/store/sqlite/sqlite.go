// Package sqlite is the embedded default store of printdock-server: a store.Store on one SQLite file
// (modernc.org/sqlite, pure Go) in WAL mode, with foreign keys on and a busy timeout.
//
// Writes go through a pool of exactly one connection (SQLite allows one writer; serializing in Go avoids
// SQLITE_BUSY between our own writers) and begin with BEGIN IMMEDIATE; concurrent InTx calls share
// transactions (group commit, writer.go). Reads use a separate small pool of query-only connections, which
// WAL lets run concurrently with the writer. Both pools reuse prepared statements (stmts.go). Schema
// migrations are embedded (migrations/NNN_name.sql, append-only) and applied in order on Open, recorded in
// schema_migrations.
//
// The queries live in one file per concern (users.go, keys.go, audit.go, clients.go, jobs.go); the SQL
// they share with store/postgres (column lists, the list filters, the job update) is in
// store/internal/sqlq.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"

	"printdock/server/store"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// cachePragmas give every connection (the writer and each reader) a page cache of at most 2 MiB
// (SQLite's default) and no memory-mapped I/O. Both bound the memory the database takes in a server
// that recorded many agents: with 19,000 idle agents each with a printer, a 16 MiB cache per connection
// and a 256 MiB mapping of the file held about 4.6 KiB of RSS per agent (the mapping counted once per
// connection that touched a page), about a seventh of the 32 KiB per agent the server is held to
// (issue 13); now at most 10 MiB in all. Throughput did not change measurably: server CPU per job at
// 1,000 jobs/s (printdock-bench --mode light) was within the run-to-run noise of the larger settings, a
// read connection's cache being dropped whenever another connection commits anyway (WAL), and the
// file's pages being in the OS page cache either way (a pread instead of a mapped read).
const cachePragmas = "&_pragma=cache_size(-2048)&_pragma=mmap_size(0)"

// The writer does not checkpoint the WAL itself (wal_autocheckpoint 0): a goroutine of its own does,
// beside it (checkpoint.go). When the writer checkpointed every 1000 pages, every 8192 pages copied less
// in total (the same few hot pages change in every transaction) but each checkpoint stalled the writer
// longer: submit → agent p99 at 1,000 jobs/s (printdock-bench --mode light, same run) was 87 ms against
// 23 ms, and at 250 jobs/s 44 ms against 10 ms.

// writerPragmas keep the writer's statement journals in memory (temp_store MEMORY). A statement that
// may change several rows — a multi-row INSERT (pending.go), an INSERT whose trigger writes more rows
// (migration 015) — saves the pages it changes that the transaction had already changed, to undo itself
// alone; on a file that copy was a pwrite per page under group commit, where most pages are shared.
const writerPragmas = "&_pragma=temp_store(2)"

// readers is the size of the read pool.
const readers = 4

// DB is a store.Store backed by SQLite.
type DB struct {
	q
	path   string // the database file
	dsn    string // its data source name, without _txlock or _query_only
	w, r   *sql.DB
	c      *sql.DB // the checkpointer's connection (checkpoint.go)
	ws, rs *stmts  // prepared statements of w and r

	reqs     chan *txReq   // InTx calls waiting for the writer (writer.go)
	quit     chan struct{} // closed by Close
	loopDone chan struct{} // closed when writeLoop has returned
	commits  chan struct{} // the writer committed (buffered 1; checkpoint.go)
	finish   chan struct{} // the checkpointer asks the writer to checkpoint
	ckptDone chan struct{} // closed when checkpointLoop has returned
	close    sync.Once
	closeErr error

	txs, calls atomic.Int64 // committed write transactions and the InTx calls they held (Stats)
	// finishes, finishNanos: the writer's finishing checkpoints and the time they took (Stats)
	finishes, finishNanos atomic.Int64
}

var _ store.Store = (*DB)(nil)

// Open opens (creating if needed) the database file at path and migrates it to the latest schema.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" || path == ":memory:" {
		return nil, errors.New("sqlite: open: a file path is required (WAL and the read pool need a file)")
	}
	base := "file:" + escapePath(path) + "?_busy_timeout=5000&_foreign_keys=1&_journal_mode=WAL&_synchronous=NORMAL"
	w, err := sql.Open("sqlite", base+"&_txlock=immediate"+cachePragmas+"&_pragma=wal_autocheckpoint(0)"+writerPragmas)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", base+"&_query_only=1"+cachePragmas)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	c, err := sql.Open("sqlite", base+cachePragmas)
	if err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	c.SetMaxOpenConns(1)
	c.SetMaxIdleConns(1)
	db := &DB{path: path, dsn: base, w: w, r: r, c: c, ws: newStmts(w), rs: newStmts(r),
		reqs: make(chan *txReq), quit: make(chan struct{}), loopDone: make(chan struct{}),
		commits: make(chan struct{}, 1), finish: make(chan struct{}), ckptDone: make(chan struct{})}
	db.q = q{w: pooled{w, db.ws}, r: pooled{r, db.rs}, db: db, h: &hints{}}
	if err := db.h.load(ctx, w); err != nil {
		c.Close()
		r.Close()
		w.Close()
		return nil, err
	}
	go db.writeLoop()
	go db.checkpointLoop()
	return db, nil
}

// Close stops the writer and closes both pools.
func (db *DB) Close() error {
	db.close.Do(func() {
		close(db.quit)
		<-db.loopDone
		<-db.ckptDone
		db.ws.close()
		db.rs.close()
		db.closeErr = errors.Join(db.c.Close(), db.r.Close(), db.w.Close())
	})
	return db.closeErr
}

// txStore is the store inside a write transaction; p keeps its appended rows for the commit (pending.go),
// nil when they are written at once.
type txStore struct {
	q
	p *pending
}

func (t *txStore) InTx(_ context.Context, fn func(tx store.Store) error) error { return fn(t) }
func (t *txStore) Close() error                                                { return nil }

// SchemaVersion returns the highest applied migration number.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	if err := db.r.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlite: schema version: %w", err)
	}
	return int(v.Int64), nil
}

func migrate(ctx context.Context, w *sql.DB) error {
	ms, err := store.ReadMigrations(migrationFS, "migrations")
	if err != nil {
		return err
	}
	if _, err := w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	for _, m := range ms {
		tx, err := w.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("sqlite: migrate: %w", err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migrate: %w", err)
		}
		if n > 0 {
			tx.Rollback()
			continue
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migrate %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.Version, m.Name, time.Now().UnixMicro()); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migrate %s: %w", m.Name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlite: migrate %s: %w", m.Name, err)
		}
	}
	return nil
}

func escapePath(p string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return r.Replace(p)
}

// mapErr turns constraint violations into store.ErrConflict and no rows into store.ErrNotFound.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: %s: %w", op, store.ErrNotFound)
	}
	var se *sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3lib.SQLITE_CONSTRAINT_UNIQUE, sqlite3lib.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("sqlite: %s: %w: %v", op, store.ErrConflict, err)
		}
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}
