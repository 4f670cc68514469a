package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"printdock/printer"
	"printdock/server/events"
	"printdock/server/keys"
	"printdock/server/store"
)

// alertTask is the name under which replicas take turns running the printer alert sweep.
const alertTask = "printer-alerts"

// DefaultAlertSweepEvery is how often the printer alert sweep runs unless Config.AlertSweepEvery says
// otherwise; it runs at least every tenth of the smallest portal threshold it saw.
const DefaultAlertSweepEvery = 15 * time.Second

// alertStates are the printer states that need staff (printer.AlertState of a present printer).
var alertStates = func() []string {
	var out []string
	for _, s := range []printer.State{printer.StateReady, printer.StateBusy, printer.StateMediaOut,
		printer.StateHeadOpen, printer.StatePaused, printer.StateRibbonOut, printer.StateError,
		printer.StateOffline, printer.StateUnknown} {
		if printer.AlertState(s, true) {
			out = append(out, string(s))
		}
	}
	return out
}()

// alertThresholds reads a portal's printer alert threshold (keys.Service).
type alertThresholds interface {
	PrinterAlertAfter(ctx context.Context, a keys.Actor) (time.Duration, error)
}

// alertSweep records printer.status_changed with alert true when a printer enters alert (time passing
// past its portal's threshold, printer.Seen.InAlert: a printer whose agent disconnected counts as offline
// since the disconnect) and with alert false when the alert clears. The raised state lives in the store
// (printers.alert_raised_at) and changes by a conditional update in the event's transaction, so each
// transition is recorded once across restarts and replicas.
type alertSweep struct {
	db    store.Store
	th    alertThresholds
	clock func() time.Time
	every time.Duration
	log   *slog.Logger
}

// run sweeps until ctx ends, on one replica at a time (store.Exclusive; the others try to take over
// every minute, like runExpiry).
func (a alertSweep) run(ctx context.Context) {
	ex, ok := a.db.(store.Exclusive)
	if !ok {
		a.loop(ctx)
		return
	}
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		_, err := ex.RunExclusive(ctx, alertTask, func(ctx context.Context) error {
			a.loop(ctx)
			return nil
		})
		if err != nil && ctx.Err() == nil {
			a.log.Warn("printer alerts: take the sweep", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// loop sweeps every a.every (or a tenth of the smallest threshold seen, at least a second) until ctx ends.
func (a alertSweep) loop(ctx context.Context) {
	every := a.every
	if every <= 0 {
		every = DefaultAlertSweepEvery
	}
	for {
		wait := every
		smallest, err := a.sweep(ctx)
		if err != nil && ctx.Err() == nil {
			a.log.Warn("printer alerts: sweep", "err", err)
		}
		if d := max(smallest/10, time.Second); smallest > 0 && d < wait {
			wait = d
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

func (a alertSweep) now() time.Time {
	if a.clock != nil {
		return a.clock()
	}
	return time.Now()
}

// sweep records the alert transitions of the printers that may have one and returns the smallest
// threshold of their portals (0 when there were none); a printer whose transition fails is logged.
func (a alertSweep) sweep(ctx context.Context) (smallest time.Duration, err error) {
	ps, err := a.db.AlertCandidates(ctx, alertStates)
	if err != nil {
		return 0, fmt.Errorf("printer alerts: %w", err)
	}
	now := a.now()
	after := map[string]time.Duration{}
	defer func() { a.log.Debug("printer alerts: swept", "candidates", len(ps)) }()
	for _, p := range ps {
		d, ok := after[p.PortalID]
		if !ok {
			var terr error
			d, terr = a.th.PrinterAlertAfter(ctx, keys.Actor{Principal: keys.Principal{PortalID: p.PortalID}})
			if terr != nil {
				a.log.Error("printer alerts: threshold", "portal_id", p.PortalID, "err", terr)
				d = printer.DefaultAlertAfter
			}
			after[p.PortalID] = d
			if smallest == 0 || d < smallest {
				smallest = d
			}
		}
		if seen(p).InAlert(now, d) == !p.AlertRaisedAt.IsZero() {
			continue
		}
		// A failure is logged and retried at the next sweep; the other printers still sweep.
		if terr := a.db.InTx(ctx, func(tx store.Store) error { return transition(ctx, tx, p.ID, now, d) }); terr != nil && ctx.Err() == nil {
			a.log.Warn("printer alerts: transition", "printer_id", p.ID, "err", terr)
		}
	}
	return smallest, nil
}

// transition re-reads the printer in tx and, when its alert state differs from the raised one, raises
// or clears it and records printer.status_changed with alert.
func transition(ctx context.Context, tx store.Store, id string, now time.Time, after time.Duration) error {
	p, err := tx.GetPrinter(ctx, id)
	if err != nil {
		return err
	}
	alert := seen(p).InAlert(now, after)
	if alert == !p.AlertRaisedAt.IsZero() {
		return nil
	}
	at := time.Time{}
	if alert {
		at = now
	}
	changed, err := tx.SetPrinterAlert(ctx, id, at)
	if err != nil || !changed {
		return err
	}
	return events.Record(ctx, tx, events.Printer(p.PortalID, now, events.PrinterData{PrinterID: p.ID,
		ClientID: p.ClientID, Name: p.Name, Status: p.Status, Reason: p.Reason, Present: p.Present, Alert: &alert}))
}

// seen is what printer alerts know of p.
func seen(p store.Printer) printer.Seen {
	return printer.Seen{State: printer.State(p.Status), Present: p.Present, Since: p.StatusSince,
		AgentOnline: p.ClientOnline, AgentSeen: p.ClientSeenAt}
}
