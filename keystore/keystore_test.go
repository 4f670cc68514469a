package keystore

import (
	"context"
	"errors"
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

func TestRedact(t *testing.T) {
	const secret = "pdc_topsecretvalue"
	base := errors.New("dbus said: bad value " + secret)
	err := redact(base, secret)
	if strings.Contains(err.Error(), secret) {
		t.Errorf("redacted error still contains the secret: %q", err)
	}
	if !errors.Is(err, base) {
		t.Errorf("redact broke errors.Is")
	}
	if plain := errors.New("no secret here"); redact(plain, secret) != plain {
		t.Errorf("redact wrapped an error that did not contain the secret")
	}
}
