package portal

// Printer alerts on the portal's home pages (the keys page for admins, the profile for users): the
// portal's printers that have been out of media, head open, offline… for longer than the portal's
// threshold (printer.Seen.InAlert, keys.Settings.PrinterAlertAfter); a printer whose agent is not
// connected counts as offline since the agent's disconnect.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"printdock/printer"
	"printdock/server/jobs"
	"printdock/server/store"
)

// printerAlert is one line of the alert list: "Zebra Dock 3 — out of media for 12 min".
type printerAlert struct {
	PrinterID string
	Name      string
	What      string // "out of media", "not connected"…
	For       string // "12 min"
}

// alertsOf returns the printers of ps in alert at now with threshold after, longest first.
func alertsOf(ps []jobs.Printer, after time.Duration, now time.Time) []printerAlert {
	type row struct {
		a     printerAlert
		since time.Time
	}
	var rows []row
	for _, p := range ps {
		seen := p.Seen()
		if !seen.InAlert(now, after) {
			continue
		}
		since := seen.Effective().Since
		rows = append(rows, row{printerAlert{PrinterID: p.ID, Name: p.Name, What: alertWhat(seen),
			For: alertFor(now.Sub(since))}, since})
	}
	slices.SortStableFunc(rows, func(x, y row) int { return x.since.Compare(y.since) })
	out := make([]printerAlert, len(rows))
	for i, r := range rows {
		out[i] = r.a
	}
	return out
}

// alertWhat says what is wrong with a printer seen as s in words staff use.
func alertWhat(s printer.Seen) string {
	if !s.AgentOnline {
		return "agent not connected"
	}
	if !s.Present {
		return "not connected to its computer"
	}
	switch s.State {
	case printer.StateMediaOut:
		return "out of media"
	case printer.StateHeadOpen:
		return "head open"
	case printer.StateRibbonOut:
		return "out of ribbon"
	case printer.StateOffline:
		return "offline"
	}
	return strings.ReplaceAll(string(s.State), "_", " ") // paused, error
}

// alertFor is a duration as the alert list shows it: minutes, or hours and minutes.
func alertFor(d time.Duration) string {
	m := int(d / time.Minute)
	if m < 60 {
		return fmt.Sprintf("%d min", m)
	}
	return fmt.Sprintf("%d h %d min", m/60, m%60)
}

// printerAlerts lists the actor's portal's printers in alert; errors are logged and show no alerts
// (the page itself still works).
func (p *portal) printerAlerts(ctx context.Context, c *reqCtx) []printerAlert {
	if p.opts.Jobs == nil {
		return nil
	}
	after, err := p.svc.PrinterAlertAfter(ctx, c.actor)
	if err != nil {
		p.log.Error("portal: printer alert threshold", "err", err)
		return nil
	}
	ps, err := p.opts.Jobs.ListPrinters(ctx, c.actor.PortalID, store.Page{})
	if err != nil {
		p.log.Error("portal: printers for alerts", "err", err)
		return nil
	}
	return alertsOf(ps, after, p.opts.Clock())
}
