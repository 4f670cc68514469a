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
		got := alertSince(ps.status.State, ps.since, tt.now)
		if (got != nil) != tt.want || got != nil && !got.Equal(t0.Add(time.Minute)) {
			t.Errorf("at %v: alert since %v, want alert %t since %v", tt.now.Sub(t0), got, tt.want, t0.Add(time.Minute))
		}
	}
	s.set("sim://a", nil, printer.Status{State: printer.StateReady, CheckedAt: t0.Add(2 * time.Hour)})
	if got := alertSince(ps.status.State, ps.since, t0.Add(3*time.Hour)); got != nil {
		t.Errorf("recovered printer in alert since %v", got)
	}
}
