package agent

import (
	"fmt"
	"os"
	"strings"
)

// The rules that keep %ProgramData%\printdock safe on Windows, as a pure function over an object's
// owner and ACEs, so that they are tested on every platform (aclrules_test.go). The Windows side
// (statedir_windows.go) reads the owner and DACL of the state directory, agent.json, the state and
// the spool at every start, applies the verdict, and repairs with ProtectedDACL.

// Well-known SIDs the rules trust.
const (
	sidSystem         = "S-1-5-18"
	sidAdministrators = "S-1-5-32-544"
	sidTrustedInst    = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"
)

// ProtectedDACL is what the agent and the installer (printdock-agent configure) give the state
// directory and what the agent creates in it: SYSTEM and Administrators full control, inherited by
// files and subdirectories, nothing inherited from %ProgramData% (whose Users may read and create).
const ProtectedDACL = "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"

// ACE is one access control entry of a DACL.
type ACE struct {
	Allow       bool   // an access-allowed ACE (deny ACEs only take rights away)
	SID         string // the trustee
	Mask        uint32 // access rights
	InheritOnly bool   // applies to children only, not to the object itself
}

// Rights that let a trustee change a file or directory (or what it holds, or its ACL).
const (
	rightWriteData    = 0x00000002 // FILE_WRITE_DATA, FILE_ADD_FILE
	rightAppendData   = 0x00000004 // FILE_APPEND_DATA, FILE_ADD_SUBDIRECTORY
	rightWriteEA      = 0x00000010
	rightDeleteChild  = 0x00000040
	rightWriteAttrs   = 0x00000100
	rightDelete       = 0x00010000
	rightWriteDAC     = 0x00040000
	rightWriteOwner   = 0x00080000
	rightGenericAll   = 0x10000000
	rightGenericWrite = 0x40000000
	rightGenericRead  = 0x80000000
	rightReadData     = 0x00000001 // FILE_READ_DATA, FILE_LIST_DIRECTORY
	writeRights       = rightWriteData | rightAppendData | rightWriteEA | rightDeleteChild | rightWriteAttrs | rightDelete | rightWriteDAC | rightWriteOwner | rightGenericAll | rightGenericWrite
	readRights        = rightReadData | rightGenericRead | rightGenericAll
)

// trustedSID reports whether sid is an administrator of the machine (or the agent itself, self).
func trustedSID(sid, self string) bool {
	switch strings.ToUpper(sid) {
	case sidSystem, sidAdministrators, strings.ToUpper(sidTrustedInst):
		return true
	}
	return self != "" && strings.EqualFold(sid, self)
}

// ACLAction is what the agent does about one object of its state.
type ACLAction int

const (
	ACLOK     ACLAction = iota // owner and DACL as they should be
	ACLRepair                  // owned by an administrator, but others may read or write: set ProtectedDACL
	ACLRefuse                  // a non-administrator owns it, or could have written agent.json: do not start
)

func (a ACLAction) String() string {
	return [...]string{"ok", "repair", "refuse"}[a]
}

// ACLVerdict is JudgeACL's answer, with the reason in plain words.
type ACLVerdict struct {
	Action ACLAction
	Reason string
}

// JudgeACL decides about one object: path (for the message), its owner SID, its DACL (nil: a NULL
// DACL, everyone full control) and whether it is agent.json, whose content steers where the secret
// goes. self is the agent's own SID (LocalSystem, or another service account), trusted like SYSTEM.
//
//   - The owner must be SYSTEM, Administrators, TrustedInstaller or the agent: else refuse, since a
//     non-administrator could have planted it (and may change its DACL back at any time).
//   - agent.json that a non-administrator may write: refuse (its server_url or ca_file could already be
//     the attacker's); the administrator fixes it and reruns `printdock-agent configure`.
//   - Anything else that others may write or read (the directory, state, spool, logs): repair.
func JudgeACL(path, owner string, dacl []ACE, isConfig bool, self string) ACLVerdict {
	if !trustedSID(owner, self) {
		return ACLVerdict{ACLRefuse, fmt.Sprintf("%s is owned by %s, not by SYSTEM or Administrators: a non-administrator may have created it", path, owner)}
	}
	if dacl == nil {
		if isConfig {
			return ACLVerdict{ACLRefuse, fmt.Sprintf("%s has no DACL (everyone may change it)", path)}
		}
		return ACLVerdict{ACLRepair, fmt.Sprintf("%s has no DACL (everyone may change it)", path)}
	}
	var writers, readers []string
	for _, a := range dacl {
		if !a.Allow || a.InheritOnly || trustedSID(a.SID, self) {
			continue
		}
		switch {
		case a.Mask&writeRights != 0:
			writers = append(writers, a.SID)
		case a.Mask&readRights != 0:
			readers = append(readers, a.SID)
		}
	}
	switch {
	case len(writers) > 0 && isConfig:
		return ACLVerdict{ACLRefuse, fmt.Sprintf("%s may be changed by %s (not administrators): it is not read", path, strings.Join(writers, ", "))}
	case len(writers) > 0:
		return ACLVerdict{ACLRepair, fmt.Sprintf("%s may be changed by %s", path, strings.Join(writers, ", "))}
	case len(readers) > 0:
		return ACLVerdict{ACLRepair, fmt.Sprintf("%s may be read by %s", path, strings.Join(readers, ", "))}
	}
	return ACLVerdict{ACLOK, ""}
}

func mkdirAll(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("agent: state dir: %w", err)
	}
	return nil
}
