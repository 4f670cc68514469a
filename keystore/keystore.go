// Package keystore owns the print client secret of printdock-agent: it stores, reads and deletes that one
// secret, either in the OS keyring (Windows Credential Manager, macOS Keychain, Linux Secret Service, via
// github.com/zalando/go-keyring) or in a root-only file in the agent's state directory (for Linux system
// services that have no Secret Service session).
//
// Only the secret is stored: no server URL, no device ID, nothing else. The agent keeps its non-secret
// configuration elsewhere.
//
// Open chooses the backend. In mode "auto" it probes the keyring without ever starting a process: on Linux
// it first looks for an existing D-Bus session bus (DBUS_SESSION_BUS_ADDRESS or /run/user/<uid>/bus) and
// for a Secret Service that is already running on it (it never autolaunches dbus-daemon and never
// D-Bus-activates gnome-keyring-daemon), then reads the secret's entry under a timeout. Any error other
// than "not found" means the keyring is unavailable, and the file backend is used. A working keyring is
// always preferred, except that a secret already stored in the file (and absent from the keyring) keeps
// the file backend in use, so that processes sharing one state directory agree on where the secret is.
//
// The secret never appears in an error or a log message.
package keystore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// Service is the keyring service name under which the secret is stored.
const Service = "printdock"

// DefaultAccount is the keyring user/account name used when WithAccount is not given. The file backend
// stores the secret in <stateDir>/<account>.secret.
const DefaultAccount = "agent"

// DefaultProbeTimeout bounds the keyring probe in mode "auto" and "keyring".
const DefaultProbeTimeout = 5 * time.Second

// Modes accepted by Open (the agent's --keystore flag).
const (
	ModeAuto    = "auto"
	ModeKeyring = "keyring"
	ModeFile    = "file"
)

// Backend names returned by Store.Backend.
const (
	BackendKeyring = "keyring"
	BackendFile    = "file"
)

var (
	// ErrNotFound is returned by Get when no secret is stored.
	ErrNotFound = errors.New("no secret stored")
	// ErrInvalidSecret is returned by Set for an empty secret or one containing a newline, CR or NUL.
	ErrInvalidSecret = errors.New("invalid secret")
	// ErrKeyringUnavailable means the OS keyring cannot be used (no session bus, no Secret Service,
	// locked collection, timeout, …). The wrapped error says why.
	ErrKeyringUnavailable = errors.New("keyring unavailable")
	// ErrInsecureFile is returned by the file backend for a secret file that is not a regular file owned
	// by the current user with no group/other permission bits.
	ErrInsecureFile = errors.New("insecure secret file")
	// ErrCorruptFile is returned by the file backend when the file holds more than one line or a NUL.
	ErrCorruptFile = errors.New("corrupt secret file")
	// ErrUnknownMode is returned by Open for a mode other than auto, keyring or file.
	ErrUnknownMode = errors.New("unknown mode")
	// ErrNoStateDir is returned when the file backend is needed but no state directory was given.
	ErrNoStateDir = errors.New("no state directory for the file backend")
	// ErrInvalidAccount is returned for an empty account name or one that cannot be a file name.
	ErrInvalidAccount = errors.New("invalid account name")
)

// Store keeps one secret.
type Store interface {
	// Get returns the secret, or an error wrapping ErrNotFound when none is stored.
	Get(ctx context.Context) (string, error)
	// Set stores secret, replacing any previous one. It returns ErrInvalidSecret for an empty secret or
	// one that contains a newline, CR or NUL.
	Set(ctx context.Context, secret string) error
	// Delete removes the secret. Deleting a secret that is not there is not an error.
	Delete(ctx context.Context) error
	// Backend names the backend: BackendKeyring ("keyring") or BackendFile ("file").
	Backend() string
}

// Option configures Open.
type Option func(*options)

type options struct {
	account      string
	probeTimeout time.Duration
	logger       *slog.Logger
}

// WithAccount sets the keyring user/account name (default DefaultAccount). It also names the file
// backend's file (<account>.secret).
func WithAccount(account string) Option { return func(o *options) { o.account = account } }

// WithProbeTimeout bounds the keyring probe (default DefaultProbeTimeout).
func WithProbeTimeout(d time.Duration) Option { return func(o *options) { o.probeTimeout = d } }

// WithLogger sets the logger Open reports its choice to (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// Open returns the Store for mode ("auto", "keyring" or "file"; "" means "auto"). stateDir is the agent's
// state directory, where the file backend keeps <account>.secret; it is needed by mode "file" and by
// "auto" (only "keyring" ignores it). The directory is created (0700) on the first Set, not by Open.
//
//   - "file": the file backend, no probe.
//   - "keyring": probes the keyring (D-Bus activation of the Secret Service is allowed here, autolaunching
//     a session bus is not) and returns an error wrapping ErrKeyringUnavailable when it cannot be used.
//   - "auto": the keyring when it works (see the package documentation), else the file backend. Open
//     logs the choice and, on fallback, the reason.
func Open(ctx context.Context, mode, stateDir string, opts ...Option) (Store, error) {
	o := options{account: DefaultAccount, probeTimeout: DefaultProbeTimeout, logger: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	if err := validateAccount(o.account); err != nil {
		return nil, err
	}
	switch mode {
	case ModeFile:
		return newFileStore(stateDir, o.account)
	case ModeKeyring:
		if _, err := probeKeyring(ctx, o.account, o.probeTimeout, true); err != nil {
			return nil, fmt.Errorf("keystore: open keyring: %w", err)
		}
		return NewKeyring(o.account)
	case ModeAuto, "":
		return openAuto(ctx, stateDir, o)
	default:
		return nil, fmt.Errorf("keystore: %w %q (want auto, keyring or file)", ErrUnknownMode, mode)
	}
}

func openAuto(ctx context.Context, stateDir string, o options) (Store, error) {
	hasSecret, kerr := probeKeyring(ctx, o.account, o.probeTimeout, false)
	if kerr != nil {
		f, err := newFileStore(stateDir, o.account)
		if err != nil {
			return nil, fmt.Errorf("keystore: open auto: %w (keyring: %w)", err, kerr)
		}
		o.logger.InfoContext(ctx, "keystore: keyring unavailable, using file backend",
			"path", f.Path(), "reason", kerr.Error())
		return f, nil
	}
	k, err := NewKeyring(o.account)
	if err != nil {
		return nil, err
	}
	if !hasSecret && stateDir != "" {
		f, err := newFileStore(stateDir, o.account)
		if err != nil {
			return nil, err
		}
		_, ferr := f.Get(ctx)
		switch {
		case ferr == nil:
			o.logger.InfoContext(ctx, "keystore: keyring is empty but the secret file holds a secret, using file backend",
				"path", f.Path())
			return f, nil
		case !errors.Is(ferr, ErrNotFound):
			o.logger.WarnContext(ctx, "keystore: ignoring unusable secret file, using keyring",
				"path", f.Path(), "error", ferr.Error())
		}
	}
	o.logger.DebugContext(ctx, "keystore: using keyring backend", "service", Service, "account", o.account)
	return k, nil
}

// validateSecret checks what every backend needs: a non-empty single line without NUL. The error never
// contains the secret.
func validateSecret(secret string) error {
	switch {
	case secret == "":
		return fmt.Errorf("%w: empty", ErrInvalidSecret)
	case strings.ContainsAny(secret, "\n\r"):
		return fmt.Errorf("%w: contains a line break", ErrInvalidSecret)
	case strings.ContainsRune(secret, 0):
		return fmt.Errorf("%w: contains a NUL byte", ErrInvalidSecret)
	}
	return nil
}

func validateAccount(account string) error {
	if account == "" || account == "." || account == ".." ||
		strings.ContainsAny(account, "/\\:\x00\n\r") || strings.TrimSpace(account) != account {
		return fmt.Errorf("keystore: %w %q", ErrInvalidAccount, account)
	}
	return nil
}

// redactedError replaces an error whose message (or that of any error it wraps) contains the secret. It
// keeps only the redacted text and the sentinel errors the original matched (errors.Is), never the
// original error: a caller that unwraps it, or formats it with %+v, cannot reach the secret.
type redactedError struct {
	msg       string
	sentinels []error
}

func (e *redactedError) Error() string { return e.msg }

func (e *redactedError) Unwrap() []error { return e.sentinels }

// redactSentinels are the conditions a caller of Set may branch on. Their texts are fixed, so they carry
// no secret.
var redactSentinels = []error{
	ErrInvalidSecret, ErrKeyringUnavailable, ErrInsecureFile, ErrCorruptFile, ErrNoStateDir,
	context.Canceled, context.DeadlineExceeded,
	fs.ErrPermission, fs.ErrNotExist, fs.ErrExist,
	keyring.ErrSetDataTooBig, keyring.ErrNotFound,
}

// redact returns err unchanged when neither it nor any error it wraps mentions secret, else a
// redactedError.
func redact(err error, secret string) error {
	if err == nil || secret == "" || !chainMentions(err, secret) {
		return err
	}
	e := &redactedError{msg: strings.ReplaceAll(err.Error(), secret, "[REDACTED]")}
	for _, s := range redactSentinels {
		if errors.Is(err, s) {
			e.sentinels = append(e.sentinels, s)
		}
	}
	return e
}

// chainMentions reports whether err or any error in its tree has a message containing secret.
func chainMentions(err error, secret string) bool {
	if err == nil {
		return false
	}
	if strings.Contains(err.Error(), secret) {
		return true
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return chainMentions(u.Unwrap(), secret)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if chainMentions(e, secret) {
				return true
			}
		}
	}
	return false
}
