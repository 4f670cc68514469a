package keystore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// fileMode and dirMode are the permissions of the secret file and of a state directory File creates.
const (
	fileMode os.FileMode = 0o600
	dirMode  os.FileMode = 0o700
)

// maxFileSize bounds what Get reads; a print client secret is far smaller.
const maxFileSize = 64 << 10

// File is the file backend: the secret alone, in <dir>/<account>.secret, mode 0600, owned by the current
// user. It is meant for Linux system services (root) with no Secret Service session.
//
// Set writes atomically (temporary file in the same directory, fsync, rename, fsync of the directory) and
// creates the directory with mode 0700 when missing (an existing directory's mode is left alone). On Unix,
// Get refuses (ErrInsecureFile) a file that is not a regular file owned by the current user with mode
// 0600 or stricter. On Windows, where mode bits mean nothing, the file (and a directory Set creates) is
// created with a protected DACL granting access only to SYSTEM, the Administrators and the current user,
// so it inherits nothing from %ProgramData% (which lets BUILTIN\Users read); Get gives a file without a
// protected DACL (written by an earlier version) that DACL. There, prefer the keyring (Windows Credential
// Manager) all the same.
type File struct {
	dir  string
	path string
}

// NewFile returns the file backend keeping account's secret in dir.
func NewFile(dir, account string) (*File, error) {
	if err := validateAccount(account); err != nil {
		return nil, err
	}
	return newFileStore(dir, account)
}

func newFileStore(dir, account string) (*File, error) {
	if dir == "" {
		return nil, fmt.Errorf("keystore: %w", ErrNoStateDir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("keystore: state dir: %w", err)
	}
	return &File{dir: abs, path: filepath.Join(abs, account+".secret")}, nil
}

// Path returns the secret file's path.
func (f *File) Path() string { return f.path }

// Backend returns BackendFile.
func (f *File) Backend() string { return BackendFile }

// Get returns the secret, or an error wrapping ErrNotFound when the file (or its directory) does not exist
// or is empty.
func (f *File) Get(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	fh, err := openNoFollow(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("keystore: file get: %w", ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("keystore: file get: %w", err)
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return "", fmt.Errorf("keystore: file get: %w", err)
	}
	if err := checkSecretFile(f.path, fi); err != nil {
		return "", fmt.Errorf("keystore: file get: %w", err)
	}
	_ = tightenSecretFile(f.path) // Windows: a file from an earlier version gets the protected DACL
	b, err := io.ReadAll(io.LimitReader(fh, maxFileSize+1))
	if err != nil {
		return "", fmt.Errorf("keystore: file get: %w", err)
	}
	if len(b) > maxFileSize {
		return "", fmt.Errorf("keystore: file get: %w: %s is larger than %d bytes", ErrCorruptFile, f.path, maxFileSize)
	}
	// Tolerate one trailing line break (a file written by hand); Set writes none.
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) == 0 {
		return "", fmt.Errorf("keystore: file get: %w", ErrNotFound)
	}
	if bytes.ContainsAny(b, "\n\r\x00") {
		return "", fmt.Errorf("keystore: file get: %w: %s holds more than one line", ErrCorruptFile, f.path)
	}
	return string(b), nil
}

// Set atomically replaces the file with secret.
func (f *File) Set(ctx context.Context, secret string) (err error) {
	if err := validateSecret(secret); err != nil {
		return fmt.Errorf("keystore: file set: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = redact(fmt.Errorf("keystore: file set: %w", err), secret)
		}
	}()
	if err := makeStateDir(f.dir); err != nil {
		return err
	}
	tmp, err := createSecretTemp(f.dir, "."+filepath.Base(f.path)+".", ".tmp") // 0600, or a protected DACL
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmpName)
		}
	}()
	if _, err := tmp.WriteString(secret); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmpName, f.path); err != nil {
		return err
	}
	return syncDir(f.dir)
}

// Delete removes the file; a missing file is not an error.
func (f *File) Delete(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := os.Remove(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("keystore: file delete: %w", err)
	}
	if err := syncDir(f.dir); err != nil {
		return fmt.Errorf("keystore: file delete: %w", err)
	}
	return nil
}
