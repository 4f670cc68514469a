package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"printdock/agent/localapi"
)

// TestStatusShowsInUseRefusal: `printdock-agent status` of an agent refused under "one installation per
// secret" prints the reason and the server's message naming the computer that already uses the secret.
func TestStatusShowsInUseRefusal(t *testing.T) {
	msg := "this secret is already used on PC-DOCK-3; ask your admin for a new one"
	at := time.Date(2026, 12, 6, 9, 30, 0, 0, time.UTC)
	var out bytes.Buffer
	err := printStatus(&out, &globals{stateDir: t.TempDir()}, localapi.Status{State: localapi.StateLoggedOut,
		LogoutReason: "in_use", LogoutMessage: msg, LogoutAt: &at, LastError: msg}, false)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(out.String()), " ") // tabwriter's padding aside
	for _, want := range []string{"State: logged out by the server (in_use)", "Logged out: in_use at ", "Server says: " + msg} {
		if !strings.Contains(text, want) {
			t.Errorf("status lacks %q:\n%s", want, out.String())
		}
	}
}
