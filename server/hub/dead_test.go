package hub_test

import (
	"testing"
	"time"

	"printdock/internal/testenv"
	"printdock/server/hub"
)

// A peer that goes silent after welcome (a link cut without a close: it neither writes nor reads) is
// dropped once it was silent for MissedHeartbeats intervals, without waiting for a close handshake it
// will never answer (the chaos suite's link cut found the session kept ~2 intervals and 5 s too long).
func TestSilentPeerFreedOnTheDeadline(t *testing.T) {
	const hb = 300 * time.Millisecond
	e := newEnv(t, hub.Options{Heartbeat: hb}, nil)
	_, _ = e.connect(t) // then silence: no reads, no writes
	welcomed := time.Now()
	if e.hub.Count() != 1 {
		t.Fatalf("%d sessions after welcome, want 1", e.hub.Count())
	}
	testenv.WaitFor(t, "the silent session to be freed", func() bool { return e.hub.Count() == 0 })
	// The deadline is MissedHeartbeats intervals after the hello; a close handshake would add 5 s.
	if took, limit := time.Since(welcomed), hub.MissedHeartbeats*hb+2*time.Second; took > limit {
		t.Fatalf("the silent session was freed after %s, want within %s", took.Round(time.Millisecond), limit)
	}
}
