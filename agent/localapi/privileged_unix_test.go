//go:build unix

package localapi

import "testing"

// The packaged service runs as its own account, not root: it must still use the system state directory,
// configuration file and socket (where `sudo printdock-agent status` and the desktop app look).
func TestPrivileged(t *testing.T) {
	for _, tt := range []struct {
		euid int
		user string
		want bool
	}{
		{0, "root", true},
		{0, "", true},
		{998, ServiceAccount, true},
		{1000, "alice", false},
		{1000, "", false},
	} {
		if got := privileged(tt.euid, tt.user); got != tt.want {
			t.Errorf("privileged(%d, %q) = %v, want %v", tt.euid, tt.user, got, tt.want)
		}
	}
}
