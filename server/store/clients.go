package store

import (
	"context"
	"time"
)

// Client is an agent installation as the server remembers it.
type Client struct {
	ID             string
	PortalID       string
	CredentialID   string // the credential it last connected with (no foreign key: history outlives keys)
	InstallationID string
	Hostname       string
	AgentVersion   string
	OS             string
	FirstSeenAt    time.Time
	LastSeenAt     time.Time
	Sessions       int64 // live sessions now; online when > 0
	SessionSeq     int64 // incremented on every connect
	// Features are those of its latest hello (protocol.Hello.Features), space-separated.
	Features string
}

// Printer is one printer of a client. (ClientID, URI) is unique.
type Printer struct {
	ID          string
	PortalID    string
	ClientID    string
	URI         string // the agent's printer ID: usb://…, tcp://…, sim://…
	Name        string
	Make        string
	Model       string
	Status      string
	Reason      string
	Language    string // the printer's command language as the agent reports it ("" when it does not say)
	DPI         int    // print resolution (0: unknown)
	StatusMode  string // how the agent learns its status: auto, zpl, none ("" when it does not say)
	Present     bool   // in the agent's latest printer list
	FirstSeenAt time.Time
	UpdatedAt   time.Time
	// ClientOnline is read-only: whether the printer's client has a live session (Sessions > 0).
	ClientOnline bool
	// StatusSince is read-only: when Status or Present last changed (UpsertPrinter sets it to UpdatedAt
	// then; printer alerts measure from it).
	StatusSince time.Time
	// ClientSeenAt is read-only: the client's LastSeenAt (its last connect or disconnect; printer alerts
	// count a printer whose client is not online as offline since then).
	ClientSeenAt time.Time
	// AlertRaisedAt is read-only: when the alert sweep raised the printer's alert (SetPrinterAlert); zero
	// while it is not raised.
	AlertRaisedAt time.Time
}

// PrinterFilter selects printers for ListPrinters.
type PrinterFilter struct {
	PortalID string
	ClientID string // optional
	Limit    int    // <= 0: every printer
	After    Key    // continue after the printer with key NameKey(name, id)
}

// ClientStore persists agent installations and their live sessions.
type ClientStore interface {
	// ConnectClient inserts the client or updates its identity fields (credential, installation,
	// hostname, agent version, OS, features) and LastSeenAt, keeping FirstSeenAt; it adds one live session,
	// increments SessionSeq and returns the row as stored.
	ConnectClient(ctx context.Context, c Client) (Client, error)
	// DisconnectClient removes one live session (never below zero) and sets LastSeenAt.
	DisconnectClient(ctx context.Context, id string, at time.Time) error
	// ResetClientSessions sets every client's live sessions to zero (a server start).
	ResetClientSessions(ctx context.Context) (int64, error)
	GetClient(ctx context.Context, id string) (Client, error)
	// ClientSession is GetClient's SessionSeq alone: the number of the client's newest session.
	ClientSession(ctx context.Context, id string) (int64, error)
	ListClients(ctx context.Context, portalID string, p Page) ([]Client, error) // by first seen, then ID (TimeKey)
	// CountClients counts the clients of a portal that authenticate with the credential.
	CountClients(ctx context.Context, portalID, credentialID string) (int, error)
	// OtherLiveInstallation returns a client of the portal's credential with live sessions (on any
	// replica) and another installation ID than installationID, the longest connected first (one secret
	// per installation); ErrNotFound when there is none.
	OtherLiveInstallation(ctx context.Context, portalID, credentialID, installationID string) (Client, error)
}

// PrinterStore persists the printers of agent installations.
type PrinterStore interface {
	// UpsertPrinter inserts the printer or updates name, make, model, status, reason, language, dpi,
	// status mode, present and updated_at, keeping first_seen_at; status_since becomes updated_at when
	// status or present changed. ErrConflict when another ID holds (ClientID, URI).
	UpsertPrinter(ctx context.Context, p Printer) error
	GetPrinter(ctx context.Context, id string) (Printer, error)
	ListPrinters(ctx context.Context, f PrinterFilter) ([]Printer, error) // by name, then ID (NameKey)
	// CountPrinters counts a portal's printers (present or not).
	CountPrinters(ctx context.Context, portalID string) (int, error)
	// AlertCandidates returns, by ID, every printer that may be in alert or has its alert raised: its
	// status is one of alertStates, it is not present, its client is offline, or AlertRaisedAt is set.
	AlertCandidates(ctx context.Context, alertStates []string) ([]Printer, error)
	// SetPrinterAlert raises the printer's alert at `at` when it is not raised, or clears it when at is
	// zero and it is raised, and reports whether it changed: of concurrent callers making the same
	// transition, exactly one sees true (an unknown printer does not change).
	SetPrinterAlert(ctx context.Context, id string, at time.Time) (bool, error)
}
