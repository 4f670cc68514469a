package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"printdock/server/keys"
	"printdock/server/store"
)

// Backup, restore and size of the database file.
//
// A backup is one SQLite file made with VACUUM INTO on a connection of its own: a consistent snapshot of the
// last commit (WAL lets the writer go on meanwhile), compacted, with the fingerprint of the pepper its
// secrets were hashed with (store.PepperFingerprint) recorded in its settings. The pepper itself is not in
// the file: keep the data directory's pepper file (keys.PepperFile) with it. Restore refuses a pepper
// whose fingerprint differs, since every stored secret would then fail.

// ErrPepperMismatch is returned by Backup and Restore for a pepper that is not the store's (wraps
// keys.ErrPepperMismatch).
var ErrPepperMismatch = fmt.Errorf("sqlite: %w: the pepper given is not the one this database's secrets were hashed with",
	keys.ErrPepperMismatch)

// Backup writes a consistent copy of the live store to path, a new file (mode 0600; an existing file is
// refused), while the store stays in use. pepper is the store's pepper (keys.LoadOrCreatePepperInfo of
// the data directory): when the store has recorded a fingerprint (the server does at start) and pepper
// does not match it, Backup returns ErrPepperMismatch; the copy records pepper's fingerprint. The
// printdock-server backup command calls it and copies the pepper file beside the copy.
func (db *DB) Backup(ctx context.Context, path string, pepper []byte) error {
	fp := store.PepperFingerprint(pepper)
	var got string
	err := db.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, store.PepperSetting).Scan(&got)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fmt.Errorf("sqlite: backup: %w", err)
	case got != fp:
		return ErrPepperMismatch
	}
	return writeNew(path, func(tmp string) error {
		// VACUUM INTO writes, so not on the query-only read pool; it reads in one read transaction, which
		// in WAL mode neither blocks the writer nor is blocked by it.
		c, err := sql.Open("sqlite", db.dsn)
		if err != nil {
			return fmt.Errorf("sqlite: backup: %w", err)
		}
		defer c.Close()
		if _, err := c.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
			return fmt.Errorf("sqlite: backup: %w", err)
		}
		return setSetting(ctx, tmp, store.PepperSetting, fp)
	})
}

// Restore makes the backup at from the store at path (a new file: stop the server and move the old
// database and its -wal file away first), after checking that pepper — the pepper the restored server
// will use, i.e. the backed-up pepper file placed in its data directory — is the one recorded in the
// backup (ErrPepperMismatch otherwise, and for a backup that records none). The printdock-server restore
// command calls it.
func Restore(ctx context.Context, from, path string, pepper []byte) error {
	src, err := sql.Open("sqlite", "file:"+escapePath(from)+"?mode=ro")
	if err != nil {
		return fmt.Errorf("sqlite: restore: %w", err)
	}
	defer src.Close()
	var got, check string
	if err := src.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&check); err != nil || check != "ok" {
		return fmt.Errorf("sqlite: restore: %s is not a sound database: %v %s", from, err, check)
	}
	err = src.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, store.PepperSetting).Scan(&got)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: restore: %s: %w", from, err)
	}
	if got != store.PepperFingerprint(pepper) {
		return ErrPepperMismatch
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("sqlite: restore: %s: %w", path, fs.ErrExist)
	}
	for _, p := range []string{path + "-wal", path + "-shm"} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("sqlite: restore: %s exists: move the old database's files away first", p)
		}
	}
	return writeNew(path, func(tmp string) error { return copyFile(from, tmp) })
}

// writeNew has fill write a temporary file beside path, makes it durable (mode 0600) and links it to
// path, which must not exist.
func writeNew(path string, fill func(tmp string) error) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("sqlite: %s: %w", path, fs.ErrExist)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".printdock-backup-*")
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	tmp := f.Name()
	f.Close()
	defer os.Remove(tmp)
	if err := os.Remove(tmp); err != nil { // VACUUM INTO wants to create the file itself
		return fmt.Errorf("sqlite: %w", err)
	}
	if err := fill(tmp); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if err := syncFile(tmp); err != nil {
		return err
	}
	if err := os.Link(tmp, path); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

func syncFile(p string) error {
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return fmt.Errorf("sqlite: restore: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite: restore: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("sqlite: restore: %w", err)
	}
	return out.Close()
}

// setSetting sets name in the settings of the closed database file path.
func setSetting(ctx context.Context, path, name, value string) error {
	c, err := sql.Open("sqlite", "file:"+escapePath(path))
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value); err != nil {
		return fmt.Errorf("sqlite: backup: record the pepper: %w", err)
	}
	return c.Close()
}

// Size reports the database's bytes on disk (the file and its WAL) and how many of them are free pages
// that new rows reuse (SQLite does not shrink the file by itself).
func (db *DB) Size(ctx context.Context) (file, free int64, err error) {
	var pageSize, freePages int64
	if err := db.r.QueryRowContext(ctx, `SELECT page_size, freelist_count FROM pragma_page_size(), pragma_freelist_count()`).
		Scan(&pageSize, &freePages); err != nil {
		return 0, 0, fmt.Errorf("sqlite: size: %w", err)
	}
	for _, suffix := range []string{"", "-wal"} {
		if st, err := os.Stat(db.path + suffix); err == nil {
			file += st.Size()
		}
	}
	return file, freePages * pageSize, nil
}
