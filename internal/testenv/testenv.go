// Package testenv decides, for tests that need a real part of the machine (a Secret Service, PostgreSQL,
// Chromium, QEMU, an X server), whether its absence skips the test or fails it.
//
// The project's test command sets PRINTDOCK_REQUIRE_REAL=1, so on CI a missing real part is a failure,
// never a silent skip. A developer running plain `go test ./...` gets a skip that says what is missing.
package testenv

import (
	"os"
	"testing"
)

// Required reports whether the environment demands every real part to be present.
func Required() bool { return os.Getenv("PRINTDOCK_REQUIRE_REAL") == "1" }

// RequireReal skips t (or fails it, when Required) because the real part what is unavailable.
// It does nothing when err is nil.
func RequireReal(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if Required() {
		t.Fatalf("%s is required (PRINTDOCK_REQUIRE_REAL=1) but unavailable: %v", what, err)
	}
	t.Skipf("%s unavailable, skipping: %v", what, err)
}
