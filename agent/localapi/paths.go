package localapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"
)

// SocketName is the socket's file name inside a state directory.
const SocketName = "agent.sock"

// GroupName is the group that may use the system agent's socket (mode 0660, owner root) on Linux.
const GroupName = "printdock"

// ErrAlreadyRunning is returned by Listen when another agent answers on the socket.
var ErrAlreadyRunning = errors.New("another printdock agent is already listening on this socket")

// DefaultStateDir is the agent's state directory when --state-dir is not given: the system directory
// (/var/lib/printdock, or systemd's $STATE_DIRECTORY; %ProgramData%\printdock on Windows) for a
// privileged process (root / elevated), else <user config dir>/printdock.
func DefaultStateDir() string {
	if Privileged() {
		return SystemStateDir()
	}
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "printdock")
	}
	return SystemStateDir()
}

// DefaultSocketPath is where an agent with state directory stateDir listens: the system socket
// (SystemSocketPath) for a privileged agent using the system state directory, else
// <stateDir>/agent.sock.
func DefaultSocketPath(stateDir string) string {
	if Privileged() && samePath(stateDir, SystemStateDir()) {
		return SystemSocketPath()
	}
	return filepath.Join(stateDir, SocketName)
}

// SocketCandidates lists, in order, where a client without an explicit socket looks for an agent: the
// socket of this user's default state directory, then the system service's socket.
func SocketCandidates() []string {
	var out []string
	for _, p := range []string{DefaultSocketPath(DefaultStateDir()), SystemSocketPath()} {
		dup := false
		for _, q := range out {
			dup = dup || samePath(p, q)
		}
		if !dup {
			out = append(out, p)
		}
	}
	return out
}

// FindSocket returns the first of SocketCandidates that an agent answers on, or, when none does, the
// first candidate and an error wrapping ErrAgentNotRunning.
func FindSocket(ctx context.Context) (string, error) {
	cands := SocketCandidates()
	for _, p := range cands {
		if socketAnswers(ctx, p) {
			return p, nil
		}
	}
	return cands[0], fmt.Errorf("localapi: no agent on %v: %w", cands, ErrAgentNotRunning)
}

func socketAnswers(ctx context.Context, path string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c, err := dialSocket(ctx, path)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func samePath(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && filepath.Clean(aa) == filepath.Clean(bb)
}

// Listen listens on the unix socket at path, replacing a stale socket file that nobody answers on, and
// restricts it (see listen_unix.go / listen_windows.go). It returns ErrAlreadyRunning when an agent
// answers on path.
func Listen(ctx context.Context, path string) (net.Listener, error) {
	if socketAnswers(ctx, path) {
		return nil, fmt.Errorf("localapi: listen %s: %w", path, ErrAlreadyRunning)
	}
	return listenRestricted(path)
}

// prepareSocketFile makes the socket's directory and removes a stale socket file at path (Unix and
// others; a Windows named pipe has no file).
func prepareSocketFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("localapi: listen: %w", err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().IsRegular() || fi.IsDir() {
			return fmt.Errorf("localapi: listen: %s exists and is not a socket", path)
		}
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("localapi: remove stale socket: %w", err)
		}
	}
	return nil
}

// SocketMode is the local socket's permission on Unix: owner and group may connect, nobody else.
const SocketMode os.FileMode = 0o660
