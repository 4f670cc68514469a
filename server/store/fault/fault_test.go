package fault

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"printdock/server/store"
)

func TestOf(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// A real connect error: nobody listens on a port just closed.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, connErr := pgconn.Connect(ctx, "postgres://x@"+addr+"/db?sslmode=disable&connect_timeout=2")
	if connErr == nil {
		t.Fatal("connected to a closed port")
	}
	for _, tc := range []struct {
		name string
		err  error
		want Kind
	}{
		{"nil", nil, None},
		{"plain", errors.New("boom"), None},
		{"not found", fmt.Errorf("postgres: get job: %w", errors.New("store: not found")), None},
		{"net error", fmt.Errorf("write: %w", &net.OpError{Op: "write", Err: syscall.ECONNRESET}), Unavailable},
		{"disk full (os)", fmt.Errorf("sqlite: commit: %w", syscall.ENOSPC), DiskFull},
		{"sqlite full", fmt.Errorf("sqlite: commit: %w", sqliteFull(t)), DiskFull},
		{"pg disk full", fmt.Errorf("postgres: create job: %w", &pgconn.PgError{Code: "53100"}), DiskFull},
		{"pg shutting down", fmt.Errorf("postgres: create job: %w", &pgconn.PgError{Code: "57P01"}), Unavailable},
		{"pg connection failure", &pgconn.PgError{Code: "08006"}, Unavailable},
		{"pg unique violation", &pgconn.PgError{Code: "23505"}, None},
		{"serialization failure", fmt.Errorf("postgres: mark sent: %w: %w", store.ErrSerialization, &pgconn.PgError{Code: "40001"}), Unavailable},
		{"pg connect refused", fmt.Errorf("postgres: begin: %w", connErr), Unavailable},
		{"unexpected eof", fmt.Errorf("postgres: commit: %w", io.ErrUnexpectedEOF), Unavailable},
		{"conn closed", errors.New("postgres: create job: conn closed"), Unavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Of(tc.err); got != tc.want {
				t.Fatalf("Of(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

// sqliteFull is the error of a real SQLite write past its page limit (SQLITE_FULL, as a full disk).
func sqliteFull(t *testing.T) error {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "full.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{"CREATE TABLE t (b BLOB)", "PRAGMA max_page_count = 4"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	_, err = db.Exec("INSERT INTO t VALUES (?)", []byte(strings.Repeat("x", 64<<10)))
	if err == nil {
		t.Fatal("a 64 KiB row fit in 4 pages")
	}
	return err
}
