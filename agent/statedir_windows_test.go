//go:build windows

package agent

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/windows"

	"printdock/agent/localapi"
	"printdock/internal/testenv"
)

// setDACL gives path the DACL of sddl (protected: nothing inherited).
func setDACL(t *testing.T, path, sddl string) {
	t.Helper()
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		t.Fatal(err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		t.Fatal(err)
	}
	if err := windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil); err != nil {
		t.Fatal(err)
	}
}

// underWine reports whether this runs under Wine, which keeps a file's security as its Unix mode
// bits: the owner and Everyone, nothing else (docs/windows.md).
func underWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}

// TestStateDirACLWindows runs the Windows side of the rules on real security descriptors (also under
// Wine in scripts/test.d/80-wine.sh): an agent.json that Everyone may write is refused by
// LoadFileConfig and at start; a spool Everyone may read is repaired.
func TestStateDirACLWindows(t *testing.T) {
	// Not t.TempDir: Go's RemoveAll fails under Wine 8 (unlinkat: "Invalid function").
	pd, err := os.MkdirTemp("", "printdock-acl-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(pd) })
	t.Setenv("ProgramData", pd)
	dir := localapi.SystemStateDir()
	if err := PrepareStateDir(dir); err != nil {
		t.Fatal(err)
	}
	wine := underWine()
	if v, err := judgePath(dir, false); err != nil {
		t.Fatal(err)
	} else if v.Action != ACLOK && !wine {
		t.Fatalf("a new state directory: %+v, want ok", v)
	}
	logs := &testenv.SyncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))

	cfg := filepath.Join(dir, ConfigFileName)
	if err := os.WriteFile(cfg, []byte(`{"server_url":"https://evil.example"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	setDACL(t, cfg, "D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FA;;;WD)")
	if v, err := judgePath(cfg, true); err != nil || v.Action != ACLRefuse {
		t.Fatalf("agent.json that Everyone may write: %+v %v, want refuse", v, err)
	}
	if _, err := LoadFileConfig(cfg); !errors.Is(err, ErrUnsafeStateDir) {
		t.Fatalf("LoadFileConfig of an Everyone-writable agent.json: %v, want ErrUnsafeStateDir", err)
	}
	if err := secureStateDir(dir, log); !errors.Is(err, ErrUnsafeStateDir) {
		t.Fatalf("secureStateDir with an Everyone-writable agent.json: %v, want ErrUnsafeStateDir", err)
	}
	t.Logf("refused: %v", secureStateDir(dir, log))
	if err := os.Remove(cfg); err != nil {
		t.Fatal(err)
	}

	spool := filepath.Join(dir, "spool.db")
	if err := os.WriteFile(spool, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	setDACL(t, spool, "D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FR;;;WD)")
	if v, _ := judgePath(spool, false); v.Action != ACLRepair {
		t.Fatalf("spool readable by Everyone: %+v, want repair", v)
	}
	if err := secureStateDir(dir, log); err != nil {
		t.Fatalf("secureStateDir: %v", err)
	}
	v, _ := judgePath(spool, false)
	switch {
	case v.Action == ACLOK:
	case wine:
		t.Logf("Wine keeps the mode bits: after the repair %+v (a DACL of SYSTEM and Administrators only is not representable)", v)
	default:
		t.Fatalf("spool after the repair: %+v; log: %s", v, logs)
	}
}
