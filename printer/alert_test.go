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
