package agent

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestActAsStateOwner: a root process becomes the owner of a state directory owned by a service
// account (here nobody), so the files it writes there belong to that account. Runs in a child process:
// the change of user cannot be undone.
func TestActAsStateOwner(t *testing.T) {
	if os.Getenv("PRINTDOCK_STATEOWNER_CHILD") != "" {
		dir := os.Getenv("PRINTDOCK_STATEOWNER_CHILD")
		if err := ActAsStateOwner(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "state.json"), []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Stdout.WriteString("uid=" + strconv.Itoa(os.Geteuid()) + "\n")
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (the test command runs as root)")
	}
	const nobody = 65534
	parent, err := os.MkdirTemp("", "stateowner") // t.TempDir's parent is 0700 root: nobody could not enter
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(parent, "state")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestActAsStateOwner$")
	cmd.Env = append(os.Environ(), "PRINTDOCK_STATEOWNER_CHILD="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "uid=65534") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	fi, err := os.Stat(filepath.Join(dir, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != nobody {
		t.Errorf("state.json written after the switch is owned by uid %d, want %d", st.Uid, nobody)
	}

	// A group-writable state directory is refused rather than trusted.
	if err := os.Chmod(dir, 0o770); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command(os.Args[0], "-test.run", "^TestActAsStateOwner$")
	cmd.Env = append(os.Environ(), "PRINTDOCK_STATEOWNER_CHILD="+dir)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "writable by group") {
		t.Fatalf("a group-writable state directory was accepted: %v\n%s", err, out)
	}
}
