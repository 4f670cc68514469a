//go:build linux

package localapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// helperSocketEnv names the socket the helper process calls (TestHelperCallRoutes).
const helperSocketEnv = "PRINTDOCK_LOCALAPI_HELPER_SOCKET"

// TestHelperCallRoutes is not a test: TestForeignUserRealCredentials runs the test binary as another
// user with this test selected, and it prints every route's error code as JSON.
func TestHelperCallRoutes(t *testing.T) {
	sock := os.Getenv(helperSocketEnv)
	if sock == "" {
		t.Skip("helper process for TestForeignUserRealCredentials")
	}
	c := NewClient(sock)
	defer c.Close()
	b, _ := json.Marshal(callRoutes(t, c))
	fmt.Printf("CODES %s\n", b)
}

// A real process of another user, connected through the real socket: SO_PEERCRED reports its uid and
// only the read-only routes answer it.
func TestForeignUserRealCredentials(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("connecting as another user needs root (the kernel's peer credentials cannot be faked)")
	}
	const nobody = 65534
	// The test binary, somewhere the other user may execute it.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(shortTempDir(t), "localapi.test")
	copyFile(t, exe, bin, 0o755)
	if err := os.Chmod(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	// The socket, in a directory the other user may enter, given to its group (as the system agent gives
	// the socket to group printdock).
	sock := serveSocketAccess(t, newStub(), Access{AdminGroup: "-"})
	if err := os.Chmod(filepath.Dir(sock), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(sock, 0, nobody); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(bin, "-test.run=^TestHelperCallRoutes$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperSocketEnv+"="+sock)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper as uid %d: %v\n%s", nobody, err, out)
	}
	var got map[string]string
	var line []byte
	for l := range bytes.Lines(out) {
		if rest, ok := bytes.CutPrefix(l, []byte("CODES ")); ok {
			line = bytes.TrimSpace(rest)
		}
	}
	if err := json.Unmarshal(line, &got); err != nil {
		t.Fatalf("helper output: %v\n%s", err, out)
	}
	if !sameCodes(got, readOnly) {
		t.Fatalf("uid %d: codes %v, want %v", nobody, got, readOnly)
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
