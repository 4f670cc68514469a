//go:build windows

package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"

	"printdock/agent/localapi"
)

// ErrUnsafeStateDir is returned when the state directory, agent.json, the state or the spool could
// have been written by a non-administrator (JudgeACL): the agent does not start.
var ErrUnsafeStateDir = errors.New("the printdock state directory is not safe")

// inSystemStateDir reports whether path is in %ProgramData%\printdock (the service's), the only
// place the rules apply: a user's own agent keeps its state in the user's profile.
func inSystemStateDir(path string) bool {
	dir, err1 := filepath.Abs(localapi.SystemStateDir())
	p, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return false
	}
	dir, p = strings.ToLower(filepath.Clean(dir)), strings.ToLower(filepath.Clean(p))
	return p == dir || strings.HasPrefix(p, dir+`\`)
}

// checkConfigFile refuses agent.json in the system state directory unless SYSTEM or Administrators
// own it and no one else may write it.
func checkConfigFile(path string) error {
	if !inSystemStateDir(path) {
		return nil
	}
	v, err := judgePath(path, true)
	if err != nil {
		return err
	}
	switch v.Action {
	case ACLRefuse:
		return fmt.Errorf("agent: %w: %s", ErrUnsafeStateDir, v.Reason)
	case ACLRepair:
		return protectPath(path)
	}
	return nil
}

// secureStateDir checks the system state directory and everything in it at start: repairs what
// only others' read or write rights spoil, refuses where a non-administrator owns something.
func secureStateDir(dir string, log *slog.Logger) error {
	if !inSystemStateDir(dir) {
		return nil
	}
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		isConfig := strings.EqualFold(d.Name(), ConfigFileName)
		v, err := judgePath(path, isConfig)
		if err != nil {
			return err
		}
		switch v.Action {
		case ACLRefuse:
			return fmt.Errorf("agent: %w: %s. Remove it or give it to Administrators (icacls), then start the agent again", ErrUnsafeStateDir, v.Reason)
		case ACLRepair:
			log.Warn("agent: state directory: "+v.Reason+"; restricting it to SYSTEM and Administrators", "path", path)
			if err := protectPath(path); err != nil {
				return err
			}
		}
		return nil
	})
}

// judgePath reads path's owner and DACL and applies JudgeACL.
func judgePath(path string, isConfig bool) (ACLVerdict, error) {
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return ACLVerdict{}, fmt.Errorf("agent: read the security of %s: %w", path, err)
	}
	owner, _, err := sd.Owner()
	if err != nil || owner == nil {
		return ACLVerdict{}, fmt.Errorf("agent: owner of %s: %v", path, err)
	}
	dacl, _, err := sd.DACL()
	if err != nil && !errors.Is(err, windows.ERROR_OBJECT_NOT_FOUND) {
		return ACLVerdict{}, fmt.Errorf("agent: DACL of %s: %w", path, err)
	}
	var aces []ACE
	if dacl != nil {
		aces = []ACE{}
		for i := uint32(0); i < uint32(dacl.AceCount); i++ {
			var a *windows.ACCESS_ALLOWED_ACE
			if err := windows.GetAce(dacl, i, &a); err != nil {
				return ACLVerdict{}, fmt.Errorf("agent: DACL of %s: %w", path, err)
			}
			sid := (*windows.SID)(unsafe.Pointer(&a.SidStart))
			aces = append(aces, ACE{
				Allow:       a.Header.AceType == windows.ACCESS_ALLOWED_ACE_TYPE,
				SID:         sid.String(),
				Mask:        uint32(a.Mask),
				InheritOnly: a.Header.AceFlags&windows.INHERIT_ONLY_ACE != 0,
			})
		}
	}
	return JudgeACL(path, owner.String(), aces, isConfig, selfSID()), nil
}

// selfSID is the SID of this process's user.
func selfSID() string {
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return ""
	}
	return u.User.Sid.String()
}

// protectPath gives path ProtectedDACL.
func protectPath(path string) error {
	sd, err := windows.SecurityDescriptorFromString(ProtectedDACL)
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	if err := windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil); err != nil {
		return fmt.Errorf("agent: restrict %s: %w", path, err)
	}
	return nil
}

// PrepareStateDir creates the system state directory with ProtectedDACL (what the installer does
// through `printdock-agent configure`), or repairs it.
func PrepareStateDir(dir string) error {
	if err := mkdirAll(dir); err != nil {
		return err
	}
	if !inSystemStateDir(dir) {
		return nil
	}
	return protectPath(dir)
}
