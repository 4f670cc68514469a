package sqlite_test

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	_ "modernc.org/sqlite"

	"printdock/server/store"
	"printdock/server/store/sqlite"
	"printdock/server/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "printdock.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

func TestOpenSettingsAndMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a b?c#d.db") // characters that need escaping in the URI
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := db.SchemaVersion(t.Context())
	if err != nil || v < 1 {
		t.Fatalf("schema version = %d, %v", v, err)
	}
	db.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at the given path: %v", err)
	}
	// Re-opening applies nothing twice.
	db, err = sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if v2, _ := db.SchemaVersion(t.Context()); v2 != v {
		t.Errorf("version after reopen %d, want %d", v2, v)
	}
	db.Close()

	raw, err := sql.Open("sqlite", "file:"+filepath.Join(filepath.Dir(path), "a b%3fc%23d.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var mode string
	if err := raw.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal (persistent)", mode, err)
	}
	var n int
	if err := raw.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != v {
		t.Errorf("schema_migrations rows = %d, %v", n, err)
	}
}

func TestOpenRejectsMemory(t *testing.T) {
	if _, err := sqlite.Open(t.Context(), ":memory:"); err == nil {
		t.Fatal(":memory: accepted")
	}
}

// TestConcurrentWritersAndReaders checks that concurrent transactions neither fail with SQLITE_BUSY nor
// block readers (single writer connection + WAL).
func TestConcurrentWritersAndReaders(t *testing.T) {
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := 0; w < 8; w++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				_, err := db.AppendAudit(ctx, store.AuditEntry{PortalID: "p", Actor: "a", Action: "x"})
				if err == nil {
					err = db.InTx(ctx, func(tx store.Store) error {
						_, err := tx.AppendAudit(ctx, store.AuditEntry{PortalID: "p", Actor: "b", Action: "y"})
						return err
					})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if _, err := db.ListAudit(ctx, store.AuditFilter{PortalID: "p", Limit: 5}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, _ := db.ListAudit(ctx, store.AuditFilter{PortalID: "p", Limit: 1000})
	if len(got) != 8*20*2 {
		t.Errorf("%d entries, want %d", len(got), 8*20*2)
	}
}

// TestGroupCommit: concurrent InTx calls share transactions (writer.go), but each keeps its own outcome:
// a failing or panicking function is rolled back alone, the others commit.
func TestGroupCommit(t *testing.T) {
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "printdock.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	boom := errors.New("boom")
	const n = 64
	var wg sync.WaitGroup
	errs := make([]error, n)
	panics := make([]any, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { panics[i] = recover() }()
			errs[i] = db.InTx(ctx, func(tx store.Store) error {
				if err := tx.CreatePortal(ctx, store.Portal{ID: fmt.Sprintf("p%d", i), Name: "x"}); err != nil {
					return err
				}
				switch i % 4 {
				case 1:
					return boom
				case 2:
					panic(fmt.Sprintf("panic %d", i))
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i := range n {
		_, getErr := db.GetPortal(ctx, fmt.Sprintf("p%d", i))
		switch i % 4 {
		case 1:
			if !errors.Is(errs[i], boom) || !errors.Is(getErr, store.ErrNotFound) {
				t.Errorf("%d: failing fn: err %v, portal lookup %v; want boom and not found", i, errs[i], getErr)
			}
		case 2:
			if panics[i] != fmt.Sprintf("panic %d", i) || !errors.Is(getErr, store.ErrNotFound) {
				t.Errorf("%d: panicking fn: recovered %v, portal lookup %v; want the panic and not found", i, panics[i], getErr)
			}
		default:
			if errs[i] != nil || panics[i] != nil || getErr != nil {
				t.Errorf("%d: err %v, panic %v, portal lookup %v; want committed", i, errs[i], panics[i], getErr)
			}
		}
	}
	db.Close()
	if err := db.InTx(ctx, func(store.Store) error { return nil }); err == nil {
		t.Error("InTx after Close succeeded")
	}
}
