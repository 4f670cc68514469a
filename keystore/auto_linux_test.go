package keystore

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"printdock/internal/testenv"
)

const markerEnv = "PRINTDOCK_KEYSTORE_TEST_MARKER"

// markedProcesses lists the processes (other than this one and those in except) whose environment
// carries marker: anything this test started, directly or through dbus-launch / D-Bus activation, since
// children inherit the environment. Processes of other test runs on the machine carry no marker.
func markedProcesses(t *testing.T, marker string, except ...int) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatalf("scan /proc: %v", err)
	}
	needle := []byte(markerEnv + "=" + marker + "\x00")
	var found []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() || containsInt(except, pid) {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !bytes.Contains(env, needle) {
			continue
		}
		comm, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		found = append(found, fmt.Sprintf("%d (%s)", pid, strings.TrimSpace(string(comm))))
	}
	return found
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// startPrivateBus starts a session dbus-daemon (standard session configuration, so gnome-keyring is
// D-Bus-activatable on it) with no Secret Service running, and returns its address and pid.
func startPrivateBus(t *testing.T) (string, int) {
	t.Helper()
	path, err := exec.LookPath("dbus-daemon")
	testenv.RequireReal(t, "dbus-daemon (apt package dbus)", err)
	sock := filepath.Join(t.TempDir(), "bus")
	cmd := exec.Command(path, "--session", "--nofork", "--nopidfile", "--print-address=1",
		"--address=unix:path="+sock)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dbus-daemon: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case addr := <-line:
		if addr == "" {
			t.Fatal("dbus-daemon printed no address")
		}
		return addr, cmd.Process.Pid
	case <-time.After(30 * time.Second):
		t.Fatal("dbus-daemon did not print its address within 30s")
	}
	return "", 0
}

// TestOpenAutoWithoutKeyring: with no usable Secret Service, auto picks the file backend, "keyring" mode
// fails with ErrKeyringUnavailable, and neither leaves a process behind (no dbus-launch, dbus-daemon or
// gnome-keyring-daemon started on our behalf).
func TestOpenAutoWithoutKeyring(t *testing.T) {
	ctx := context.Background()
	marker := testAccount(t)
	t.Setenv(markerEnv, marker)
	userBus := fmt.Sprintf("/run/user/%d/bus", os.Getuid())

	tests := []struct {
		name        string
		busAddress  func(t *testing.T) (addr string, ownPID int)
		tryKeyring  bool // also check mode "keyring" (would activate gnome-keyring on a real bus)
		needNoUsers bool // only meaningful when /run/user/<uid>/bus does not exist
	}{
		{"address points nowhere", func(t *testing.T) (string, int) {
			return "unix:path=" + filepath.Join(t.TempDir(), "no-bus-here"), 0
		}, true, false},
		{"address unset", func(*testing.T) (string, int) { return "", 0 }, true, true},
		{"address autolaunch", func(*testing.T) (string, int) { return "autolaunch:", 0 }, true, true},
		{"bus without Secret Service", startPrivateBus, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.needNoUsers {
				if _, err := os.Stat(userBus); err == nil {
					t.Skipf("%s exists: a session bus is discoverable without DBUS_SESSION_BUS_ADDRESS", userBus)
				}
			}
			addr, ownPID := tt.busAddress(t)
			t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
			if before := markedProcesses(t, marker, ownPID); len(before) != 0 {
				t.Fatalf("processes carrying the test marker before Open: %v", before)
			}

			dir := t.TempDir()
			account := testAccount(t)
			s, err := Open(ctx, ModeAuto, dir, WithAccount(account), WithProbeTimeout(20*time.Second))
			if err != nil {
				t.Fatalf("Open auto: %v", err)
			}
			if got := s.Backend(); got != BackendFile {
				t.Errorf("auto Backend() = %q, want %q", got, BackendFile)
			}
			if err := ProbeKeyring(ctx, account); !errors.Is(err, ErrKeyringUnavailable) {
				t.Errorf("ProbeKeyring = %v, want ErrKeyringUnavailable", err)
			} else {
				t.Logf("probe: %v", err)
			}
			if tt.tryKeyring {
				if _, err := Open(ctx, ModeKeyring, dir, WithAccount(account)); !errors.Is(err, ErrKeyringUnavailable) {
					t.Errorf("Open keyring = %v, want ErrKeyringUnavailable", err)
				}
			}
			if stray := markedProcesses(t, marker, ownPID); len(stray) != 0 {
				t.Errorf("processes left behind by the keyring probe: %v", stray)
			}
		})
	}
}
