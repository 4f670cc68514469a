// Package events owns printdock-server's event log: the event types integrations receive (by webhook,
// package webhooks, or the event stream GET /api/v1/events), their JSON data, recording them durably in
// the caller's store transaction (Record), reading them back (Read), and waking readers when new events
// commit (Bus). An event's data never holds a secret. The store (store.EventStore) keeps the log; IDs
// increase in commit order, so a reader resumes after the last ID it saw.
package events

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"printdock/server/store"
)

// Event types.
const (
	JobStateChanged      = "job.state_changed"
	ClientConnected      = "client.connected"
	ClientDisconnected   = "client.disconnected"
	PrinterStatusChanged = "printer.status_changed"
	KeyRotated           = "key.rotated"
	KeyRevoked           = "key.revoked"
	// KeyExpiring is announced by key expiry (KeyExpiringData), which records it with Record.
	KeyExpiring = "key.expiring"
	// KeySecondInstallation: a print client secret connected from a second installation while the first
	// is live (refused when the portal's one-installation policy is on).
	KeySecondInstallation = "key.second_installation"
)

// Types lists every event type.
var Types = []string{JobStateChanged, ClientConnected, ClientDisconnected, PrinterStatusChanged, KeyRotated,
	KeyRevoked, KeyExpiring, KeySecondInstallation}

// Known reports whether t is an event type.
func Known(t string) bool { return slices.Contains(Types, t) }

// Event is one event as webhooks and the event stream send it (Standard Webhooks' payload shape: type,
// timestamp, data; plus the log's id).
type Event struct {
	ID   int64           `json:"id"`
	Type string          `json:"type"`
	At   time.Time       `json:"timestamp"`
	Data json.RawMessage `json:"data"`
	// Internal to the server, not sent.
	PortalID  string `json:"-"`
	PrinterID string `json:"-"`
}

// Of converts a stored event.
func Of(e store.Event) Event {
	return Event{ID: e.ID, Type: e.Type, At: e.At, Data: json.RawMessage(e.Data), PortalID: e.PortalID, PrinterID: e.PrinterID}
}

// JobData is the data of job.state_changed.
type JobData struct {
	JobID          string `json:"job_id"`
	PrinterID      string `json:"printer_id"`
	ClientID       string `json:"client_id"`
	Title          string `json:"title"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	From           string `json:"from"` // "" for the submission
	To             string `json:"to"`
	Reason         string `json:"reason,omitempty"`
	Actor          string `json:"actor"`
}

// ClientData is the data of client.connected and client.disconnected.
type ClientData struct {
	ClientID     string `json:"client_id"`
	CredentialID string `json:"credential_id,omitempty"`
	Hostname     string `json:"hostname,omitempty"`
	AgentVersion string `json:"agent_version,omitempty"`
}

// PrinterData is the data of printer.status_changed.
type PrinterData struct {
	PrinterID      string `json:"printer_id"`
	ClientID       string `json:"client_id"`
	Name           string `json:"name"`
	Status         string `json:"status"`
	Reason         string `json:"reason,omitempty"`
	Present        bool   `json:"present"`
	PreviousStatus string `json:"previous_status,omitempty"`
	// Alert is set only on the events the server's alert sweep records: true when the printer has needed
	// staff (out of media, head open, offline, its agent disconnected…) for the portal's alert threshold,
	// false when that alert clears. Status changes the agent reports leave it out (absent, not false):
	// GET /api/v1/printers/{id} says whether the printer is in alert now.
	Alert *bool `json:"alert,omitempty"`
}

// KeyData is the data of the key.* events: which credential, never its secret.
type KeyData struct {
	CredentialID string     `json:"credential_id,omitempty"`
	UserID       string     `json:"user_id,omitempty"` // api_key: the key's user
	Kind         string     `json:"kind"`              // print_client_secret, shared_secret, api_key, oauth_client
	Actor        string     `json:"actor,omitempty"`
	ExpiresAt    *time.Time `json:"expires_at,omitempty"` // key.expiring
	// key.second_installation: the hostname already using the secret, the newcomer's, and whether the
	// newcomer was refused.
	UsedOn  string `json:"used_on,omitempty"`
	NewHost string `json:"new_host,omitempty"`
	Refused *bool  `json:"refused,omitempty"`
}

// New is an event to record.
type New struct {
	PortalID  string
	Type      string
	At        time.Time
	Subject   string // orders webhook deliveries: a job, client, printer or credential ID
	PrinterID string // for the event stream's printer filter; "" for none
	Data      any    // one of the *Data types, marshalled to JSON
}

// Job returns job.state_changed for d.
func Job(portalID string, at time.Time, d JobData) New {
	return New{PortalID: portalID, Type: JobStateChanged, At: at, Subject: d.JobID, PrinterID: d.PrinterID, Data: d}
}

// Client returns client.connected (connected) or client.disconnected for d.
func Client(portalID string, at time.Time, connected bool, d ClientData) New {
	t := ClientDisconnected
	if connected {
		t = ClientConnected
	}
	return New{PortalID: portalID, Type: t, At: at, Subject: d.ClientID, Data: d}
}

// Printer returns printer.status_changed for d.
func Printer(portalID string, at time.Time, d PrinterData) New {
	return New{PortalID: portalID, Type: PrinterStatusChanged, At: at, Subject: d.PrinterID, PrinterID: d.PrinterID, Data: d}
}

// Key returns a key event (KeyRotated, KeyRevoked, KeyExpiring) for d.
func Key(portalID, typ string, at time.Time, d KeyData) New {
	subject := d.CredentialID
	if subject == "" {
		subject = d.Kind + ":" + d.UserID
	}
	return New{PortalID: portalID, Type: typ, At: at, Subject: subject, Data: d}
}

// Appender is the store method Record needs: a store.Store, usually the transaction of the change.
type Appender interface {
	AppendEvent(ctx context.Context, e store.Event) (int64, error)
}

// Record appends e to the log through q (and so queues its webhook deliveries). Called inside the
// transaction of the change it reports, it commits or rolls back with it. It wakes the Buses: through a
// store notification sent at commit when q is a store.Publisher (PostgreSQL, every replica), in-process
// otherwise (see Bus).
func Record(ctx context.Context, q Appender, e New) error {
	if e.PortalID == "" || !Known(e.Type) {
		return fmt.Errorf("events: record %q: portal and a known type are required", e.Type)
	}
	data, err := json.Marshal(e.Data)
	if err != nil {
		return fmt.Errorf("events: record %s: %w", e.Type, err)
	}
	_, err = q.AppendEvent(ctx, store.Event{PortalID: e.PortalID, Type: e.Type, At: e.At.UTC().Truncate(time.Microsecond),
		Subject: e.Subject, PrinterID: e.PrinterID, Data: string(data)})
	if err != nil {
		return fmt.Errorf("events: record %s: %w", e.Type, err)
	}
	if p, ok := q.(store.Publisher); ok {
		if err := p.Notify(ctx, Channel, e.PortalID); err != nil {
			return fmt.Errorf("events: record %s: notify: %w", e.Type, err)
		}
		return nil
	}
	local.broadcast()
	return nil
}
