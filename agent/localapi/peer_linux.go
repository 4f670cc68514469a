//go:build linux

package localapi

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// PeerCred reads the credentials of the process on the other end of a unix socket connection
// (SO_PEERCRED: its PID, UID and GID when it connected). Other connections (the in-memory listener)
// carry none: nil, nil.
func PeerCred(c net.Conn) (*Peer, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return nil, nil
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("localapi: peer credentials: %w", err)
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return nil, fmt.Errorf("localapi: peer credentials: %w", err)
	}
	if cerr != nil {
		return nil, fmt.Errorf("localapi: peer credentials: %w", cerr)
	}
	return &Peer{PID: cred.Pid, UID: cred.Uid, GID: cred.Gid}, nil
}
