package keystore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func newTestFile(t *testing.T) (*File, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "state", "agent")
	f, err := NewFile(dir, DefaultAccount)
	if err != nil {
		t.Fatalf("NewFile: %v", err)
	}
	return f, dir
}

func TestFileRoundTrip(t *testing.T) {
	ctx := context.Background()
	const (
		first  = "pdc_firstsecret_AAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		second = "pdc_second"
	)
	tests := []struct {
		name    string
		do      func(t *testing.T, f *File) error
		want    string // expected Get result after do; "" means ErrNotFound
		wantErr error  // expected error from do
	}{
		{"not found in missing dir", func(*testing.T, *File) error { return nil }, "", nil},
		{"set then get", func(t *testing.T, f *File) error { return f.Set(ctx, first) }, first, nil},
		{"overwrite with shorter", func(t *testing.T, f *File) error {
			if err := f.Set(ctx, first); err != nil {
				return err
			}
			return f.Set(ctx, second)
		}, second, nil},
		{"delete", func(t *testing.T, f *File) error {
			if err := f.Set(ctx, first); err != nil {
				return err
			}
			return f.Delete(ctx)
		}, "", nil},
		{"delete missing", func(t *testing.T, f *File) error { return f.Delete(ctx) }, "", nil},
		{"delete twice", func(t *testing.T, f *File) error {
			if err := f.Set(ctx, first); err != nil {
				return err
			}
			if err := f.Delete(ctx); err != nil {
				return err
			}
			return f.Delete(ctx)
		}, "", nil},
		{"invalid secret keeps old", func(t *testing.T, f *File) error {
			if err := f.Set(ctx, first); err != nil {
				return err
			}
			return f.Set(ctx, "pdc_two\nlines")
		}, first, ErrInvalidSecret},
		{"empty secret rejected", func(t *testing.T, f *File) error { return f.Set(ctx, "") }, "", ErrInvalidSecret},
		{"hand-written trailing newline", func(t *testing.T, f *File) error {
			return writeRaw(f, first+"\n")
		}, first, nil},
		{"empty file is not found", func(t *testing.T, f *File) error { return writeRaw(f, "") }, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := newTestFile(t)
			err := tt.do(t, f)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("operation: err = %v, want %v", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "pdc_two") {
				t.Errorf("error contains the secret: %q", err)
			}
			got, err := f.Get(ctx)
			if tt.want == "" {
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("Get = %q, %v; want ErrNotFound", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Get = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// writeRaw writes content as the secret file with mode 0600, as an administrator might by hand.
func writeRaw(f *File, content string) error {
	if err := os.MkdirAll(filepath.Dir(f.Path()), 0o700); err != nil {
		return err
	}
	return os.WriteFile(f.Path(), []byte(content), 0o600)
}

func TestFilePermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("mode bits are not checked on Windows (ACLs); the keyring is preferred there")
	}
	ctx := context.Background()
	f, dir := newTestFile(t)
	if err := f.Set(ctx, "pdc_permsecret"); err != nil {
		t.Fatalf("Set: %v", err)
	}
	fi, err := os.Stat(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("file mode = %04o, want 0600", got)
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := di.Mode().Perm(); got != 0o700 {
		t.Errorf("created dir mode = %04o, want 0700", got)
	}
	if f.Path() != filepath.Join(dir, "agent.secret") {
		t.Errorf("Path() = %q", f.Path())
	}
	b, err := os.ReadFile(f.Path())
	if err != nil || string(b) != "pdc_permsecret" {
		t.Errorf("file content = %q, %v; want the secret and nothing else", b, err)
	}
}

func TestFileRefusesInsecure(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("mode bits are not checked on Windows (ACLs); the keyring is preferred there")
	}
	ctx := context.Background()
	const secret = "pdc_insecuresecret"
	tests := []struct {
		name    string
		prepare func(t *testing.T, f *File)
		wantErr error
	}{
		{"mode 0644", func(t *testing.T, f *File) { chmod(t, f.Path(), 0o644) }, ErrInsecureFile},
		{"mode 0640", func(t *testing.T, f *File) { chmod(t, f.Path(), 0o640) }, ErrInsecureFile},
		{"mode 0604", func(t *testing.T, f *File) { chmod(t, f.Path(), 0o604) }, ErrInsecureFile},
		{"mode 0620", func(t *testing.T, f *File) { chmod(t, f.Path(), 0o620) }, ErrInsecureFile},
		{"mode 0400 is fine", func(t *testing.T, f *File) { chmod(t, f.Path(), 0o400) }, nil},
		{"symlink", func(t *testing.T, f *File) {
			target := filepath.Join(t.TempDir(), "elsewhere")
			if err := os.WriteFile(target, []byte(secret), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(f.Path()); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, f.Path()); err != nil {
				t.Fatal(err)
			}
		}, ErrInsecureFile},
		{"directory", func(t *testing.T, f *File) {
			if err := os.Remove(f.Path()); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(f.Path(), 0o700); err != nil {
				t.Fatal(err)
			}
		}, ErrInsecureFile},
		{"owned by another user", func(t *testing.T, f *File) {
			if os.Geteuid() != 0 {
				t.Skip("needs root to chown the file")
			}
			if err := os.Chown(f.Path(), 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}, ErrInsecureFile},
		{"two lines", func(t *testing.T, f *File) {
			if err := os.WriteFile(f.Path(), []byte(secret+"\nsecond\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, ErrCorruptFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := newTestFile(t)
			if err := f.Set(ctx, secret); err != nil {
				t.Fatalf("Set: %v", err)
			}
			tt.prepare(t, f)
			got, err := f.Get(ctx)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Get = %q, %v; want %v", got, err, tt.wantErr)
			}
			if err != nil {
				if got != "" || strings.Contains(err.Error(), secret) {
					t.Errorf("refused Get leaked the secret: %q, %q", got, err)
				}
				t.Logf("refused: %v", err)
			}
		})
	}
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// TestFileAtomicOverwrite has a reader race a writer: every Get must return one of the two complete
// secrets, never a partial, empty or missing file. Afterwards no temporary file may remain.
func TestFileAtomicOverwrite(t *testing.T) {
	ctx := context.Background()
	f, dir := newTestFile(t)
	a := "pdc_" + strings.Repeat("a", 4000)
	b := "pdc_b"
	if err := f.Set(ctx, a); err != nil {
		t.Fatalf("Set: %v", err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var readerErr error
	reads := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			got, err := f.Get(ctx)
			reads++
			if err != nil {
				readerErr = err
				return
			}
			if got != a && got != b {
				readerErr = fmt.Errorf("read a partial secret (%d bytes)", len(got))
				return
			}
		}
	}()
	for i := range 300 {
		s := a
		if i%2 == 0 {
			s = b
		}
		if err := f.Set(ctx, s); err != nil {
			close(stop)
			wg.Wait()
			t.Fatalf("Set #%d: %v", i, err)
		}
	}
	close(stop)
	wg.Wait()
	if readerErr != nil {
		t.Fatalf("concurrent Get after %d reads: %v", reads, readerErr)
	}
	if got, err := f.Get(ctx); err != nil || got != a {
		t.Fatalf("final Get = %d bytes, %v; want the last secret", len(got), err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "agent.secret" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("state dir holds %v, want only agent.secret", names)
	}
}
