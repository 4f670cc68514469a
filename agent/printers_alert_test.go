package agent

import (
	"log/slog"
	"testing"
	"time"

	"printdock/printer"
)

// TestPrinterAlertSince: the agent measures a printer's alert from when its state last changed, with the
// default threshold, and a change of reason alone does not restart it.
func TestPrinterAlertSince(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	s := &printerSet{log: slog.New(slog.DiscardHandler), st: map[string]*printerState{"sim://a": {}}}
	s.set("sim://a", nil, printer.Status{State: printer.StateReady, CheckedAt: t0})
	s.set("sim://a", nil, printer.Status{State: printer.StateMediaOut, CheckedAt: t0.Add(time.Minute)})
	s.set("sim://a", nil, printer.Status{State: printer.StateMediaOut, Reason: "still out", CheckedAt: t0.Add(3 * time.Minute)})
	ps := s.st["sim://a"]
	for _, tt := range []struct {
		now  time.Time
		want bool
	}{
		{t0.Add(5 * time.Minute), false},
		{t0.Add(6 * time.Minute), true},
		{t0.Add(time.Hour), true},
	} {
		got := alertSince(ps.status.State, ps.since, tt.now, 0)
		if (got != nil) != tt.want || got != nil && !got.Equal(t0.Add(time.Minute)) {
			t.Errorf("at %v: alert since %v, want alert %t since %v", tt.now.Sub(t0), got, tt.want, t0.Add(time.Minute))
		}
	}
	// The portal's threshold from the welcome (12 min) replaces the default.
	if got := alertSince(ps.status.State, ps.since, t0.Add(7*time.Minute), 12*time.Minute); got != nil {
		t.Errorf("alert after 6 min with a 12 min threshold: since %v", got)
	}
	if got := alertSince(ps.status.State, ps.since, t0.Add(14*time.Minute), 12*time.Minute); got == nil {
		t.Error("no alert after 13 min with a 12 min threshold")
	}
	s.set("sim://a", nil, printer.Status{State: printer.StateReady, CheckedAt: t0.Add(2 * time.Hour)})
	if got := alertSince(ps.status.State, ps.since, t0.Add(3*time.Hour), 0); got != nil {
		t.Errorf("recovered printer in alert since %v", got)
	}
}
