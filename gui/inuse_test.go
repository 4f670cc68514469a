package gui

import (
	"testing"
	"time"

	"printdock/agent/localapi"
)

// TestRefusedInUseShowsMessage: an agent refused under "one installation per secret" shows the server's
// message, naming the computer that already uses the secret, in the status banner and a notification.
func TestRefusedInUseShowsMessage(t *testing.T) {
	at := time.Date(2026, 12, 6, 9, 30, 0, 0, time.Local)
	f := newFake(localapi.Status{State: localapi.StateConnecting, KeyKind: "print_client", KeyDesc: "Dock 3"})
	u, a := startUI(t, f, Options{})
	msg := "this secret is already used on PC-DOCK-3; ask your admin for a new one"
	f.Push(localapi.Status{State: localapi.StateLoggedOut, LogoutReason: "in_use", LogoutMessage: msg, LogoutAt: &at,
		KeyKind: "print_client", KeyDesc: "Dock 3", LastError: msg})
	want := "The server refused this computer at 09:30: " + msg
	a.waitFor(t, "the banner", func() bool { return u.status.banner.Visible() && u.status.bannerMsg.Text == want })
	if notes := a.notifications(); len(notes) != 1 || notes[0].Content != want {
		t.Errorf("notifications = %+v, want one saying %q", notes, want)
	}
}
