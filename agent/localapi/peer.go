package localapi

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/user"
	"strconv"
	"strings"
	"sync"
)

// DefaultAdminGroup is the group whose members, besides root and the agent's own user, may sign the
// agent in and out through the local API (Linux).
const DefaultAdminGroup = "printdock-admin"

// Peer is the process on the other end of a local API connection, as the kernel reported it when it
// connected (Linux SO_PEERCRED).
type Peer struct {
	PID int32
	UID uint32
	GID uint32
	// SIDs, on Windows, are the caller's user SID and the SIDs of its token's enabled groups (a UAC
	// filtered token has Administrators deny-only, so not enabled): the rule is windowsAdmin. nil
	// elsewhere.
	SIDs []string
}

// Access decides who may use the local API's administrative routes: login and logout (they replace or
// delete the secret and choose the server) and logs (more detail than the status). Everyone who can
// connect to the socket may use the others (status, watch, printers, jobs, job-preview, job-discard,
// test-print).
//
// On Linux the socket's peer credentials decide: root, the agent's own user and members of AdminGroup
// are administrators. On Windows the named pipe's client token decides (windowsAdmin): LocalSystem,
// elevated Administrators and members of AdminGroup. Where a connection carries no credentials — the
// in-memory listener of an agent running inside the desktop app and other Unix systems — everyone who
// can connect is an administrator, as who can connect is already decided elsewhere.
type Access struct {
	// PeerCred reads the credentials of the process on the other end of c: nil and no error when the
	// connection carries none (see above); an error when it should but they cannot be read (then only
	// the read-only routes are allowed). nil means PeerCred.
	PeerCred func(c net.Conn) (*Peer, error)
	// AdminGroup is the group of administrators besides root and the agent's own user ("" means
	// DefaultAdminGroup, "-" none). A group that does not exist has no members.
	AdminGroup string
	// IsAdmin replaces the decision for a peer with credentials (tests); nil means the rule above.
	IsAdmin func(Peer) bool
}

// connKey is the context key of the *connInfo that Serve's http.Server stashes for every connection.
type connKey struct{}

// connInfo is one connection and, once read, its peer credentials.
type connInfo struct {
	conn net.Conn
	once sync.Once
	peer *Peer
	err  error
}

// ConnContext is an http.Server ConnContext that remembers the connection, so that the Handler can read
// its peer credentials. Serve sets it; a server that serves a Handler without it gives every caller
// full access (as on a connection without credentials).
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, &connInfo{conn: c})
}

// peerOf returns the peer of r's connection via read (once per connection); nil, nil when the
// connection is unknown, in memory (MemListener: this process) or carries no credentials.
func peerOf(r *http.Request, read func(net.Conn) (*Peer, error)) (*Peer, error) {
	ci, _ := r.Context().Value(connKey{}).(*connInfo)
	if ci == nil {
		return nil, nil
	}
	if _, inProcess := ci.conn.(memConn); inProcess {
		return nil, nil
	}
	ci.once.Do(func() { ci.peer, ci.err = read(ci.conn) })
	return ci.peer, ci.err
}

// withDefaults fills in the zero fields.
func (a Access) withDefaults() Access {
	if a.PeerCred == nil {
		a.PeerCred = PeerCred
	}
	if a.AdminGroup == "" {
		a.AdminGroup = DefaultAdminGroup
	}
	if a.IsAdmin == nil {
		group := a.AdminGroup
		a.IsAdmin = func(p Peer) bool {
			if p.SIDs != nil {
				return windowsAdmin(p.SIDs, group, lookupGroupSID)
			}
			return isAdmin(p, os.Geteuid(), group, lookupGroupID, userGroupIDs)
		}
	}
	return a
}

// isAdmin is the rule: root, the user self, or a member of group (primary group of the connecting
// process, or in the user database's group list of its user).
func isAdmin(p Peer, self int, group string, groupID func(name string) (uint32, bool), userGroups func(uid uint32) []uint32) bool {
	if p.UID == 0 || self >= 0 && uint64(p.UID) == uint64(self) {
		return true
	}
	if group == "" || group == "-" {
		return false
	}
	gid, ok := groupID(group)
	if !ok {
		return false
	}
	if p.GID == gid {
		return true
	}
	for _, g := range userGroups(p.UID) {
		if g == gid {
			return true
		}
	}
	return false
}

// Well-known SIDs of the Windows rule.
const (
	SIDSystem         = "S-1-5-18"
	SIDAdministrators = "S-1-5-32-544"
)

// windowsAdmin is the rule on Windows: LocalSystem (the service itself), an elevated Administrator
// (Administrators enabled in the token), or a member of group (resolved to its SID by lookup; "" or
// "-" or an unknown group: nobody). Everyone else who can open the pipe is read-only.
func windowsAdmin(sids []string, group string, lookup func(name string) (string, bool)) bool {
	for _, s := range sids {
		if strings.EqualFold(s, SIDSystem) || strings.EqualFold(s, SIDAdministrators) {
			return true
		}
	}
	if group == "" || group == "-" {
		return false
	}
	gs, ok := lookup(group)
	if !ok {
		return false
	}
	for _, s := range sids {
		if strings.EqualFold(s, gs) {
			return true
		}
	}
	return false
}

func lookupGroupID(name string) (uint32, bool) {
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, false
	}
	id, err := strconv.ParseUint(g.Gid, 10, 32)
	return uint32(id), err == nil
}

func userGroupIDs(uid uint32) []uint32 {
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil {
		return nil
	}
	ids, err := u.GroupIds()
	if err != nil {
		return nil
	}
	out := make([]uint32, 0, len(ids))
	for _, s := range ids {
		if id, err := strconv.ParseUint(s, 10, 32); err == nil {
			out = append(out, uint32(id))
		}
	}
	return out
}
