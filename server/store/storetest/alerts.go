package storetest

import (
	"slices"
	"testing"
	"time"

	"printdock/server/store"
)

// testPrinterAlerts: AlertCandidates finds the printers that may be in alert or have it raised, and
// SetPrinterAlert raises and clears the raised state once per transition.
func testPrinterAlerts(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	ps := printers(t, s, "p1 c1 prA usb://A", "p1 c1 prB usb://B", "p1 c2 prC usb://C", "p2 c3 prD usb://D")
	ids := func() []string {
		t.Helper()
		list, err := s.AlertCandidates(ctx, []string{"media_out", "head_open"})
		must(t, err)
		var out []string
		for _, p := range list {
			out = append(out, p.ID)
		}
		return out
	}
	if got := ids(); len(got) != 0 {
		t.Errorf("candidates of ready printers of online clients = %v", got)
	}
	media := ps["prA"]
	media.Status, media.UpdatedAt = "media_out", t0.Add(time.Minute)
	must(t, s.UpsertPrinter(ctx, media))
	gone := ps["prD"]
	gone.Present, gone.UpdatedAt = false, t0.Add(time.Minute)
	must(t, s.UpsertPrinter(ctx, gone))
	must(t, s.DisconnectClient(ctx, "c2", t0.Add(time.Minute)))
	if got := ids(); !slices.Equal(got, []string{"prA", "prC", "prD"}) {
		t.Errorf("candidates = %v, want prA (media out), prC (client offline), prD (not present)", got)
	}

	at := t0.Add(time.Hour)
	for i, want := range []bool{true, false} { // a second raise changes nothing
		changed, err := s.SetPrinterAlert(ctx, "prB", at)
		if err != nil || changed != want {
			t.Errorf("raise %d: %t, %v; want %t", i, changed, err, want)
		}
	}
	if p, err := s.GetPrinter(ctx, "prB"); err != nil || !p.AlertRaisedAt.Equal(at) {
		t.Errorf("raised at = %v, %v; want %v", p.AlertRaisedAt, err, at)
	}
	if got := ids(); !slices.Contains(got, "prB") {
		t.Errorf("candidates %v lack prB (alert raised)", got)
	}
	ready := ps["prB"]
	ready.UpdatedAt = t0.Add(2 * time.Hour)
	must(t, s.UpsertPrinter(ctx, ready)) // an agent's report keeps the raised state
	if p, _ := s.GetPrinter(ctx, "prB"); !p.AlertRaisedAt.Equal(at) {
		t.Errorf("raised at after an upsert = %v", p.AlertRaisedAt)
	}
	for i, want := range []bool{true, false} {
		changed, err := s.SetPrinterAlert(ctx, "prB", time.Time{})
		if err != nil || changed != want {
			t.Errorf("clear %d: %t, %v; want %t", i, changed, err, want)
		}
	}
	if p, _ := s.GetPrinter(ctx, "prB"); !p.AlertRaisedAt.IsZero() {
		t.Errorf("raised at after clearing = %v", p.AlertRaisedAt)
	}
	if changed, err := s.SetPrinterAlert(ctx, "nope", at); err != nil || changed {
		t.Errorf("raise an unknown printer: %t, %v", changed, err)
	}
}
