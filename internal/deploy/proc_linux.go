package deploy

import "syscall"

// terminate asks a process to stop.
var terminate = syscall.SIGTERM

// dieWithParent kills the child when this process dies.
func dieWithParent() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
