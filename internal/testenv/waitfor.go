package testenv

import (
	"testing"
	"time"
)

// WaitTimeout bounds every WaitFor: long enough for a loaded CI machine, short enough that a hung
// condition fails the test instead of the whole run.
const WaitTimeout = 15 * time.Second

// WaitFor polls cond until it holds, failing t (naming what it waited for) after WaitTimeout. Tests use
// it instead of sleeping for a fixed time.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(WaitTimeout)
	for wait := time.Millisecond; !cond(); wait = min(2*wait, 25*time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", WaitTimeout, what)
		}
		time.Sleep(wait)
	}
}
