package keys_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"printdock/server/keys"
	"printdock/server/store/sqlite"
)

// A lost pepper file beside a database that holds keys must stop the server, on every start, instead of
// silently making a new pepper that fails every secret (and makes every agent delete its secret).
func TestLostPepperIsRefused(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "printdock.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pepperPath, pendingPath := filepath.Join(dir, keys.PepperFile), filepath.Join(dir, keys.PendingPepperFile)
	open := func() (*keys.Service, []byte, bool, error) {
		t.Helper()
		p, created, err := keys.LoadOrCreatePepperInfo(dir)
		if err != nil {
			t.Fatalf("load pepper: %v", err)
		}
		svc, err := keys.New(st, p, keys.WithPepperDir(dir), keys.WithPasswordParams(cheapPasswords))
		return svc, p, created, err
	}
	exists := func(path string) bool {
		_, err := os.Lstat(path)
		return err == nil
	}

	// First start: a new pepper, an empty database: the pepper is adopted.
	svc, first, created, err := open()
	if err != nil || !created {
		t.Fatalf("first start: created = %v, err = %v", created, err)
	}
	if !exists(pepperPath) || exists(pendingPath) {
		t.Fatalf("after the first start: pepper %v, pending %v; want only the pepper", exists(pepperPath), exists(pendingPath))
	}
	if fi, err := os.Stat(pepperPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("pepper mode %v, %v", fi.Mode(), err)
	}
	res, err := svc.Init(ctx, "Warehouse A", "admin@example.com")
	if err != nil {
		t.Fatal(err)
	}
	// A restart finds the same pepper.
	if _, p, created, err := open(); err != nil || created || !slices.Equal(p, first) {
		t.Fatalf("restart: created = %v, same = %v, err = %v", created, slices.Equal(p, first), err)
	}

	// The pepper file is lost: refused, and still refused on the next start (a service manager restarts).
	if err := os.Remove(pepperPath); err != nil {
		t.Fatal(err)
	}
	for start := range 2 {
		_, p, created, err := open()
		if !created || slices.Equal(p, first) {
			t.Fatalf("start %d without the pepper: created = %v", start, created)
		}
		if !errors.Is(err, keys.ErrPepperMismatch) {
			t.Fatalf("start %d without the pepper: err = %v, want ErrPepperMismatch", start, err)
		}
		for _, want := range []string{pepperPath, "restore", "backup"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %q", err, want)
			}
		}
		if exists(pepperPath) {
			t.Fatalf("start %d: a refused pepper became %s", start, keys.PepperFile)
		}
	}

	// Restored from backup: accepted, the pending pepper is removed, and old secrets work again.
	if err := os.WriteFile(pepperPath, first, 0o600); err != nil {
		t.Fatal(err)
	}
	svc, p, created, err := open()
	if err != nil || created || !slices.Equal(p, first) {
		t.Fatalf("after restoring: created = %v, same = %v, err = %v", created, slices.Equal(p, first), err)
	}
	if exists(pendingPath) {
		t.Error("the pending pepper was left beside the restored one")
	}
	if _, err := svc.Authenticate(ctx, res.AdminAPIKey, "", "192.0.2.1:1"); err != nil {
		t.Fatalf("a secret issued before the loss: %v", err)
	}

	// Starting over deliberately: the operator renames the pending pepper into place.
	os.Remove(pepperPath)
	if _, _, _, err := open(); !errors.Is(err, keys.ErrPepperMismatch) {
		t.Fatalf("lost again: %v", err)
	}
	if err := os.Rename(pendingPath, pepperPath); err != nil {
		t.Fatal(err)
	}
	svc, _, created, err = open()
	if err != nil || created {
		t.Fatalf("after renaming the pending pepper: created = %v, err = %v", created, err)
	}
	if _, err := svc.Authenticate(ctx, res.AdminAPIKey, "", "192.0.2.1:1"); !errors.Is(err, keys.ErrUnauthenticated) {
		t.Fatalf("an old secret under the new pepper: %v, want ErrUnauthenticated", err)
	}
}

func TestPendingPepperMustMatch(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "printdock.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, created, err := keys.LoadOrCreatePepperInfo(dir); err != nil || !created {
		t.Fatalf("create: %v, %v", created, err)
	}
	other := make([]byte, keys.PepperLen)
	if _, err := keys.New(st, other, keys.WithPepperDir(dir)); err == nil {
		t.Fatal("New accepted a pepper that is not the pending one")
	}
	if _, err := os.Lstat(filepath.Join(dir, keys.PepperFile)); err == nil {
		t.Fatal("a pepper that did not match was adopted")
	}
	if _, err := keys.New(st, other, keys.WithPepperDir(t.TempDir())); err == nil {
		t.Fatal("New accepted WithPepperDir for a directory without a pepper")
	}
}
