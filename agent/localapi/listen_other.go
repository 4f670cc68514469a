//go:build !unix && !windows

package localapi

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
)

// Privileged is always false on platforms the agent does not support as a service.
func Privileged() bool { return false }

// SystemStateDir is a directory under the temporary directory on unsupported platforms.
func SystemStateDir() string { return filepath.Join(os.TempDir(), "printdock") }

// SystemSocketPath is the socket in SystemStateDir.
func SystemSocketPath() string { return filepath.Join(SystemStateDir(), SocketName) }

func listenRestricted(string) (net.Listener, error) {
	return nil, errors.New("localapi: unix sockets are not supported on this platform")
}

func dialSocket(context.Context, string) (net.Conn, error) {
	return nil, errors.New("localapi: unix sockets are not supported on this platform")
}
