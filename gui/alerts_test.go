package gui

import (
	"testing"
	"time"

	"printdock/agent/localapi"
)

// TestPrinterAlertShown: a printer the agent reports in alert gets an alert line on its row and in the
// status screen's banner; the line goes away when the agent no longer reports the alert.
func TestPrinterAlertShown(t *testing.T) {
	now := time.Date(2026, 12, 6, 14, 5, 0, 0, time.Local)
	since := now.Add(-12 * time.Minute)
	p := localapi.Printer{ID: "sim://dock3", Name: "Zebra Dock 3", State: "media_out", AlertSince: &since}
	f := newFake(localapi.Status{State: localapi.StateConnected, Printers: []localapi.Printer{p}})
	u, a := startUI(t, f, Options{Now: func() time.Time { return now }})
	u.Show(ScreenPrinters)
	row := func() *printerRow { return u.printers.rows[p.ID] }
	a.waitFor(t, "the alert line", func() bool {
		return row() != nil && row().alert.Visible() && row().alert.Text == "Needs attention for 12 min"
	})
	want := "Zebra Dock 3 — out of labels (media out): needs attention for 12 min"
	a.waitFor(t, "the status banner", func() bool { return u.status.alerts.Visible() && u.status.alerts.Text == want })

	p.State, p.AlertSince = "ready", nil
	f.Push(localapi.Status{State: localapi.StateConnected, Printers: []localapi.Printer{p}})
	a.waitFor(t, "the alert cleared", func() bool { return !row().alert.Visible() && !u.status.alerts.Visible() })
}
