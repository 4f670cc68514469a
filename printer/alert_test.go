package printer

import (
	"testing"
	"time"
)

func TestInAlert(t *testing.T) {
	now := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	for _, tt := range []struct {
		name    string
		state   State
		present bool
		since   time.Time
		after   time.Duration
		want    bool
	}{
		{"ready long", StateReady, true, ago(time.Hour), time.Minute, false},
		{"busy long", StateBusy, true, ago(time.Hour), time.Minute, false},
		{"unknown long", StateUnknown, true, ago(time.Hour), time.Minute, false},
		{"media out past threshold", StateMediaOut, true, ago(12 * time.Minute), 5 * time.Minute, true},
		{"media out at threshold", StateMediaOut, true, ago(5 * time.Minute), 5 * time.Minute, true},
		{"media out before threshold", StateMediaOut, true, ago(4 * time.Minute), 5 * time.Minute, false},
		{"head open", StateHeadOpen, true, ago(time.Hour), time.Minute, true},
		{"offline", StateOffline, true, ago(time.Hour), time.Minute, true},
		{"error", StateError, true, ago(time.Hour), time.Minute, true},
		{"paused", StatePaused, true, ago(time.Hour), time.Minute, true},
		{"ribbon out", StateRibbonOut, true, ago(time.Hour), time.Minute, true},
		{"gone while ready", StateReady, false, ago(time.Hour), time.Minute, true},
		{"gone recently", StateReady, false, ago(time.Second), time.Minute, false},
		{"default threshold not reached", StateMediaOut, true, ago(4 * time.Minute), 0, false},
		{"default threshold reached", StateMediaOut, true, ago(DefaultAlertAfter), 0, true},
		{"since unknown", StateMediaOut, true, time.Time{}, time.Minute, false},
		{"since in the future", StateMediaOut, true, now.Add(time.Minute), time.Minute, false},
	} {
		if got := InAlert(tt.state, tt.present, tt.since, now, tt.after); got != tt.want {
			t.Errorf("%s: InAlert = %t, want %t", tt.name, got, tt.want)
		}
	}
}

// TestSeenInAlert: a printer whose agent is not connected counts as offline since the agent's disconnect,
// or since its own state's start when it already needed staff; a reconnected agent's printer counts as
// it reports.
func TestSeenInAlert(t *testing.T) {
	now := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	for _, tt := range []struct {
		name      string
		seen      Seen
		wantSince time.Time
		want      bool
	}{
		{"online ready", Seen{StateReady, true, ago(time.Hour), true, ago(2 * time.Hour)}, ago(time.Hour), false},
		{"online media out", Seen{StateMediaOut, true, ago(time.Hour), true, ago(2 * time.Hour)}, ago(time.Hour), true},
		{"agent gone long ago", Seen{StateReady, true, ago(time.Hour), false, ago(10 * time.Minute)}, ago(10 * time.Minute), true},
		{"agent gone recently", Seen{StateReady, true, ago(time.Hour), false, ago(time.Minute)}, ago(time.Minute), false},
		{"agent gone at threshold", Seen{StateBusy, true, ago(time.Hour), false, ago(5 * time.Minute)}, ago(5 * time.Minute), true},
		{"media out before agent went", Seen{StateMediaOut, true, ago(6 * time.Minute), false, ago(time.Minute)}, ago(6 * time.Minute), true},
		{"unplugged before agent went", Seen{StateReady, false, ago(time.Hour), false, ago(time.Minute)}, ago(time.Hour), true},
		{"status after disconnect (clock skew)", Seen{StateMediaOut, true, ago(time.Minute), false, ago(2 * time.Minute)}, ago(2 * time.Minute), false},
		{"disconnect not known", Seen{StateReady, true, ago(time.Hour), false, time.Time{}}, time.Time{}, false},
	} {
		e := tt.seen.Effective()
		if e.Present != (tt.seen.AgentOnline && tt.seen.Present) || !e.Since.Equal(tt.wantSince) {
			t.Errorf("%s: Effective = present %t since %v, want present %t since %v", tt.name, e.Present, e.Since,
				tt.seen.AgentOnline && tt.seen.Present, tt.wantSince)
		}
		if got := tt.seen.InAlert(now, 5*time.Minute); got != tt.want {
			t.Errorf("%s: InAlert = %t, want %t", tt.name, got, tt.want)
		}
	}
}
