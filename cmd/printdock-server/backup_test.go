package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"printdock/server"
	"printdock/server/keys"
	"printdock/server/servertest"
)

// TestBackupRestore: `backup` copies a store (with its pepper) that `restore` makes the store of a new
// data directory, where the old print client secret and admin key still authenticate; restore refuses
// a backup next to another pepper, and an occupied database path.
func TestBackupRestore(t *testing.T) {
	dir := t.TempDir()
	st := []string{"--data-dir", dir}
	var first keys.InitResult
	runJSON(t, &first, append([]string{"init", "--admin-email", "boss@example.com", "--json"}, st...)...)
	var k struct{ ID, Secret string }
	runJSON(t, &k, append([]string{"keys", "create", "--description", "dock 1", "--portal", first.PortalID, "--json"}, st...)...)

	bak := filepath.Join(t.TempDir(), "printdock.bak")
	var out, errb bytes.Buffer
	if err := run(context.Background(), append([]string{"backup", "--to", bak}, st...), &out, &errb); err != nil {
		t.Fatalf("backup: %v\n%s", err, errb.String())
	}
	if fi, err := os.Stat(bak + ".pepper"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup pepper: %v %v", fi, err)
	}

	restored := filepath.Join(t.TempDir(), "data")
	if err := run(context.Background(), []string{"restore", "--from", bak, "--data-dir", restored}, &out, &errb); err != nil {
		t.Fatalf("restore: %v\n%s", err, errb.String())
	}
	srv, err := server.New(context.Background(), server.Config{DataDir: restored,
		KeysOptions: []keys.Option{keys.WithPasswordParams(servertest.CheapPasswords)}})
	if err != nil {
		t.Fatalf("server on the restored store: %v", err)
	}
	defer srv.Close()
	for what, secret := range map[string]string{"print client secret": k.Secret, "admin key": first.AdminAPIKey} {
		if _, err := srv.Keys.Authenticate(context.Background(), secret, "", ""); err != nil {
			t.Errorf("%s after restore: %v", what, err)
		}
	}

	// Again into the same directory: the database exists.
	if err := run(context.Background(), []string{"restore", "--from", bak, "--data-dir", restored}, &out, &errb); err == nil ||
		!strings.Contains(err.Error(), "move") {
		t.Errorf("restore over a live database: %v", err)
	}
	// A data directory with another pepper refuses the backup.
	other := t.TempDir()
	runJSON(t, nil, "init", "--admin-email", "x@example.com", "--data-dir", other, "--json")
	os.Rename(filepath.Join(other, server.DatabaseFile), filepath.Join(other, "old.db"))
	if err := run(context.Background(), []string{"restore", "--from", bak, "--data-dir", other}, &out, &errb); err == nil ||
		!strings.Contains(err.Error(), "pepper") {
		t.Errorf("restore next to another pepper: %v", err)
	}
}
