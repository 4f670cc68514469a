// Package fault classifies the store errors no request can fix: the server's disk is full, or the
// database cannot serve the request right now (PostgreSQL down or restarting, or a transaction it could
// not serialize with concurrent ones even after the store's retries, store.ErrSerialization). The API
// answers them 507 and 503 with Retry-After instead of 500, so a client knows the request was not stored
// and when to try again. It looks through the error chain for the drivers' own errors (modernc.org/sqlite, pgx), so the
// store packages need not translate them.
package fault

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"

	"printdock/server/store"
)

// Kind is what kind of fault an error is.
type Kind int

const (
	None        Kind = iota
	DiskFull         // the disk (or the database's quota) is full: 507
	Unavailable      // the database cannot be reached or is shutting down: 503 with Retry-After
)

// Of classifies err.
func Of(err error) Kind {
	if err == nil {
		return None
	}
	var se *sqlite3.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3lib.SQLITE_FULL {
		return DiskFull
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return DiskFull
	}
	if errors.Is(err, store.ErrSerialization) {
		return Unavailable // too much contention right now: nothing was stored, a retry may succeed
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "53100": // disk_full
			return DiskFull
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03": // admin/crash shutdown, cannot connect now
			return Unavailable
		}
		return None
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), pgconn.Timeout(err), errors.As(err, &ne),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.ErrUnexpectedEOF), isClosedConn(err):
		return Unavailable
	}
	return None
}

// isClosedConn: pgx's "conn closed" after the server went away mid-session (no typed error).
func isClosedConn(err error) bool {
	s := err.Error()
	return strings.HasSuffix(s, "conn closed") || strings.Contains(s, "closed pool")
}
