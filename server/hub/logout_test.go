package hub_test

import (
	"testing"

	"github.com/coder/websocket"

	"printdock/protocol"
	"printdock/server/hub"
	"printdock/server/keys"
)

// TestMassLogoutEachGetsLogoutThenClose: when one event logs out many sessions at once (they write their
// logouts before any close handshake), every session still gets its logout with the reason, then close
// 4001.
func TestMassLogoutEachGetsLogoutThenClose(t *testing.T) {
	e := newEnv(t, hub.Options{}, nil)
	const n = 6
	var conns []*websocket.Conn
	var cred string
	for range n {
		c, w := e.connect(t)
		conns, cred = append(conns, c), w.KeyID
	}
	if got := e.hub.Apply(keys.Event{CredentialIDs: []string{cred}, Reason: protocol.ReasonRotated}); got != n {
		t.Fatalf("Apply logged out %d sessions, want %d", got, n)
	}
	for i, c := range conns {
		m, err := read(ctx10(t), c)
		if lo, ok := m.(protocol.Logout); err != nil || !ok || lo.Reason != protocol.ReasonRotated {
			t.Fatalf("session %d: %#v %v, want logout %q", i, m, err, protocol.ReasonRotated)
		}
		if _, err := read(ctx10(t), c); websocket.CloseStatus(err) != protocol.CloseLoggedOut {
			t.Fatalf("session %d after the logout: %v, want close %d", i, err, protocol.CloseLoggedOut)
		}
	}
}
