package sqlite

import (
	"bytes"
	"database/sql"
	"path/filepath"
	"testing"

	"printdock/server/store"
)

// TestMigrateJobContent: migration 004 moves the content of existing jobs to job_content.
func TestMigrateJobContent(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "printdock.db")
	raw, err := sql.Open("sqlite", "file:"+escapePath(path)+"?_foreign_keys=1&_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	ms, err := store.ReadMigrations(migrationFS, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,
		applied_at BIGINT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:3] {
		if _, err := raw.ExecContext(ctx, m.SQL); err != nil {
			t.Fatal(err)
		}
		if _, err := raw.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, ?, 0)`, m.Version, m.Name); err != nil {
			t.Fatal(err)
		}
	}
	for _, stmt := range []string{
		`INSERT INTO portals (id, name, created_at) VALUES ('p1', 'P', 0)`,
		`INSERT INTO clients VALUES ('c1', 'p1', 'k', 'i', 'h', 'v', 'linux', 0, 0, 0, 0)`,
		`INSERT INTO printers VALUES ('pr1', 'p1', 'c1', 'usb://a', 'n', 'm', 'm', 'ready', '', 1, 0, 0)`,
		`INSERT INTO jobs (id, portal_id, printer_id, client_id, title, content, size, copies, fingerprint, created_by,
			state, reason, created_at, updated_at, expires_at) VALUES
			('j1', 'p1', 'pr1', 'c1', 't', x'5e58415e585a', 6, 1, 'f', 'a', 'queued', '', 0, 0, 0)`,
	} {
		if _, err := raw.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b, err := db.JobContent(ctx, "j1")
	if err != nil || !bytes.Equal(b, []byte("^XA^XZ")) {
		t.Errorf("content after migration = %q, %v", b, err)
	}
	js, err := db.PendingJobs(ctx, "c1", 1, 0)
	if err != nil || len(js) != 1 || !bytes.Equal(js[0].Content, []byte("^XA^XZ")) || js[0].Size != 6 {
		t.Errorf("pending after migration = %+v, %v", js, err)
	}
}
