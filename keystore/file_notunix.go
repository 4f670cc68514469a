//go:build !unix

package keystore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// openNoFollow opens path for reading. Windows has no O_NOFOLLOW; a symbolic link is refused by
// checkSecretFile's Lstat instead.
func openNoFollow(path string) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, fmt.Errorf("%w: %s is a symbolic link", ErrInsecureFile, path)
	}
	return os.Open(path)
}

// checkSecretFile only checks for a regular file: Windows permissions are ACLs (inherited from the state
// directory), not mode bits. The keyring (Windows Credential Manager) is the preferred backend there.
func checkSecretFile(path string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file", ErrInsecureFile, path)
	}
	return nil
}

func isChmodUnsupported(err error) bool { return errors.Is(err, errors.ErrUnsupported) }

// syncDir: directories cannot be fsynced on Windows; MoveFileEx (os.Rename) is durable enough there.
func syncDir(string) error { return nil }
