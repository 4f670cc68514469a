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

// Terminal reports whether s is final (done, failed, cancelled, expired): the job has its finished_at
// and never changes state again.
func (s JobState) Terminal() bool {
	switch s {
	case JobDone, JobFailed, JobCancelled, JobExpired:
		return true
	}
	return false
}

// Job is one print job. Content is filled only by the methods that say so.
type Job struct {
	ID         string
	PortalID   string
	PrinterID  string
	ClientID   string // the printer's client
	PrinterURI string // read-only: the printer's URI
	Title      string
	Content    []byte
	// Preview is the PNG of a label rendered from a PDF or PNG submission (write-only: CreateJob stores
	// it when set; JobPreview reads it).
	Preview        []byte
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
	// CancelRequestedAt is when a user asked to cancel the job after it was sent (its agent decides
	// whether it can), by CancelRequestedBy; nil otherwise. Such a job is never delivered again.
	CancelRequestedAt *time.Time
	CancelRequestedBy string
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
	// CancelBy, when set, records a cancel request by that actor: cancel_requested_at = At,
	// cancel_requested_by = CancelBy.
	CancelBy string
}

// JobAck is a run of an agent's statuses for one job that AckJob applies at once: received (when
// Received), then printing (when Printing), then done (when To is done).
type JobAck struct {
	ID, ClientID string
	From         JobState // the job's state before the run: sent, or printing (a done alone)
	To           JobState // printing or done
	Received     bool     // the run starts with the agent's receipt: the job must never have been received
	Printing     bool     // the run goes through printing: printing_at = At unless set
	At           time.Time
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
	Received *bool
	// CancelRequested, when set, selects jobs whose cancel_requested_at is (true) or is not (false) set.
	CancelRequested *bool
	// IdempotencyKey, when set, selects the job submitted with that key.
	IdempotencyKey string
	// CreatedAfter, when set, selects jobs created strictly after it.
	CreatedAfter time.Time
	AllPortals   bool // internal sweeps only
	OldestFirst  bool // by created_at (by expires_at when ExpiresBy is set); newest first otherwise
	Limit        int  // <= 0: 100
	// After continues a list after the job with key TimeKey(created_at, id) (ignored with ExpiresBy).
	After Key
}

// JobStore persists print jobs and their events.
type JobStore interface {
	// CreateJob stores a job with its content. ErrConflict on a duplicate ID or (portal, idempotency key).
	CreateJob(ctx context.Context, j Job) error
	// GetJob, GetJobByIdempotencyKey and ListJobs return jobs without content; JobContent reads it.
	GetJob(ctx context.Context, id string) (Job, error)
	GetJobByIdempotencyKey(ctx context.Context, portalID, key string) (Job, error)
	JobContent(ctx context.Context, id string) ([]byte, error)
	// JobPreview returns the stored preview of a rendered label; ErrNotFound when the job has none (raw
	// content, or retention dropped it).
	JobPreview(ctx context.Context, id string) ([]byte, error)
	ListJobs(ctx context.Context, f JobFilter) ([]Job, error) // keyset-paginated on TimeKey(created_at, id)
	UpdateJob(ctx context.Context, u JobUpdate) error
	// SendQueuedJob records a delivery of job id at `at` in one statement, if the job is queued, not asked
	// to be cancelled and not expired at `at`: state sent, reason cleared, updated_at and sent_at `at`,
	// attempts + 1, sent_session its client's SessionSeq. It returns the job's ID, PortalID, PrinterID,
	// ClientID, Title, IdempotencyKey, ExpiresAt, Attempts and SentSession as they are now (the other fields unset).
	// ErrConflict when the job is not such a job, or does not exist: the caller reads it to say why.
	SendQueuedJob(ctx context.Context, id string, at time.Time) (Job, error)
	// AckJob applies a run of the client's statuses for one job (see JobAck) in one statement, if the job
	// is the client's, in a.From, not asked to be cancelled and, when a.Received, never received: state
	// a.To, reason cleared, updated_at `at`, received_at `at` unless set, printing_at `at` unless set when
	// the run goes through printing, finished_at `at` when a.To is final. It returns the job's ID,
	// PortalID, PrinterID, ClientID, Title and IdempotencyKey (the other fields unset); ErrConflict when
	// the job is not such a job, or does not exist: nothing is written, and the caller reads it to see
	// what to do.
	AckJob(ctx context.Context, a JobAck) (Job, error)
	// AppendJobEvent records e and returns its ID (0 inside a SQLite write transaction, which writes the
	// row at commit).
	AppendJobEvent(ctx context.Context, e JobEvent) (int64, error)
	ListJobEvents(ctx context.Context, jobID string, p Page) ([]JobEvent, error) // oldest first (key: Key{Seq: id})
	// PendingJobs returns, with content, oldest first, at most limit (<= 0: 100) jobs of the client, for
	// printers that are Present, that are queued, or sent, never received, last sent in a session before
	// session (a SessionSeq) and not asked to be cancelled.
	PendingJobs(ctx context.Context, clientID string, session int64, limit int) ([]Job, error)
}
