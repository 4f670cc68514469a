package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// ActAsStateOwner makes a root process continue as the owner of the state directory dir when that is
// another user: the packaged service runs as its own account (printdock-agent), and `sudo
// printdock-agent login` or `status` with the service stopped must read and write the state, the
// spool and the file keystore as that account — files root created there would be unreadable to the
// service, and the keystore refuses a secret file owned by anyone but its reader. It does nothing when
// the process is not root, when dir does not exist yet, or when root owns it. It must run before the
// process opens anything in dir.
func ActAsStateOwner(dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("agent: state directory: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Uid == 0 {
		return nil
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("agent: state directory %s is writable by group or others (mode %v); refusing to use it", dir, fi.Mode().Perm())
	}
	// Group first: after Setuid, Setgid is no longer permitted. Supplementary groups go too, so the
	// process has exactly the service account's primary group (printdock: the USB printers).
	if err := syscall.Setgroups([]int{int(st.Gid)}); err != nil {
		return fmt.Errorf("agent: act as the state directory's owner: setgroups: %w", err)
	}
	if err := syscall.Setgid(int(st.Gid)); err != nil {
		return fmt.Errorf("agent: act as the state directory's owner: setgid: %w", err)
	}
	if err := syscall.Setuid(int(st.Uid)); err != nil {
		return fmt.Errorf("agent: act as the state directory's owner: setuid: %w", err)
	}
	return nil
}
