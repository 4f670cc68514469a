//go:build windows

package localapi

import (
	"fmt"
	"net"
	"unsafe"

	"golang.org/x/sys/windows"
)

// PeerCred reads who is on the other end of a named pipe connection: the client's process
// (GetNamedPipeClientProcessId), its user SID and the SIDs of its token's enabled groups. Other
// connections (the in-memory listener) carry none: nil, nil.
func PeerCred(c net.Conn) (*Peer, error) {
	pc, ok := c.(*pipeConn)
	if !ok || !pc.server {
		return nil, nil
	}
	var pid uint32
	if err := windows.GetNamedPipeClientProcessId(pc.handle(), &pid); err != nil {
		return nil, fmt.Errorf("localapi: pipe client process: %w", err)
	}
	proc, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return nil, fmt.Errorf("localapi: open pipe client process %d: %w", pid, err)
	}
	defer windows.CloseHandle(proc)
	var tok windows.Token
	if err := windows.OpenProcessToken(proc, windows.TOKEN_QUERY, &tok); err != nil {
		return nil, fmt.Errorf("localapi: pipe client token: %w", err)
	}
	defer tok.Close()
	sids, err := tokenSIDs(tok)
	if err != nil {
		return nil, fmt.Errorf("localapi: pipe client token: %w", err)
	}
	return &Peer{PID: int32(pid), SIDs: sids}, nil
}

// tokenSIDs is the token's user SID and the SIDs of its enabled groups.
func tokenSIDs(tok windows.Token) ([]string, error) {
	u, err := tok.GetTokenUser()
	if err != nil {
		return nil, err
	}
	sids := []string{u.User.Sid.String()}
	g, err := tok.GetTokenGroups()
	if err != nil {
		return nil, err
	}
	groups := unsafe.Slice(&g.Groups[0], g.GroupCount)
	for _, x := range groups {
		if x.Attributes&windows.SE_GROUP_ENABLED != 0 && x.Attributes&windows.SE_GROUP_USE_FOR_DENY_ONLY == 0 {
			sids = append(sids, x.Sid.String())
		}
	}
	return sids, nil
}

// lookupGroupSID resolves a local group name (printdock-admin) to its SID.
func lookupGroupSID(name string) (string, bool) {
	sid, _, _, err := windows.LookupSID("", name)
	if err != nil {
		return "", false
	}
	return sid.String(), true
}
