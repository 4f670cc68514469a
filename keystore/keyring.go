package keystore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/zalando/go-keyring"
)

// Keyring is the OS keyring backend: service Service, user/account Account.
//
// go-keyring has no context: each call runs in a goroutine and returns ctx.Err() when ctx ends first. An
// abandoned call (for example one waiting on an unlock prompt nobody answers) may still complete later.
type Keyring struct {
	account string
}

// NewKeyring returns the keyring backend for account, without probing it (see ProbeKeyring).
func NewKeyring(account string) (*Keyring, error) {
	if err := validateAccount(account); err != nil {
		return nil, err
	}
	return &Keyring{account: account}, nil
}

// Account returns the keyring user/account name.
func (k *Keyring) Account() string { return k.account }

// Backend returns BackendKeyring.
func (k *Keyring) Backend() string { return BackendKeyring }

// Get returns the secret, or an error wrapping ErrNotFound.
func (k *Keyring) Get(ctx context.Context) (string, error) {
	secret, err := keyringCall(ctx, func() (string, error) {
		if err := sessionBusPresent(); err != nil {
			return "", err
		}
		return keyring.Get(Service, k.account)
	})
	if errors.Is(err, keyring.ErrNotFound) {
		return "", fmt.Errorf("keystore: keyring get: %w", ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("keystore: keyring get: %w", err)
	}
	return secret, nil
}

// Set stores secret, replacing any previous one.
func (k *Keyring) Set(ctx context.Context, secret string) error {
	if err := validateSecret(secret); err != nil {
		return fmt.Errorf("keystore: keyring set: %w", err)
	}
	_, err := keyringCall(ctx, func() (string, error) {
		if err := sessionBusPresent(); err != nil {
			return "", err
		}
		return "", keyring.Set(Service, k.account, secret)
	})
	if err != nil {
		return redact(fmt.Errorf("keystore: keyring set: %w", err), secret)
	}
	return nil
}

// Delete removes the secret; a missing secret is not an error.
func (k *Keyring) Delete(ctx context.Context) error {
	_, err := keyringCall(ctx, func() (string, error) {
		if err := sessionBusPresent(); err != nil {
			return "", err
		}
		return "", keyring.Delete(Service, k.account)
	})
	if err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("keystore: keyring delete: %w", err)
	}
	return nil
}

// ProbeKeyring reports whether the OS keyring can be used for account: nil when it can, else an error
// wrapping ErrKeyringUnavailable that says why. It starts no process (no dbus-launch, no D-Bus activation
// of a Secret Service) and gives up after DefaultProbeTimeout. It is the probe Open uses in mode "auto".
func ProbeKeyring(ctx context.Context, account string) error {
	if err := validateAccount(account); err != nil {
		return err
	}
	if _, err := probeKeyring(ctx, account, DefaultProbeTimeout, false); err != nil {
		return fmt.Errorf("keystore: probe keyring: %w", err)
	}
	return nil
}

// probeKeyring reads account's entry (discarding the value) and reports whether one exists. Any error
// other than keyring.ErrNotFound means the keyring is unavailable. allowActivation lets the Secret Service
// be D-Bus-activated on an existing session bus (mode "keyring"); mode "auto" requires it to be running.
func probeKeyring(ctx context.Context, account string, timeout time.Duration, allowActivation bool) (bool, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	found, err := keyringCall(ctx, func() (bool, error) {
		if err := secretServiceReady(ctx, allowActivation); err != nil {
			return false, err
		}
		_, err := keyring.Get(Service, account)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, keyring.ErrNotFound):
			return false, nil
		}
		return false, err
	})
	if err != nil {
		if errors.Is(err, ErrKeyringUnavailable) {
			return false, err
		}
		return false, fmt.Errorf("%w: %w", ErrKeyringUnavailable, err)
	}
	return found, nil
}

// keyringCall runs f (a blocking go-keyring call) and returns early with ctx.Err() when ctx ends first.
func keyringCall[T any](ctx context.Context, f func() (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}
