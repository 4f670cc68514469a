package keys

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// PepperFile is the name of the pepper file inside the data directory.
const PepperFile = "pepper"

// PepperLen is the pepper's length in bytes.
const PepperLen = 32

// ErrPepperPermissions is returned for a pepper file that group or others may read or write.
var ErrPepperPermissions = errors.New("pepper file is accessible to group or others (want mode 0600)")

// PendingPepperFile is where LoadOrCreatePepperInfo keeps a pepper it created until New (with
// WithPepperDir) has checked it against the database and renamed it to PepperFile.
const PendingPepperFile = "pepper.new"

// ErrPepperMismatch is returned by New (with WithPepperDir) when the pepper was just created but the
// database already holds keys: they were hashed with a pepper that is now missing.
var ErrPepperMismatch = errors.New("the pepper does not belong to this database")

// LoadOrCreatePepper returns the server pepper kept in dataDir/pepper, creating the directory (0700) and
// the file (32 random bytes, mode 0600) when missing. It refuses a pepper file that group or others can
// access (on Unix) and one of the wrong length. Losing the pepper invalidates every stored secret: back it
// up with the database.
//
// It cannot tell a first start from a lost pepper file; LoadOrCreatePepperInfo with WithPepperDir can.
func LoadOrCreatePepper(dataDir string) ([]byte, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("keys: pepper: %w", err)
	}
	path := filepath.Join(dataDir, PepperFile)
	b, err := readPepper(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return b, err
	}
	return createPepper(dataDir, PepperFile)
}

// LoadOrCreatePepperInfo is LoadOrCreatePepper for a server that can check a new pepper against its
// database: it returns dataDir/pepper when it exists (created = false); otherwise it returns the pending
// pepper dataDir/pepper.new, creating it when missing (created = true). A pending pepper is not used as
// dataDir/pepper until New, given WithPepperDir(dataDir), has found the database empty: a missing pepper
// file next to a database that holds keys is refused with ErrPepperMismatch, on this start and on every
// later one, instead of silently invalidating every secret.
func LoadOrCreatePepperInfo(dataDir string) (pepper []byte, created bool, err error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, false, fmt.Errorf("keys: pepper: %w", err)
	}
	b, err := readPepper(filepath.Join(dataDir, PepperFile))
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return b, false, err
	}
	b, err = readPepper(filepath.Join(dataDir, PendingPepperFile))
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return b, err == nil, err
	}
	b, err = createPepper(dataDir, PendingPepperFile)
	return b, err == nil, err
}

// createPepper writes 32 random bytes to dataDir/name, or returns what a concurrent creator wrote there.
func createPepper(dataDir, name string) ([]byte, error) {
	path := filepath.Join(dataDir, name)
	// Write a temporary file and hard-link it into place: the pepper appears complete or not at all, and
	// a concurrent creator's pepper is never overwritten.
	p := make([]byte, PepperLen)
	if _, err := rand.Read(p); err != nil {
		return nil, fmt.Errorf("keys: pepper: %w", err)
	}
	tmp, err := os.CreateTemp(dataDir, ".pepper-*")
	if err != nil {
		return nil, fmt.Errorf("keys: pepper: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil && !isWindows {
		tmp.Close()
		return nil, fmt.Errorf("keys: pepper: %w", err)
	}
	if _, err := tmp.Write(p); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("keys: pepper: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("keys: pepper: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("keys: pepper: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readPepper(path)
		}
		return nil, fmt.Errorf("keys: pepper: %w", err)
	}
	return p, nil
}

// checkPendingPepper runs in New for WithPepperDir(dataDir). When pepper is the pending pepper
// (dataDir/pepper.new, and no dataDir/pepper), it refuses it if the store already has a portal and
// otherwise adopts it as dataDir/pepper. A pending file left beside a real pepper (restored from a backup)
// is removed.
func checkPendingPepper(ctx context.Context, st Store, dataDir string, pepper []byte) error {
	path, pending := filepath.Join(dataDir, PepperFile), filepath.Join(dataDir, PendingPepperFile)
	if _, err := os.Lstat(path); err == nil {
		if err := os.Remove(pending); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("keys: pepper: remove stale %s: %w", PendingPepperFile, err)
		}
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("keys: pepper: %w", err)
	}
	b, err := readPepper(pending)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("keys: pepper: %s is missing (load the pepper with LoadOrCreatePepperInfo)", path)
	}
	if err != nil {
		return err
	}
	if !hmac.Equal(b, pepper) {
		return fmt.Errorf("keys: pepper: the pepper given is not the one in %s", pending)
	}
	n, err := st.CountPortals(ctx)
	if err != nil {
		return fmt.Errorf("keys: pepper: count portals: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("keys: %w: the server's pepper file %s is missing but the database holds keys: "+
			"restore %s from backup (every replica shares one). A new pepper would invalidate every secret and "+
			"log out every agent; to do that deliberately, rename %s to %s", ErrPepperMismatch, path, path, pending, path)
	}
	// An empty database: this is the first start, and the pending pepper becomes the pepper.
	if err := os.Link(pending, path); err != nil {
		return fmt.Errorf("keys: pepper: adopt %s: %w", PendingPepperFile, err)
	}
	if err := os.Remove(pending); err != nil {
		return fmt.Errorf("keys: pepper: %w", err)
	}
	return syncDir(dataDir)
}

// syncDir makes a link or remove in dir durable, as far as the platform and file system allow (Windows
// and some file systems cannot sync a directory).
func syncDir(dir string) error {
	if isWindows {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("keys: pepper: %w", err)
	}
	defer d.Close()
	_ = d.Sync()
	return nil
}

func readPepper(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keys: pepper: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("keys: pepper: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("keys: pepper: %s is not a regular file", path)
	}
	if !isWindows && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("keys: pepper: %s has mode %04o: %w", path, st.Mode().Perm(), ErrPepperPermissions)
	}
	b, err := io.ReadAll(io.LimitReader(f, PepperLen+1))
	if err != nil {
		return nil, fmt.Errorf("keys: pepper: %w", err)
	}
	if len(b) != PepperLen {
		return nil, fmt.Errorf("keys: pepper: %s holds %d bytes, want %d", path, len(b), PepperLen)
	}
	return b, nil
}
