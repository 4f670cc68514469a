//go:build !linux && !windows

package localapi

import "net"

// PeerCred returns no credentials outside Linux: on Windows who may connect is decided by the ACL of
// the socket's directory, and on other Unix systems by the socket's mode and group; everyone who can
// connect may use every route there.
func PeerCred(net.Conn) (*Peer, error) { return nil, nil }
