package store

import (
	"context"
	"time"
)

// JobState is a print job's state. Package jobs owns the state machine (which transitions are legal);
// the store only records states.
type JobState string

// Job states.
const (
	JobQueued    JobState = "queued"
	JobSent      JobState = "sent"
	JobPrinting  JobState = "printing"
	JobDone      JobState = "done"
	JobFailed    JobState = "failed"
	JobCancelled JobState = "cancelled"
	JobExpired   JobState = "expired"
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
	Present     bool // in the agent's latest printer list
	FirstSeenAt time.Time
	UpdatedAt   time.Time
	// ClientOnline is read-only: whether the printer's client has a live session (Sessions > 0).
	ClientOnline bool
}

// Job is one print job. Content is filled only by the methods that say so.
type Job struct {
	ID             string
	PortalID       string
	PrinterID      string
	ClientID       string // the printer's client
	PrinterURI     string // read-only: the printer's URI
	Title          string
	Content        []byte
	Size           int64 // len(Content)
	Copies         int
	IdempotencyKey string // "" for none; unique per portal otherwise
	Fingerprint    string // hash of what the submitter asked for, to compare idempotent retries
	CreatedBy      string
	State          JobState
	Reason         string
	Attempts       int   // deliveries so far
	SentSession    int64 // the client's SessionSeq at the last delivery
	CreatedAt      time.Time
	UpdatedAt      time.Time
	ExpiresAt      time.Time
	SentAt         *time.Time // last delivery
	ReceivedAt     *time.Time // first acknowledgement from the agent
	PrintingAt     *time.Time
	FinishedAt     *time.Time // done, failed, cancelled or expired
}

// JobUpdate changes a job's state, only while it is still in From (ErrConflict otherwise; ErrNotFound
// for an unknown ID). The store sets updated_at to At and the timestamp of the new state: printing_at
// (first time) for JobPrinting, finished_at for done/failed/cancelled/expired.
type JobUpdate struct {
	ID     string
	From   JobState
	To     JobState
	Reason string
	At     time.Time
	// Sent records a delivery: sent_at = At, attempts + 1, sent_session = Session.
	Sent    bool
	Session int64
	// Received records the agent's first acknowledgement: received_at = At unless already set.
	Received bool
}

// JobEvent is one recorded transition (or progress report) of a job.
type JobEvent struct {
	ID     int64
	JobID  string
	At     time.Time
	From   JobState // "" for the submission
	To     JobState
	Reason string
	Actor  string
}

// JobFilter selects jobs for ListJobs.
type JobFilter struct {
	PortalID  string // required unless AllPortals
	PrinterID string
	ClientID  string
	States    []JobState // any of them; all states when empty
	// ExpiresBy, when set, selects jobs with expires_at <= ExpiresBy.
	ExpiresBy time.Time
	// Received, when set, selects jobs whose received_at is (true) or is not (false) set.
	Received    *bool
	AllPortals  bool // internal sweeps only
	OldestFirst bool // by created_at (by expires_at when ExpiresBy is set); newest first otherwise
	Limit       int  // <= 0: 100
}

// PrinterFilter selects printers for ListPrinters.
type PrinterFilter struct {
	PortalID string
	ClientID string // optional
}

// JobStore is the persistence of agents, printers and print jobs. It is part of Store.
type JobStore interface {
	// ConnectClient inserts the client or updates its identity fields (credential, installation,
	// hostname, agent version, OS) and LastSeenAt, keeping FirstSeenAt; it adds one live session,
	// increments SessionSeq and returns the row as stored.
	ConnectClient(ctx context.Context, c Client) (Client, error)
	// DisconnectClient removes one live session (never below zero) and sets LastSeenAt.
	DisconnectClient(ctx context.Context, id string, at time.Time) error
	// ResetClientSessions sets every client's live sessions to zero (a server start).
	ResetClientSessions(ctx context.Context) (int64, error)
	GetClient(ctx context.Context, id string) (Client, error)
	ListClients(ctx context.Context, portalID string) ([]Client, error) // by first seen, then ID

	// UpsertPrinter inserts the printer or updates name, make, model, status, reason, present and
	// updated_at, keeping first_seen_at. ErrConflict when another ID holds (ClientID, URI).
	UpsertPrinter(ctx context.Context, p Printer) error
	GetPrinter(ctx context.Context, id string) (Printer, error)
	ListPrinters(ctx context.Context, f PrinterFilter) ([]Printer, error) // by name, then URI

	// CreateJob stores a job with its content. ErrConflict on a duplicate ID or (portal, idempotency key).
	CreateJob(ctx context.Context, j Job) error
	// GetJob, GetJobByIdempotencyKey and ListJobs return jobs without content; JobContent reads it.
	GetJob(ctx context.Context, id string) (Job, error)
	GetJobByIdempotencyKey(ctx context.Context, portalID, key string) (Job, error)
	JobContent(ctx context.Context, id string) ([]byte, error)
	ListJobs(ctx context.Context, f JobFilter) ([]Job, error)
	UpdateJob(ctx context.Context, u JobUpdate) error
	AppendJobEvent(ctx context.Context, e JobEvent) (int64, error)
	ListJobEvents(ctx context.Context, jobID string) ([]JobEvent, error) // oldest first
	// PendingJobs returns, with content, oldest first, at most limit (<= 0: 100) jobs of the client, for
	// printers that are Present, that are queued, or sent, never received and last sent in a session
	// before session (a SessionSeq).
	PendingJobs(ctx context.Context, clientID string, session int64, limit int) ([]Job, error)
}
