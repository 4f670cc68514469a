//go:build windows

package keystore

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/windows"
)

// dacl returns path's DACL in SDDL.
func dacl(t *testing.T, path string) string {
	t.Helper()
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		t.Fatalf("read the DACL of %s: %v", path, err)
	}
	return sd.String()
}

// checkProtected fails unless path's DACL is protected (inherits nothing) and grants only SYSTEM, the
// Administrators and the current user.
func checkProtected(t *testing.T, path string) {
	t.Helper()
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		t.Fatal(err)
	}
	me := u.User.Sid.String()
	d := dacl(t, path)
	if !strings.HasPrefix(d, "D:P") {
		t.Errorf("%s: DACL %s is not protected", path, d)
	}
	for _, ace := range strings.Split(strings.TrimPrefix(d, "D:P"), ")") {
		if ace == "" {
			continue
		}
		f := strings.Split(strings.TrimPrefix(ace, "("), ";")
		if len(f) != 6 || f[0] != "A" {
			t.Errorf("%s: unexpected entry %q in %s", path, ace, d)
			continue
		}
		if sid := f[5]; sid != "SY" && sid != "BA" && sid != me {
			t.Errorf("%s: DACL %s grants %s", path, d, sid)
		}
	}
}

// The file backend's file, and a state directory it creates, must not inherit %ProgramData%'s read
// access for BUILTIN\Users: both get a protected DACL.
func TestFileDACL(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state")
	f, err := NewFile(dir, DefaultAccount)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Set(ctx, "pdc_secret"); err != nil {
		t.Fatal(err)
	}
	checkProtected(t, dir)
	checkProtected(t, f.Path())

	// A file written without that DACL (an earlier version) gets it on the next Get.
	old := filepath.Join(t.TempDir(), "old")
	if err := os.MkdirAll(old, 0o700); err != nil {
		t.Fatal(err)
	}
	of, err := NewFile(old, DefaultAccount)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(of.Path(), []byte("pdc_old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(dacl(t, of.Path()), "D:P") {
		t.Fatal("a plain file already has a protected DACL: the test proves nothing")
	}
	if got, err := of.Get(ctx); err != nil || got != "pdc_old" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	checkProtected(t, of.Path())
}
