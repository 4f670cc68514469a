package keystore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"printdock/internal/testenv"
)

const secretServiceHint = "OS keyring (Secret Service: run under dbus-run-session with gnome-keyring-daemon --unlock, DESIGN §4)"

// testAccount returns a fresh account name, so the tests never touch a real agent's entry.
func testAccount(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "test-" + hex.EncodeToString(b)
}

// requireKeyring skips (or, with PRINTDOCK_REQUIRE_REAL=1, fails) when no usable keyring is there.
func requireKeyring(t *testing.T, account string) {
	t.Helper()
	testenv.RequireReal(t, secretServiceHint, ProbeKeyring(context.Background(), account))
}

// secretToolLookup asks libsecret's secret-tool what the Secret Service holds for account, proving the
// secret lives there and not in some fallback. ok is false when the Secret Service has no such item.
// It returns checked=false when secret-tool is absent (unless real parts are required).
func secretToolLookup(t *testing.T, account string) (value string, ok, checked bool) {
	t.Helper()
	path, err := exec.LookPath("secret-tool")
	if err != nil {
		if testenv.Required() {
			t.Fatalf("secret-tool (libsecret-tools) is required (PRINTDOCK_REQUIRE_REAL=1): %v", err)
		}
		return "", false, false
	}
	out, err := exec.Command(path, "lookup", "service", Service, "username", account).Output()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) && exitErr.ExitCode() == 1 && len(out) == 0 {
		return "", false, true
	}
	if err != nil {
		t.Fatalf("secret-tool lookup: %v", err)
	}
	return strings.TrimSuffix(string(out), "\n"), true, true
}

func TestKeyring(t *testing.T) {
	ctx := context.Background()
	const (
		first  = "pdc_keyringfirst_0123456789abcdefghijklmnopqrstuv"
		second = "pdc_keyringsecond"
	)
	tests := []struct {
		name    string
		do      func(k *Keyring) error
		want    string // "" means ErrNotFound
		wantErr error
	}{
		{"not found", func(*Keyring) error { return nil }, "", nil},
		{"set then get", func(k *Keyring) error { return k.Set(ctx, first) }, first, nil},
		{"overwrite", func(k *Keyring) error {
			if err := k.Set(ctx, first); err != nil {
				return err
			}
			return k.Set(ctx, second)
		}, second, nil},
		{"delete", func(k *Keyring) error {
			if err := k.Set(ctx, first); err != nil {
				return err
			}
			return k.Delete(ctx)
		}, "", nil},
		{"delete missing", func(k *Keyring) error { return k.Delete(ctx) }, "", nil},
		{"invalid secret keeps old", func(k *Keyring) error {
			if err := k.Set(ctx, first); err != nil {
				return err
			}
			return k.Set(ctx, "pdc_bad\x00secret")
		}, first, ErrInvalidSecret},
	}
	requireKeyring(t, testAccount(t))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			account := testAccount(t)
			k, err := NewKeyring(account)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = k.Delete(context.Background()) })
			if got := k.Backend(); got != BackendKeyring {
				t.Errorf("Backend() = %q", got)
			}
			if err := tt.do(k); !errors.Is(err, tt.wantErr) {
				t.Fatalf("operation: err = %v, want %v", err, tt.wantErr)
			}
			got, err := k.Get(ctx)
			if tt.want == "" {
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("Get = %q, %v; want ErrNotFound", got, err)
				}
			} else if err != nil || got != tt.want {
				t.Fatalf("Get = %q, %v; want %q", got, err, tt.want)
			}
			value, ok, checked := secretToolLookup(t, account)
			if !checked {
				t.Log("secret-tool not installed: not cross-checking the Secret Service")
				return
			}
			if ok != (tt.want != "") || value != tt.want {
				t.Errorf("secret-tool lookup service %s username %s = %q (found %v), want %q",
					Service, account, value, ok, tt.want)
			}
		})
	}
}

// TestOpenAutoWithKeyring: with a working Secret Service, auto picks the keyring, except when only the
// file holds a secret; mode "keyring" works too.
func TestOpenAutoWithKeyring(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		mode       string
		inKeyring  string
		inFile     string
		want       string // backend
		wantSecret string
	}{
		{"auto, nothing stored", ModeAuto, "", "", BackendKeyring, ""},
		{"auto, secret in keyring", ModeAuto, "pdc_inkeyring", "", BackendKeyring, "pdc_inkeyring"},
		{"auto, secrets in both", ModeAuto, "pdc_inkeyring", "pdc_infile", BackendKeyring, "pdc_inkeyring"},
		{"auto, secret only in file", ModeAuto, "", "pdc_infile", BackendFile, "pdc_infile"},
		{"keyring mode", ModeKeyring, "", "pdc_infile", BackendKeyring, ""},
	}
	requireKeyring(t, testAccount(t))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			account := testAccount(t)
			dir := t.TempDir()
			k, err := NewKeyring(account)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = k.Delete(context.Background()) })
			if tt.inKeyring != "" {
				if err := k.Set(ctx, tt.inKeyring); err != nil {
					t.Fatal(err)
				}
			}
			if tt.inFile != "" {
				f, err := NewFile(dir, account)
				if err != nil {
					t.Fatal(err)
				}
				if err := f.Set(ctx, tt.inFile); err != nil {
					t.Fatal(err)
				}
			}
			s, err := Open(ctx, tt.mode, dir, WithAccount(account))
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if got := s.Backend(); got != tt.want {
				t.Fatalf("Backend() = %q, want %q", got, tt.want)
			}
			got, err := s.Get(ctx)
			if tt.wantSecret == "" {
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("Get = %q, %v; want ErrNotFound", got, err)
				}
			} else if err != nil || got != tt.wantSecret {
				t.Fatalf("Get = %q, %v; want %q", got, err, tt.wantSecret)
			}
		})
	}
}
