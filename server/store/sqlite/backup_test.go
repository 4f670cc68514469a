package sqlite_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"printdock/internal/testenv"
	"printdock/server/keys"
	"printdock/server/store"
	"printdock/server/store/sqlite"
)

func pepper(t *testing.T) []byte {
	p := make([]byte, keys.PepperLen)
	rand.Read(p)
	return p
}

// load submits and finishes jobs through db until stop is closed, and counts them.
func load(t *testing.T, db store.Store, portalID string, stop <-chan struct{}, n *atomic.Int64) {
	ctx := context.Background()
	if _, err := db.ConnectClient(ctx, store.Client{ID: "c1", PortalID: portalID, LastSeenAt: time.Now()}); err != nil {
		t.Error(err)
		return
	}
	if err := db.UpsertPrinter(ctx, store.Printer{ID: "pr1", PortalID: portalID, ClientID: "c1", URI: "usb://a",
		Present: true, UpdatedAt: time.Now()}); err != nil {
		t.Error(err)
		return
	}
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		now := time.Now()
		err := db.InTx(ctx, func(tx store.Store) error {
			id := fmt.Sprintf("job-%d", i)
			if err := tx.CreateJob(ctx, store.Job{ID: id, PortalID: portalID, PrinterID: "pr1", ClientID: "c1",
				Content: []byte("^XA^FDload^FS^XZ"), Copies: 1, State: store.JobQueued, CreatedAt: now, UpdatedAt: now,
				ExpiresAt: now.Add(time.Hour)}); err != nil {
				return err
			}
			return tx.UpdateJob(ctx, store.JobUpdate{ID: id, From: store.JobQueued, To: store.JobSent, At: now, Sent: true})
		})
		if err != nil {
			t.Error(err)
			return
		}
		n.Add(1)
	}
}

// TestBackupUnderLoad: a backup taken while jobs are written restores to a store whose keys still
// authenticate the secrets issued before, with every job it holds whole; a restore with another pepper
// is refused.
func TestBackupUnderLoad(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "printdock.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pep := pepper(t)
	cheap := keys.WithPasswordParams(keys.PasswordParams{Time: 1, Memory: 64, Threads: 1})
	ks, err := keys.New(db, pep, cheap)
	if err != nil {
		t.Fatal(err)
	}
	init, err := ks.Init(ctx, "Backup", "admin@example.com")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := ks.Authenticate(ctx, init.AdminAPIKey, "", "192.0.2.1:1")
	if err != nil {
		t.Fatal(err)
	}
	agent, err := ks.CreateClientKey(ctx, keys.Actor{Principal: admin}, keys.NewClientKey{Description: "agent"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := db.EnsureSetting(ctx, store.PepperSetting, store.PepperFingerprint(pep)); err != nil || got != store.PepperFingerprint(pep) {
		t.Fatalf("record the pepper = %q, %v", got, err)
	}

	stop := make(chan struct{})
	var jobs atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); load(t, db, init.PortalID, stop, &jobs) }()
	testenv.WaitFor(t, "jobs written", func() bool { return jobs.Load() >= 50 })
	before := jobs.Load()
	backup := filepath.Join(dir, "backup.db")
	err = db.Backup(ctx, backup, pep)
	after := jobs.Load()
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Backup(ctx, backup, pep); !errors.Is(err, os.ErrExist) {
		t.Errorf("backup over an existing file: %v", err)
	}
	if err := db.Backup(ctx, filepath.Join(dir, "other.db"), pepper(t)); !errors.Is(err, keys.ErrPepperMismatch) {
		t.Errorf("backup with another pepper: %v", err)
	}
	if st, err := os.Stat(backup); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v, %v", st, err)
	}

	restored := filepath.Join(t.TempDir(), "printdock.db")
	if err := sqlite.Restore(ctx, backup, restored, pepper(t)); !errors.Is(err, keys.ErrPepperMismatch) {
		t.Fatalf("restore with another pepper: %v", err)
	}
	if _, err := os.Stat(restored); err == nil {
		t.Fatal("a refused restore left a database behind")
	}
	if err := sqlite.Restore(ctx, backup, restored, pep); err != nil {
		t.Fatal(err)
	}
	rdb, err := sqlite.Open(ctx, restored)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	rks, err := keys.New(rdb, pep, cheap)
	if err != nil {
		t.Fatal(err)
	}
	for what, secret := range map[string]string{"the admin's API key": init.AdminAPIKey, "the agent's secret": agent.Secret} {
		if _, err := rks.Authenticate(ctx, secret, "", "192.0.2.1:1"); err != nil {
			t.Errorf("%s after restore: %v", what, err)
		}
	}
	got, err := rdb.ListJobs(ctx, store.JobFilter{PortalID: init.PortalID, Limit: 1 << 20})
	if err != nil || int64(len(got)) < before || int64(len(got)) > after {
		t.Errorf("restored jobs = %d, %v; want %d…%d", len(got), err, before, after)
	}
	for _, j := range got {
		if j.State != store.JobSent || j.Attempts != 1 {
			t.Fatalf("restored job %s half written: %+v", j.ID, j)
		}
	}
	if err := sqlite.Restore(ctx, backup, restored, pep); !errors.Is(err, os.ErrExist) {
		t.Errorf("restore over an existing database: %v", err)
	}
}
