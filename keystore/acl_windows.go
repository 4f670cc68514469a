//go:build windows

package keystore

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/windows"
)

// On Windows, mode bits mean nothing: the secret file and a state directory the file backend creates get
// an explicit protected DACL (no inherited entries: %ProgramData% would give BUILTIN\Users read access)
// granting full control to SYSTEM, the Administrators and the current user (when that is not SYSTEM).
// Both are created with that DACL in one call, so there is no moment at which another user could open
// them.

// protectedSecurity returns security attributes whose descriptor holds that DACL; inherit makes its entries
// apply to a directory's new files and subdirectories.
func protectedSecurity(inherit bool) (*windows.SecurityAttributes, error) {
	flags := ""
	if inherit {
		flags = "OICI"
	}
	sddl := "D:P(A;" + flags + ";FA;;;SY)(A;" + flags + ";FA;;;BA)"
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return nil, fmt.Errorf("current user: %w", err)
	}
	if !u.User.Sid.IsWellKnown(windows.WinLocalSystemSid) {
		sddl += "(A;" + flags + ";FA;;;" + u.User.Sid.String() + ")"
	}
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		return nil, fmt.Errorf("security descriptor: %w", err)
	}
	sa := &windows.SecurityAttributes{SecurityDescriptor: sd}
	sa.Length = uint32(unsafe.Sizeof(*sa))
	return sa, nil
}

// makeStateDir creates dir with the protected DACL when it is missing (its parents are created as
// usual). An existing directory's DACL is left alone: other parts of the agent keep files there (the
// local API socket) that the directory's owner or installer decides the access to.
func makeStateDir(dir string) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), dirMode); err != nil {
		return err
	}
	sa, err := protectedSecurity(true)
	if err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if err := windows.CreateDirectory(p, sa); err != nil && !errors.Is(err, windows.ERROR_ALREADY_EXISTS) {
		return &os.PathError{Op: "mkdir", Path: dir, Err: err}
	}
	return nil
}

// createSecretTemp creates a new file dir/prefix<random>suffix with the protected DACL, opened for
// writing and shared with no one until it is closed.
func createSecretTemp(dir, prefix, suffix string) (*os.File, error) {
	sa, err := protectedSecurity(false)
	if err != nil {
		return nil, err
	}
	for range 100 {
		var r [8]byte
		if _, err := rand.Read(r[:]); err != nil {
			return nil, err
		}
		name := filepath.Join(dir, prefix+hex.EncodeToString(r[:])+suffix)
		p, err := windows.UTF16PtrFromString(name)
		if err != nil {
			return nil, err
		}
		h, err := windows.CreateFile(p, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, sa,
			windows.CREATE_NEW, windows.FILE_ATTRIBUTE_NORMAL, 0)
		if errors.Is(err, windows.ERROR_FILE_EXISTS) || errors.Is(err, windows.ERROR_ALREADY_EXISTS) {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "create", Path: name, Err: err}
		}
		return os.NewFile(uintptr(h), name), nil
	}
	return nil, fmt.Errorf("create a temporary file in %s: too many name collisions", dir)
}

// tightenSecretFile gives a secret file written without the protected DACL (by an earlier version, or
// by hand) that DACL. Get calls it best effort.
func tightenSecretFile(path string) error {
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return err
	}
	if ctl, _, err := sd.Control(); err == nil && ctl&windows.SE_DACL_PROTECTED != 0 {
		return nil
	}
	sa, err := protectedSecurity(false)
	if err != nil {
		return err
	}
	dacl, _, err := sa.SecurityDescriptor.DACL()
	if err != nil {
		return err
	}
	return windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil)
}
