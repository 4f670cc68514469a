package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"

	"printdock/cmd/internal/cli"
	"printdock/server"
	"printdock/server/keys"
	"printdock/server/store/sqlite"
)

// backup and restore of the embedded SQLite store: the database (a consistent copy of a live store,
// VACUUM INTO) and the pepper file go together, since every stored secret is hashed with the pepper.

var backupCommands = []*command{
	{Command: cli.Command{Name: "backup", Synopsis: "--to FILE",
		Summary: "copy the live SQLite store to FILE and its pepper to FILE.pepper (0600); the server may keep running",
		Help:    "PostgreSQL: use pg_dump, and keep the pepper file of --data-dir with the dump (docs/server.md)."},
		flags: backupFlags, layered: storeOnly},
	{Command: cli.Command{Name: "restore", Synopsis: "--from FILE",
		Summary: "make FILE (a backup) the SQLite store of --data-dir; stop the server and move the old database away first"},
		flags: restoreFlags, layered: storeOnly},
}

func backupFlags(fs *flag.FlagSet) func(context.Context, out) error {
	var sf storeFlags
	sf.register(fs)
	to := fs.String("to", "", "the backup `FILE` to write (must not exist); the pepper goes to FILE.pepper")
	return func(ctx context.Context, o out) error {
		if *to == "" {
			return usageError{"backup: --to FILE is required"}
		}
		cfg := server.Config{DataDir: sf.dataDir, DatabaseURL: sf.database}
		path, err := server.SQLitePath(cfg)
		if err != nil {
			return err
		}
		pepper, err := existingPepper(sf.dataDir)
		if err != nil {
			return err
		}
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("backup: the store %s: %w", path, err)
		}
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			return err
		}
		defer db.Close()
		if err := db.Backup(ctx, *to, pepper); err != nil {
			return err
		}
		if err := writeExclusive(*to+".pepper", pepper); err != nil {
			return fmt.Errorf("backup: pepper: %w", err)
		}
		fmt.Fprintf(o.stdout, "Backed up %s to %s and its pepper to %s.pepper. Keep both, and keep them secret.\n", path, *to, *to)
		return nil
	}
}

func restoreFlags(fs *flag.FlagSet) func(context.Context, out) error {
	var sf storeFlags
	sf.register(fs)
	from := fs.String("from", "", "the backup `FILE` (and FILE.pepper beside it)")
	return func(ctx context.Context, o out) error {
		if *from == "" {
			return usageError{"restore: --from FILE is required"}
		}
		path, err := server.SQLitePath(server.Config{DataDir: sf.dataDir, DatabaseURL: sf.database})
		if err != nil {
			return err
		}
		if err := os.MkdirAll(sf.dataDir, 0o700); err != nil {
			return err
		}
		// A data directory without a pepper takes the backup's; one with a pepper keeps it, and Restore
		// refuses a backup made under another.
		own := filepath.Join(sf.dataDir, keys.PepperFile)
		if _, err := os.Stat(own); errors.Is(err, iofs.ErrNotExist) {
			b, err := os.ReadFile(*from + ".pepper")
			if err != nil {
				return fmt.Errorf("restore: the data directory has no pepper and the backup's is missing: %w", err)
			}
			if err := writeExclusive(own, b); err != nil {
				return fmt.Errorf("restore: install the pepper: %w", err)
			}
		}
		pepper, err := existingPepper(sf.dataDir)
		if err != nil {
			return err
		}
		if err := sqlite.Restore(ctx, *from, path, pepper); err != nil {
			return fmt.Errorf("restore: %w (stop printdock-server and move %s and its -wal/-shm files away first)", err, path)
		}
		fmt.Fprintf(o.stdout, "Restored %s from %s. Start printdock-server.\n", path, *from)
		return nil
	}
}

// existingPepper reads the data directory's pepper, refusing to create one (a new pepper would make
// every stored secret unusable).
func existingPepper(dataDir string) ([]byte, error) {
	if _, err := os.Stat(filepath.Join(dataDir, keys.PepperFile)); err != nil {
		return nil, fmt.Errorf("the pepper file %s: %w", filepath.Join(dataDir, keys.PepperFile), err)
	}
	pepper, _, err := keys.LoadOrCreatePepperInfo(dataDir)
	return pepper, err
}

// writeExclusive writes a new 0600 file (never replacing one).
func writeExclusive(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, werr := f.Write(b)
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}
