package servertest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// captureTB is a testing.TB whose failures and logs are recorded instead of reported, and whose
// cleanups run when the test says.
type captureTB struct {
	testing.TB
	mu       sync.Mutex
	failed   bool
	out      []string
	cleanups []func()
}

func (c *captureTB) Helper()          {}
func (c *captureTB) Cleanup(f func()) { c.cleanups = append(c.cleanups, f) }
func (c *captureTB) Failed() bool     { c.mu.Lock(); defer c.mu.Unlock(); return c.failed }
func (c *captureTB) Fail()            { c.mu.Lock(); c.failed = true; c.mu.Unlock() }
func (c *captureTB) Errorf(format string, args ...any) {
	c.Fail()
	c.Logf(format, args...)
}
func (c *captureTB) Error(args ...any) { c.Fail(); c.Log(args...) }
func (c *captureTB) Logf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out = append(c.out, fmt.Sprintf(format, args...))
}
func (c *captureTB) Log(args ...any) { c.Logf("%s", fmt.Sprint(args...)) }

func (c *captureTB) runCleanups() {
	for i := len(c.cleanups) - 1; i >= 0; i-- {
		c.cleanups[i]()
	}
}

// TestFailureOutputRedacted: when a server's test fails — here because a secret leaked into its log —
// the log tail servertest prints is redacted: the leak report must not leak the secret itself.
func TestFailureOutputRedacted(t *testing.T) {
	c := &captureTB{TB: t}
	s := New(c, Options{})
	k := s.CreatePrintClient(c, "leaked")
	fmt.Fprintf(s.Recorder().LogWriter(), "level=INFO msg=oops secret=%s password=%s key=%s\n",
		k.Secret, s.AdminPassword, s.AdminKey)
	c.runCleanups()
	if !c.Failed() {
		t.Fatal("the planted leak was not reported")
	}
	out := strings.Join(c.out, "\n")
	for what, secret := range map[string]string{"print client secret": k.Secret, "admin password": s.AdminPassword,
		"admin key": s.AdminKey} {
		if strings.Contains(out, secret) {
			t.Errorf("the failure output holds the %s", what)
		}
	}
	if !strings.Contains(out, "secret=pdc_[redacted]") || !strings.Contains(out, "password=[redacted]") {
		t.Errorf("the failure output does not show the redacted log line:\n%s", out)
	}
}
