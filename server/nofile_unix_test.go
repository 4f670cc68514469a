//go:build linux || darwin

package server_test

import (
	"fmt"
	"syscall"
)

// setNOFILE raises this process's soft limit on open files to at least want, and the hard limit too
// when it is lower (which needs CAP_SYS_RESOURCE).
func setNOFILE(want uint64) error {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return fmt.Errorf("getrlimit: %w", err)
	}
	if rl.Cur >= want {
		return nil
	}
	rl.Cur, rl.Max = want, max(rl.Max, want)
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
}
