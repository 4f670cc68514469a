//go:build !linux

package keystore

import "context"

// sessionBusPresent: only the Linux Secret Service needs a session bus.
func sessionBusPresent() error { return nil }

// secretServiceReady: Windows Credential Manager and the macOS Keychain need no preparation; the probe's
// Get decides.
func secretServiceReady(context.Context, bool) error { return nil }
