package keys

import (
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

// LoadOrCreatePepper returns the server pepper kept in dataDir/pepper, creating the directory (0700) and
// the file (32 random bytes, mode 0600) when missing. It refuses a pepper file that group or others can
// access (on Unix) and one of the wrong length. Losing the pepper invalidates every stored secret: back it
// up with the database.
func LoadOrCreatePepper(dataDir string) ([]byte, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("keys: pepper: %w", err)
	}
	path := filepath.Join(dataDir, PepperFile)
	b, err := readPepper(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return b, err
	}
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
