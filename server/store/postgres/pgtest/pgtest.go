// Package pgtest gives tests a PostgreSQL to work in: the throwaway cluster the test command starts
// (scripts/pg-throwaway.sh, PRINTDOCK_TEST_POSTGRES_URL) and a fresh schema per test, dropped at cleanup.
// Without the cluster a test skips, or fails under PRINTDOCK_REQUIRE_REAL=1 (internal/testenv).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"printdock/internal/testenv"
)

// BaseURL is the cluster's URL.
func BaseURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("PRINTDOCK_TEST_POSTGRES_URL")
	if u == "" {
		testenv.RequireReal(t, "PostgreSQL", errors.New("PRINTDOCK_TEST_POSTGRES_URL is not set"))
	}
	return u
}

// RandHex returns n random bytes in hex, for unique schema and application names.
func RandHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// WithParam returns raw with the query parameter key set to value.
func WithParam(t testing.TB, raw, key, value string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("pgtest: bad PostgreSQL URL: %v", err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// FreshSchema creates an empty schema for t, dropped at cleanup, and returns the URL that selects it.
func FreshSchema(t testing.TB) string {
	t.Helper()
	base := BaseURL(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	testenv.RequireReal(t, "PostgreSQL", err)
	defer conn.Close(ctx)
	name := "pdt_" + RandHex(8)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+pgx.Identifier{name}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return WithParam(t, base, "search_path", name)
}
