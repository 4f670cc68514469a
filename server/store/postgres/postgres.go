// Package postgres is printdock-server's store for several replicas: a store.Store on PostgreSQL
// (github.com/jackc/pgx/v5) that also carries notifications between replicas (store.Notifier, LISTEN /
// NOTIFY).
//
// Every transaction is SERIALIZABLE (the session default, and InTx asks for it), so the check-then-write
// sequences of packages keys and jobs (the first portal, the last administrator, a status change after a
// read) behave as on the single-writer SQLite store. A serialization failure or deadlock is retried: InTx
// runs fn again on a fresh transaction (up to maxAttempts times, with jittered backoff), so fn must derive
// everything it leaves behind from what it reads in that attempt — assign captured variables, do not
// accumulate into them — and must have no side effects outside the transaction that would be wrong to
// repeat. When the attempts are exhausted the error wraps store.ErrSerialization (never store.ErrConflict,
// which is a verdict about one row: a caller must not go on in the aborted transaction).
//
// Standalone reads that no caller builds a write on (the event log, the pending jobs of a client, a job or
// client looked up outside a transaction: reads.go) run READ COMMITTED, so they take no SIRead locks and
// cannot make a writer a serialization pivot. And a transaction started with store.WithRowLocks runs READ
// COMMITTED too, with the job rows it reads locked FOR UPDATE (reads.go says why that is as safe there).
//
// Tables live in the first schema of the connection's search_path (set it with `search_path=NAME` in the
// URL; it must exist). Schema migrations are embedded (migrations/NNN_name.sql, append-only), applied in
// order on Open under a session advisory lock so that replicas starting together migrate once, and
// recorded in schema_migrations.
//
// The queries live in one file per concern (users.go, keys.go, audit.go, clients.go, jobs.go); the SQL they
// share with store/sqlite (column lists, the list filters, the job update) is in store/internal/sqlq.
//
// Each DB is one replica (replica.go): registered in table replicas with a heartbeat, it counts the agent
// sessions it holds per replica, so that one replica's start or crash changes only its own agents'
// presence.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"printdock/server/store"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// maxAttempts bounds how often a transaction (or a single statement) is tried on serialization failures.
const maxAttempts = 10

// querier is what the store's statements run on: a connection or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// runner runs fn on a querier: DB on a pooled connection (retrying serialization failures), a transaction
// on itself.
type runner interface {
	run(ctx context.Context, fn func(c querier) error) error
}

// DB is a store.Store and store.Notifier on PostgreSQL. It is safe for concurrent use.
type DB struct {
	q
	pool    *pool
	reads   *pool // READ COMMITTED, read-only connections (reads.go)
	batches *pool // for the transactions begun with store.WithRowLocks (reads.go)
	schema  string
	lis     *listener
	replica string     // this process's ID among the replicas sharing the schema (replica.go)
	beat    *heartbeat // keeps the replica's row fresh and sweeps replicas that are gone
	once    sync.Once
}

var (
	_ store.Store    = (*DB)(nil)
	_ store.Notifier = (*DB)(nil)
)

// Open connects to the database at connString (a postgres:// URL or key=value string, as pgx accepts),
// and migrates it to the latest schema. Beyond pgx's parameters it understands pool_max_conns (default
// max(4, GOMAXPROCS)), the bound of each of its three pools: the main one, whose connections default to
// SERIALIZABLE, the READ COMMITTED, read-only one of the standalone reads of reads.go, and the one of the
// transactions begun with store.WithRowLocks (job deliveries and statuses).
func Open(ctx context.Context, connString string) (*DB, error) {
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	max := runtime.GOMAXPROCS(0)
	if max < 4 {
		max = 4
	}
	if v, ok := cfg.RuntimeParams["pool_max_conns"]; ok {
		delete(cfg.RuntimeParams, "pool_max_conns")
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("postgres: open: pool_max_conns=%q: want a positive integer", v)
		}
		max = n
	}
	cfg.RuntimeParams["default_transaction_isolation"] = "serializable"
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "printdock-server"
	}
	// The standalone reads of reads.go run on connections of their own whose transactions default to
	// READ COMMITTED, read only: no BEGIN round trip for them.
	rcfg := cfg.Copy()
	rcfg.RuntimeParams["default_transaction_isolation"] = "read committed"
	rcfg.RuntimeParams["default_transaction_read_only"] = "on"
	db := &DB{pool: newPool(cfg, max), reads: newPool(rcfg, max), batches: newPool(cfg, max), replica: newReplicaID()}
	db.q = q{r: db, rep: db.replica}
	if err := db.start(ctx); err != nil {
		db.closePools()
		return nil, err
	}
	if err := db.register(ctx); err != nil {
		db.closePools()
		return nil, err
	}
	db.lis = newListener(cfg.Copy())
	db.beat = db.startHeartbeat()
	return db, nil
}

func (db *DB) start(ctx context.Context) error {
	// Migrate on a connection of its own, closed afterwards: closing it releases the advisory lock even
	// if the unlock could not be sent.
	c, err := db.pool.dial(ctx)
	if err != nil {
		return fmt.Errorf("postgres: open: %w", err)
	}
	defer closeConn(c)
	var schema *string
	if err := c.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("postgres: open: %w", err)
	}
	if schema == nil {
		return errors.New("postgres: open: no existing schema on the search_path (create it, or fix search_path)")
	}
	db.schema = *schema
	return migrate(ctx, c.Conn)
}

// Schema returns the schema that holds printdock's tables.
func (db *DB) Schema() string { return db.schema }

// Close stops every Listen subscription, withdraws this replica (its row and the agent sessions it still
// counts) and closes the connections. It is safe to call more than once.
func (db *DB) Close() error {
	db.once.Do(func() {
		db.lis.close()
		db.beat.stop()
		db.unregister()
		db.closePools()
	})
	return nil
}

func (db *DB) closePools() {
	db.pool.close()
	db.reads.close()
	db.batches.close()
}

// run runs fn on a pooled connection, again (on a fresh connection) after a serialization failure.
func (db *DB) run(ctx context.Context, fn func(c querier) error) error {
	return db.runOn(ctx, db.pool, fn)
}

// runOn is run on a connection of p.
func (db *DB) runOn(ctx context.Context, p *pool, fn func(c querier) error) error {
	for attempt := 1; ; attempt++ {
		c, err := p.acquire(ctx)
		if err != nil {
			return err
		}
		err = fn(c)
		p.release(c)
		if !retryable(err) || attempt == maxAttempts || backoff(ctx, attempt) != nil {
			return err
		}
	}
}

// InTx runs fn in one SERIALIZABLE transaction, retried from the start (fn included) on a serialization
// failure or deadlock; see the package comment.
func (db *DB) InTx(ctx context.Context, fn func(tx store.Store) error) error {
	for attempt := 1; ; attempt++ {
		again, err := db.tryTx(ctx, fn)
		if !again || attempt == maxAttempts || backoff(ctx, attempt) != nil {
			return err
		}
	}
}

// tryTx makes one attempt; again reports whether another attempt may succeed.
func (db *DB) tryTx(ctx context.Context, fn func(tx store.Store) error) (again bool, err error) {
	p, opts, locks := db.pool, pgx.TxOptions{IsoLevel: pgx.Serializable}, store.RowLocks(ctx)
	if locks {
		// reads.go. On a pool of their own: the delivery of accepted jobs does not queue behind a flood
		// of submissions for a connection.
		p, opts.IsoLevel = db.batches, pgx.ReadCommitted
	}
	c, err := p.acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("postgres: begin: %w", err)
	}
	defer p.release(c)
	tx, err := c.BeginTx(ctx, opts)
	if err != nil {
		return retryable(err), mapErr("begin", err)
	}
	t := &txStore{tx: tx, db: db, locks: locks}
	t.q = q{r: t, rep: db.replica}
	finished := false
	defer func() {
		if !finished { // fn panicked
			rollback(ctx, tx)
		}
	}()
	err = fn(t)
	finished = true
	if err != nil {
		rollback(ctx, tx)
		return t.retry.Load() || retryable(err), err
	}
	if err := tx.Commit(ctx); err != nil {
		return t.retry.Load() || retryable(err), mapErr("commit", err)
	}
	return false, nil
}

func rollback(ctx context.Context, tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeWait)
	defer cancel()
	_ = tx.Rollback(ctx)
}

// txStore is the Store that InTx passes to fn.
type txStore struct {
	q
	tx    pgx.Tx
	db    *DB
	retry atomic.Bool // a statement failed in a way that a new attempt may not
	locks bool        // begun with store.WithRowLocks: READ COMMITTED, GetJob locks the row (reads.go)
}

var (
	_ store.Store     = (*txStore)(nil)
	_ store.Publisher = (*txStore)(nil)
)

func (t *txStore) run(_ context.Context, fn func(c querier) error) error {
	err := fn(t.tx)
	if retryable(err) {
		t.retry.Store(true)
	}
	return err
}

func (t *txStore) InTx(_ context.Context, fn func(tx store.Store) error) error { return fn(t) }
func (t *txStore) Close() error                                                { return nil }

// retryable reports a failure that a new transaction may not meet: a serialization failure, a deadlock,
// or a cached plan invalidated by a concurrent migration.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "40001", "40P01": // serialization_failure, deadlock_detected
		return true
	case "0A000": // feature_not_supported
		return strings.Contains(pe.Message, "cached plan must not change result type")
	}
	return false
}

// backoff waits a random time that grows with attempt, or until ctx is done.
func backoff(ctx context.Context, attempt int) error {
	limit := time.Millisecond << min(attempt, 7) // 2 ms … 128 ms
	t := time.NewTimer(rand.N(limit) + time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// mapErr turns unique violations into store.ErrConflict, serialization failures and deadlocks (left after
// the retries) into store.ErrSerialization and no rows into store.ErrNotFound, keeping the driver's error
// in the chain.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: %s: %w", op, store.ErrNotFound)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return fmt.Errorf("postgres: %s: %w: %w", op, store.ErrConflict, err)
		case "40001", "40P01":
			return fmt.Errorf("postgres: %s: %w: %w", op, store.ErrSerialization, err)
		}
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// SchemaVersion returns the highest applied migration number.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v *int
	err := db.run(ctx, func(c querier) error {
		return c.QueryRow(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v)
	})
	if err != nil {
		return 0, mapErr("schema version", err)
	}
	if v == nil {
		return 0, nil
	}
	return *v, nil
}

// migrateLock is the advisory lock key of the current schema's migrations.
const migrateLock = `hashtextextended('printdock.migrate.' || current_schema(), 0)`

// migrate applies the missing migrations, each in its own transaction, holding the schema's advisory lock
// for the whole run so that concurrent starters wait and then find nothing to do.
func migrate(ctx context.Context, c *pgx.Conn) error {
	ms, err := store.ReadMigrations(migrationFS, "migrations")
	if err != nil {
		return err
	}
	if _, err := c.Exec(ctx, `SELECT pg_advisory_lock(`+migrateLock+`)`); err != nil {
		return fmt.Errorf("postgres: migrate: lock: %w", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeWait)
		defer cancel()
		_, _ = c.Exec(ctx, `SELECT pg_advisory_unlock(`+migrateLock+`)`)
	}()
	if _, err := c.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)`); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	applied := map[int]bool{}
	rows, err := c.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("postgres: migrate: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	for _, m := range ms {
		if applied[m.Version] {
			continue
		}
		err := pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.Version, m.Name, time.Now())
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: migrate %s: %w", m.Name, err)
		}
	}
	return nil
}
