//go:build !windows

package server

import (
	"os"
	"syscall"
	"testing"
	"time"
)

func TestReloadSignalDeliversSIGHUP(t *testing.T) {
	ch, unhook := reloadSignal()
	defer unhook()
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("SIGHUP did not arrive as a reload request")
	}
}
