//go:build !windows

package agent

import "log/slog"

// checkConfigFile: the owner and mode rules of Unix are the packaging's (/etc/printdock is root's).
func checkConfigFile(string) error { return nil }

// secureStateDir: systemd's StateDirectory= and the agent's umask keep the Unix state directory.
func secureStateDir(string, *slog.Logger) error { return nil }

// PrepareStateDir creates the state directory (mode 0700 for a new one).
func PrepareStateDir(dir string) error { return mkdirAll(dir) }
