//go:build unix

package localapi

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/user"
	"strconv"
	"sync"
)

// ServiceAccount is the packaged service's own account (printdock-agent.service: User=printdock-agent).
const ServiceAccount = "printdock-agent"

// Privileged reports whether this process is the system agent, or acts for it: root, or the service's
// own account. Either uses the system state directory, configuration file and socket; any other user
// gets their own.
func Privileged() bool { return privileged(os.Geteuid(), currentUsername()) }

func privileged(euid int, username string) bool { return euid == 0 || username == ServiceAccount }

// currentUsername is the name of the process's user ("" when it cannot be found), looked up once.
var currentUsername = sync.OnceValue(func() string {
	u, err := user.Current()
	if err != nil {
		return ""
	}
	return u.Username
})

// SystemStateDir is the system agent's state directory: $STATE_DIRECTORY (set by systemd from
// StateDirectory=printdock) or /var/lib/printdock.
func SystemStateDir() string {
	if d := os.Getenv("STATE_DIRECTORY"); d != "" {
		return d
	}
	return "/var/lib/printdock"
}

// SystemSocketPath is the system agent's socket: $RUNTIME_DIRECTORY/agent.sock (systemd's
// RuntimeDirectory=printdock) or /run/printdock/agent.sock.
func SystemSocketPath() string {
	if d := os.Getenv("RUNTIME_DIRECTORY"); d != "" {
		return d + "/" + SocketName
	}
	return "/run/printdock/" + SocketName
}

// listenRestricted listens on path and sets mode 0660; when run as root and the group GroupName
// exists, the socket's group becomes GroupName so that its members (the desktop app's users) may
// connect. Connecting to a unix socket needs write permission, so until the chmod below the socket
// (created under the umask, at most 0777 &^ umask) is not more open than the final mode for a
// umask of 022 or stricter.
func listenRestricted(path string) (net.Listener, error) {
	if err := prepareSocketFile(path); err != nil {
		return nil, err
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("localapi: listen: %w", err)
	}
	if ul, ok := ln.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(true)
	}
	if err := os.Chmod(path, SocketMode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("localapi: chmod socket: %w", err)
	}
	if os.Geteuid() == 0 {
		if g, err := user.LookupGroup(GroupName); err == nil {
			if gid, err := strconv.Atoi(g.Gid); err == nil {
				if err := os.Chown(path, 0, gid); err != nil {
					ln.Close()
					return nil, fmt.Errorf("localapi: chown socket: %w", err)
				}
			}
		}
	}
	return ln, nil
}

func dialSocket(ctx context.Context, path string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "unix", path)
}
