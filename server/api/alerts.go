package api

import (
	"context"
	"time"

	"printdock/printer"
	"printdock/server/jobs"
	"printdock/server/keys"
)

// PrinterJSON is a printer as GET /api/v1/printers answers it: with whether it is in alert.
type PrinterJSON struct {
	jobs.Printer
	// Alert: out of media, head open, offline… for at least the portal's printer alert threshold
	// (printer.Seen.InAlert: a printer whose agent is not connected counts as offline since its
	// disconnect), as the portal's home page shows it.
	Alert bool `json:"alert"`
}

// printerAlert returns the conversion of the actor's portal's printers to PrinterJSON. When the threshold
// cannot be read the default is used (the list still answers).
func (a *API) printerAlert(ctx context.Context, act keys.Actor) func(jobs.Printer) PrinterJSON {
	after, err := a.keys.PrinterAlertAfter(ctx, act)
	if err != nil {
		a.log.Error("api: printer alert threshold", "err", err)
		after = printer.DefaultAlertAfter
	}
	now := time.Now()
	if a.clock != nil {
		now = a.clock()
	}
	return func(p jobs.Printer) PrinterJSON {
		return PrinterJSON{Printer: p, Alert: p.Seen().InAlert(now, after)}
	}
}
