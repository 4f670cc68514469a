package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
)

// Every connection gets the cache pragmas; the writer its checkpoint interval and in-memory statement journals.
func TestConnectionPragmas(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "printdock.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, c := range []struct {
		pool   string
		db     *sql.DB
		pragma string
		want   int64
	}{
		{"read", db.r, "cache_size", -2048},
		{"read", db.r, "mmap_size", 0},
		{"write", db.w, "cache_size", -2048},
		{"write", db.w, "mmap_size", 0},
		{"write", db.w, "wal_autocheckpoint", 0},
		{"write", db.w, "temp_store", 2},
	} {
		var got int64
		if err := c.db.QueryRowContext(t.Context(), "PRAGMA "+c.pragma).Scan(&got); err != nil || got != c.want {
			t.Errorf("%s pool: PRAGMA %s = %d, %v; want %d", c.pool, c.pragma, got, err, c.want)
		}
	}
}
