//go:build !linux

package agent

// ensureServiceAccount: only the Linux unit runs as an account of its own.
func ensureServiceAccount() error { return nil }
