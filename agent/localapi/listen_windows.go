//go:build windows

package localapi

import (
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

// SystemSocketPath is the service's local API: the named pipe SystemPipe.
func SystemSocketPath() string { return SystemPipe }

// listenRestricted listens on the named pipe of path (pipe_windows.go), whose ACL admits SYSTEM,
// Administrators and local authenticated users (PipeSDDL); PeerCred decides who may sign in or out.
func listenRestricted(path string) (net.Listener, error) {
	return listenPipe(pipeName(path))
}
