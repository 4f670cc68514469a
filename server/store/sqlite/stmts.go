package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// maxCachedStmts bounds the prepared statements kept per pool. The store's queries are a fixed set plus
// a bounded number of variants of the dynamic ones (UpdateJob, ListJobs, ListAudit…); beyond the bound a
// query is prepared for each use.
const maxCachedStmts = 512

// stmts caches prepared statements of one *sql.DB by their text. SQLite (modernc.org/sqlite, a C-to-Go
// translation) spends much of a short statement's time parsing and planning it; a cached *sql.Stmt is
// prepared once per pooled connection (database/sql tracks which) and reused, also inside transactions
// (sql.Tx.StmtContext reuses the connection's statement).
type stmts struct {
	db *sql.DB

	mu     sync.Mutex
	m      map[string]*sql.Stmt
	wanted map[string]struct{} // seen inside a transaction; prepared after it (see txExec)
	closed bool

	n atomic.Int64 // statements run on the pool (Stats)
}

func newStmts(db *sql.DB) *stmts {
	return &stmts{db: db, m: make(map[string]*sql.Stmt), wanted: make(map[string]struct{})}
}

func (c *stmts) cached(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[query]
}

// get returns the cached statement for query, preparing it if needed; nil when the cache is full or
// closed (the caller then runs the query unprepared). It takes a pooled connection to prepare: never
// call it while holding the pool's only connection (inside a write transaction).
func (c *stmts) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	st, full := c.m[query], len(c.m) >= maxCachedStmts || c.closed
	c.mu.Unlock()
	if st != nil || full {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.m[query]; old != nil || c.closed {
		st.Close()
		return old, nil
	}
	c.m[query] = st
	return st, nil
}

// want records a query run inside a transaction without a cached statement.
func (c *stmts) want(query string) {
	c.mu.Lock()
	if len(c.wanted) < maxCachedStmts {
		c.wanted[query] = struct{}{}
	}
	c.mu.Unlock()
}

// prepareWanted prepares the queries recorded by want (call it with no transaction open on the pool).
func (c *stmts) prepareWanted(ctx context.Context) {
	c.mu.Lock()
	if len(c.wanted) == 0 {
		c.mu.Unlock()
		return
	}
	qs := make([]string, 0, len(c.wanted))
	for q := range c.wanted {
		qs = append(qs, q)
	}
	clear(c.wanted)
	c.mu.Unlock()
	for _, q := range qs {
		_, _ = c.get(ctx, q) // an error shows again (and is reported) when the query runs
	}
}

func (c *stmts) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for q, st := range c.m {
		st.Close()
		delete(c.m, q)
	}
}

// pooled runs queries on a pool through its statement cache.
type pooled struct {
	db *sql.DB
	c  *stmts
}

func (p pooled) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	p.c.n.Add(1)
	if st, err := p.c.get(ctx, query); err == nil && st != nil {
		return st.ExecContext(ctx, args...)
	}
	return p.db.ExecContext(ctx, query, args...) // reports a prepare error itself
}

func (p pooled) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	p.c.n.Add(1)
	if st, err := p.c.get(ctx, query); err == nil && st != nil {
		return st.QueryContext(ctx, args...)
	}
	return p.db.QueryContext(ctx, query, args...)
}

func (p pooled) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	p.c.n.Add(1)
	if st, err := p.c.get(ctx, query); err == nil && st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return p.db.QueryRowContext(ctx, query, args...)
}

// txExec runs queries in a write transaction, reusing the writer's cached statements. A query not cached
// yet runs unprepared and is prepared after the transaction (preparing now would wait for the pool's only
// connection, which the transaction holds).
//
// Statements ignore the cancellation of the caller's context: the transaction may carry other callers'
// work (group commit, see writer), and SQLite rolls back the whole transaction when a write statement is
// interrupted.
//
// p, when set, holds rows pending for the commit (pending.go): they are written first when a statement
// may read or remove them.
type txExec struct {
	tx *sql.Tx
	c  *stmts
	p  *pending
}

func (t txExec) stmt(ctx context.Context, query string) *sql.Stmt {
	if t.p != nil && t.p.err == nil && !t.p.empty() && mustFlush(query) {
		t.p.err = t.p.flush(ctx, txExec{tx: t.tx, c: t.c})
	}
	t.c.n.Add(1)
	if st := t.c.cached(query); st != nil {
		return t.tx.StmtContext(ctx, st)
	}
	t.c.want(query)
	return nil
}

func (t txExec) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = context.WithoutCancel(ctx)
	if st := t.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

func (t txExec) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = context.WithoutCancel(ctx)
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

func (t txExec) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = context.WithoutCancel(ctx)
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}
