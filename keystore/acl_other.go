//go:build !windows

package keystore

import "os"

// makeStateDir creates dir (mode 0700) when missing; an existing directory's mode is left alone.
func makeStateDir(dir string) error { return os.MkdirAll(dir, dirMode) }

// createSecretTemp creates a new file dir/prefix<random>suffix, mode 0600.
func createSecretTemp(dir, prefix, suffix string) (*os.File, error) {
	f, err := os.CreateTemp(dir, prefix+"*"+suffix) // created 0600
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(fileMode); err != nil && !isChmodUnsupported(err) {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

// tightenSecretFile has nothing to do: on Unix, Get refuses a file with group or other permissions.
func tightenSecretFile(string) error { return nil }
