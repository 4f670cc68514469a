package gui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"printdock/agent/localapi"
)

// A job waiting on its printer has a Discard button that asks the agent to discard it; other jobs
// have none.
func TestJobsDiscardWaitingJob(t *testing.T) {
	now := time.Date(2026, 3, 4, 14, 5, 0, 0, time.Local)
	f := newFake(localapi.Status{State: localapi.StateConnected,
		Printers: []localapi.Printer{{ID: "sim://dock1", Name: "Zebra dock 1", State: "media_out"}}})
	f.jobs = []localapi.Job{
		{ID: "w", PrinterID: "sim://dock1", Title: "Order 1", State: localapi.JobWaiting, Reason: "printer out of media", Updated: now},
		{ID: "d", PrinterID: "sim://dock1", Title: "Order 2", State: "done", Updated: now.Add(-time.Hour)},
	}
	u, a := startUI(t, f, Options{Now: func() time.Time { return now }})
	a.waitFor(t, "status", func() bool { _, ok := u.Status(); return ok })
	u.Show(ScreenJobs)
	a.waitFor(t, "jobs", func() bool { return len(u.jobs.list.Objects) == 2 })
	if hasButton(u.jobs.list.Objects[1], "Discard") {
		t.Fatal("a printed job offers Discard")
	}
	test.Tap(findButton(t, u.jobs.list.Objects[0], "Discard"))
	a.waitFor(t, "the discarded job", func() bool {
		return len(u.jobs.jobs) == 2 && u.jobs.jobs[0].State == localapi.JobCancelled
	})
	f.mu.Lock()
	discards := slices.Clone(f.discards)
	f.mu.Unlock()
	if !slices.Equal(discards, []string{"w"}) {
		t.Fatalf("discards %v", discards)
	}
	if hasButton(u.jobs.list.Objects[0], "Discard") || !strings.Contains(labels(u.jobs.list.Objects[0]), "Discarded") {
		t.Fatalf("row after discard: %q", labels(u.jobs.list.Objects[0]))
	}
}

// The Printers screen shows the printer's language, dpi and status mode.
func TestPrinterShowsLanguageAndStatusMode(t *testing.T) {
	p := localapi.Printer{ID: "tcp://10.0.0.5:9100", Name: "Shelf", State: "unknown", Language: "epl", DPI: 203, StatusMode: "none"}
	f := newFake(localapi.Status{State: localapi.StateConnected, Printers: []localapi.Printer{p}})
	u, a := startUI(t, f, Options{})
	u.Show(ScreenPrinters)
	row := func() *printerRow { return u.printers.rows[p.ID] }
	a.waitFor(t, "the printer row", func() bool { return row() != nil && row().caps.Visible() })
	if got := row().caps.Text; got != "EPL · 203 dpi · status: not asked (mode none)" {
		t.Fatalf("caps %q", got)
	}
	if row().state.Text == "Ready" || strings.Contains(row().advice.Text, "out of labels") {
		t.Fatalf("a printer whose status is not asked shows %q / %q", row().state.Text, row().advice.Text)
	}
}
