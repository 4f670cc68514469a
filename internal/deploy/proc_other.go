//go:build !linux

package deploy

import (
	"os"
	"syscall"
)

// terminate asks a process to stop (where there is no SIGTERM to send, Stop waits and then kills).
var terminate = os.Interrupt

// dieWithParent: only Linux can tie a child's life to its parent's.
func dieWithParent() *syscall.SysProcAttr { return nil }
