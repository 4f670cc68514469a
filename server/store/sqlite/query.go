package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"printdock/server/store"
)

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// rowScanner is a *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(...any) error }

// queryAll runs query on db and scans every row with scan; op names the operation in errors.
func queryAll[T any](ctx context.Context, db execer, op, query string, args []any, scan func(rowScanner) (T, error)) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, mapErr(op, err)
		}
		out = append(out, v)
	}
	return out, mapErr(op, rows.Err())
}

// q implements the store methods over a writer and a reader (both the transaction inside InTx). db is set
// outside transactions: atomic then runs its work in InTx.
type q struct {
	w, r execer
	db   *DB
	h    *hints // the same in and outside transactions
}

// atomic runs fn, whose writes must commit together, on the writer of a transaction: the current one, or
// InTx's.
func (q q) atomic(ctx context.Context, fn func(w execer) error) error {
	if q.db == nil {
		return fn(q.w)
	}
	return q.db.InTx(ctx, func(tx store.Store) error { return fn(tx.(*txStore).w) })
}

func us(t time.Time) int64 { return t.UnixMicro() }

// args collects the arguments of a query built with sqlq (its Arg is add): "?" placeholders, times as
// Unix microseconds.
type args []any

func (a *args) add(v any) string {
	if t, ok := v.(time.Time); ok {
		v = us(t)
	}
	*a = append(*a, v)
	return "?"
}
func ut(v int64) time.Time { return time.UnixMicro(v).UTC() }

func (q q) exec1(ctx context.Context, op, query string, args ...any) error {
	res, err := q.w.ExecContext(ctx, query, args...)
	if err != nil {
		return mapErr(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return mapErr(op, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlite: %s: %w", op, store.ErrNotFound)
	}
	return nil
}

func (q q) execN(ctx context.Context, op, query string, args ...any) (int64, error) {
	res, err := q.w.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, mapErr(op, err)
	}
	n, err := res.RowsAffected()
	return n, mapErr(op, err)
}
