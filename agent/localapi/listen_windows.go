//go:build windows

package localapi

import (
	"fmt"
	"net"
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// Privileged reports whether this process runs elevated (or as a service account).
func Privileged() bool { return windows.GetCurrentProcessToken().IsElevated() }

// SystemStateDir is the service's state directory: %ProgramData%\printdock.
func SystemStateDir() string {
	pd := os.Getenv("ProgramData")
	if pd == "" {
		pd = `C:\ProgramData`
	}
	return filepath.Join(pd, "printdock")
}

// SystemSocketPath is the service's AF_UNIX socket: %ProgramData%\printdock\agent.sock.
func SystemSocketPath() string { return filepath.Join(SystemStateDir(), SocketName) }

// listenRestricted listens on an AF_UNIX socket. Windows has no mode bits: who may connect is decided
// by the ACL of the state directory (the installer restricts %ProgramData%\printdock).
func listenRestricted(path string) (net.Listener, error) {
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("localapi: listen: %w", err)
	}
	if ul, ok := ln.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(true)
	}
	return ln, nil
}
