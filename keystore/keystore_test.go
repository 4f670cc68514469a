package keystore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

func TestValidateSecret(t *testing.T) {
	tests := []struct {
		name   string
		secret string
		ok     bool
	}{
		{"typical", "pdc_0123456789abcdefghijklmnopqrstuvwxyzABCDEF_x1y2", true},
		{"unicode", "pdc_ünïcode", true},
		{"empty", "", false},
		{"newline", "pdc_secretpart\nmore", false},
		{"trailing newline", "pdc_secretpart\n", false},
		{"carriage return", "pdc_secretpart\r", false},
		{"nul", "pdc_secret\x00part", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validateSecret(tt.secret)
			if (err == nil) != tt.ok {
				t.Fatalf("validateSecret: err = %v, want ok = %v", err, tt.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalidSecret) {
					t.Errorf("err = %v, want ErrInvalidSecret", err)
				}
				if tt.secret != "" && strings.Contains(err.Error(), "secretpart") {
					t.Errorf("error message contains the secret: %q", err)
				}
			}
		})
	}
}

func TestOpenArguments(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tests := []struct {
		name    string
		mode    string
		dir     string
		opts    []Option
		wantErr error
		backend string
	}{
		{"file", ModeFile, dir, nil, nil, BackendFile},
		{"file with account", ModeFile, dir, []Option{WithAccount("second")}, nil, BackendFile},
		{"unknown mode", "vault", dir, nil, ErrUnknownMode, ""},
		{"file without state dir", ModeFile, "", nil, ErrNoStateDir, ""},
		{"empty account", ModeFile, dir, []Option{WithAccount("")}, ErrInvalidAccount, ""},
		{"path in account", ModeFile, dir, []Option{WithAccount("../etc/x")}, ErrInvalidAccount, ""},
		{"dot-dot account", ModeAuto, dir, []Option{WithAccount("..")}, ErrInvalidAccount, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(ctx, tt.mode, tt.dir, tt.opts...)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Open: err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if got := s.Backend(); got != tt.backend {
				t.Errorf("Backend() = %q, want %q", got, tt.backend)
			}
		})
	}
}

// secretHidingError wraps an error that names the secret without printing it: only unwrapping reaches it.
type secretHidingError struct{ err error }

func (e secretHidingError) Error() string { return "write failed" }
func (e secretHidingError) Unwrap() error { return e.err }

func TestRedact(t *testing.T) {
	const secret = "pdc_topsecretvalue"
	tests := []struct {
		name string
		err  error
		is   []error // sentinels errors.Is must still find
	}{
		{"message", errors.New("dbus said: bad value " + secret), nil},
		{"wrapped", fmt.Errorf("keystore: keyring set: %w", errors.New("dbus: "+secret)), nil},
		{"wrapping a sentinel", fmt.Errorf("keystore: file set: %w: %s", ErrKeyringUnavailable, secret), []error{ErrKeyringUnavailable}},
		{"permission", fmt.Errorf("keystore: file set: %w", &fs.PathError{Op: "open", Path: "/x/" + secret, Err: fs.ErrPermission}), []error{fs.ErrPermission}},
		{"deadline", fmt.Errorf("set %s: %w", secret, context.DeadlineExceeded), []error{context.DeadlineExceeded}},
		{"joined", errors.Join(ErrInvalidSecret, errors.New(secret)), []error{ErrInvalidSecret}},
		{"hidden in the chain", fmt.Errorf("keystore: file set: %w", secretHidingError{fmt.Errorf("%s: %w", secret, fs.ErrExist)}), []error{fs.ErrExist}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := redact(tt.err, secret)
			if err == nil {
				t.Fatal("redact returned nil")
			}
			// Neither the message nor any error reachable by unwrapping may contain the secret.
			var walk func(e error, depth int)
			walk = func(e error, depth int) {
				if e == nil {
					return
				}
				for _, s := range []string{e.Error(), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e)} {
					if strings.Contains(s, "topsecretvalue") {
						t.Errorf("error at depth %d (%T) contains the secret: %q", depth, e, s)
					}
				}
				switch u := e.(type) {
				case interface{ Unwrap() error }:
					walk(u.Unwrap(), depth+1)
				case interface{ Unwrap() []error }:
					for _, w := range u.Unwrap() {
						walk(w, depth+1)
					}
				}
			}
			walk(err, 0)
			if !strings.Contains(err.Error(), "[REDACTED]") && tt.name != "hidden in the chain" {
				t.Errorf("message %q does not say what was redacted", err)
			}
			for _, s := range tt.is {
				if !errors.Is(err, s) {
					t.Errorf("errors.Is(%v) = false after redacting", s)
				}
			}
			if errors.Is(err, ErrNotFound) {
				t.Errorf("redact invented ErrNotFound")
			}
		})
	}
	if plain := errors.New("no secret here"); redact(plain, secret) != plain {
		t.Errorf("redact wrapped an error that did not contain the secret")
	}
}
