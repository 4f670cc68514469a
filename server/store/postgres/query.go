package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"printdock/server/store"
)

// q implements the store methods over a runner (the DB's pool, or one transaction). rep is the DB's
// replica ID, under which ConnectClient and DisconnectClient count sessions (replica.go).
type q struct {
	r   runner
	rep string
}

type scanner interface{ Scan(dest ...any) error }

// args collects numbered query parameters.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

func utc(t time.Time) time.Time { return t.UTC() }

func optUTC(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// exec runs one statement and returns the number of rows it affected.
func (q q) exec(ctx context.Context, op, sql string, a ...any) (int64, error) {
	var n int64
	err := q.r.run(ctx, func(c querier) error {
		tag, err := c.Exec(ctx, sql, a...)
		n = tag.RowsAffected()
		return err
	})
	return n, mapErr(op, err)
}

// exec1 runs a statement that must affect a row (store.ErrNotFound otherwise).
func (q q) exec1(ctx context.Context, op, sql string, a ...any) error {
	n, err := q.exec(ctx, op, sql, a...)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("postgres: %s: %w", op, store.ErrNotFound)
	}
	return nil
}

// row runs a query of one row and scans it with scan (store.ErrNotFound when there is none).
func (q q) row(ctx context.Context, op, sql string, scan func(scanner) error, a ...any) error {
	err := q.r.run(ctx, func(c querier) error { return scan(c.QueryRow(ctx, sql, a...)) })
	return mapErr(op, err)
}

// rows runs a query and calls each for every row. each must not keep state across attempts beyond what
// reset (called before every attempt) clears.
func (q q) rows(ctx context.Context, op, sql string, reset func(), each func(scanner) error, a ...any) error {
	err := q.r.run(ctx, func(c querier) error {
		reset()
		rs, err := c.Query(ctx, sql, a...)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			if err := each(rs); err != nil {
				return err
			}
		}
		return rs.Err()
	})
	return mapErr(op, err)
}

// one runs a query of one row and scans it with scan (store.ErrNotFound when there is none).
func one[T any](ctx context.Context, q q, op, sql string, scan func(scanner) (T, error), a ...any) (T, error) {
	var v T
	err := q.row(ctx, op, sql, func(sc scanner) (err error) {
		v, err = scan(sc)
		return err
	}, a...)
	return v, err
}

// list runs a query and scans every row with scan.
func list[T any](ctx context.Context, q q, op, sql string, scan func(scanner) (T, error), a ...any) ([]T, error) {
	var out []T
	err := q.rows(ctx, op, sql, func() { out = nil }, func(sc scanner) error {
		v, err := scan(sc)
		if err != nil {
			return err
		}
		out = append(out, v)
		return nil
	}, a...)
	if err != nil {
		return nil, err
	}
	return out, nil
}
