package jobs

import (
	"context"
	"fmt"
	"time"

	"printdock/server/events"
	"printdock/server/store"
)

// recordChange writes job.state_changed for j (in its state before the change; "" for a submission)
// moving to `to`, in the transaction q of the change.
func recordChange(ctx context.Context, q Queries, j store.Job, to State, reason, actor string, at time.Time) error {
	err := events.Record(ctx, q, events.Job(j.PortalID, at, events.JobData{JobID: j.ID, PrinterID: j.PrinterID,
		ClientID: j.ClientID, Title: j.Title, IdempotencyKey: j.IdempotencyKey, From: string(j.State), To: string(to),
		Reason: reason, Actor: actor}))
	if err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	return nil
}

// recordPrinter writes printer.status_changed when a printer appears, changes status or reason, or
// comes or goes (old is the zero Printer for a new one).
func recordPrinter(ctx context.Context, q Queries, old, p store.Printer, at time.Time) error {
	if old.ID != "" && old.Status == p.Status && old.Reason == p.Reason && old.Present == p.Present {
		return nil
	}
	err := events.Record(ctx, q, events.Printer(p.PortalID, at, events.PrinterData{PrinterID: p.ID, ClientID: p.ClientID,
		Name: p.Name, Status: p.Status, Reason: p.Reason, Present: p.Present, PreviousStatus: old.Status}))
	if err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	return nil
}

// recordClient writes client.connected or client.disconnected for one session of c. It is not part of a
// transaction (the session count is one statement); a failure is logged.
func (s *Service) recordClient(ctx context.Context, c store.Client, connected bool) {
	err := events.Record(ctx, s.st, events.Client(c.PortalID, s.now(), connected, events.ClientData{ClientID: c.ID,
		CredentialID: c.CredentialID, Hostname: c.Hostname, AgentVersion: c.AgentVersion}))
	if err != nil {
		s.log.WarnContext(ctx, "record client event", "client_id", c.ID, "err", err)
	}
}
