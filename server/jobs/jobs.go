// Package jobs owns printdock-server's print jobs and the registry of agents and their printers: the
// job state machine (queued → sent → printing → done | failed | cancelled | expired, every transition
// timestamped and recorded with a reason), submission with per-portal idempotency keys, cancellation,
// expiry, and the delivery API the websocket hub calls — which jobs to send to a client, marking them
// sent, applying the agent's job_status acknowledgements, and a notification when a client has new work.
//
// The hub owns connections; this package owns what to send and what happened to it. Everything is
// persisted through its Store before a method returns. docs/jobs.md describes the semantics.
package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"printdock/protocol"
	"printdock/server/keys"
	"printdock/server/store"
)

// Errors. They are the keys package's sentinels (so the API maps them to the same HTTP statuses:
// ErrNotFound 404, ErrConflict 409, ErrInvalid 400, ErrForbidden 403) or wrap one of them.
var (
	ErrNotFound  = keys.ErrNotFound
	ErrConflict  = keys.ErrConflict
	ErrInvalid   = keys.ErrInvalid
	ErrForbidden = keys.ErrForbidden
	// ErrContentDropped is the content of a finished job that retention has dropped (wraps ErrNotFound).
	ErrContentDropped = fmt.Errorf("%w: the job's content was dropped after it finished (retention)", keys.ErrNotFound)
	// ErrTooLarge is content larger than MaxContentSize (wraps ErrInvalid; the API may answer 413).
	ErrTooLarge = fmt.Errorf("%w: content larger than %d bytes", keys.ErrInvalid, MaxContentSize)
	// ErrAlreadyPrinting is a cancellation of a job the agent has started printing (wraps ErrConflict).
	ErrAlreadyPrinting = fmt.Errorf("%w: already printing", keys.ErrConflict)
	// ErrAlreadySent is a cancellation of a job already delivered to an agent too old to cancel it, which
	// will print it (wraps ErrConflict).
	ErrAlreadySent = fmt.Errorf("%w: already delivered to the printer's computer, which will print it; it can no longer be cancelled", keys.ErrConflict)
	// ErrIdempotencyMismatch is an idempotency key reused for a different job (wraps ErrConflict).
	ErrIdempotencyMismatch = fmt.Errorf("%w: the idempotency key was already used for a different job", keys.ErrConflict)
	// ErrTooManyPrinters is returned by UpdatePrinters when some printers were not recorded because the
	// client already has MaxPrintersPerClient (wraps ErrInvalid). The others were recorded.
	ErrTooManyPrinters = fmt.Errorf("%w: too many printers", keys.ErrInvalid)
)

// State is a job's state.
type State = store.JobState

// Job states.
const (
	Queued    = store.JobQueued    // accepted, waiting for its agent
	Sent      = store.JobSent      // delivered to the agent (acknowledged once ReceivedAt is set)
	Printing  = store.JobPrinting  // the agent is writing it to the printer
	Done      = store.JobDone      // every byte reached the printer
	Failed    = store.JobFailed    // the agent gave up (Reason says why), or never reported a result
	Cancelled = store.JobCancelled // cancelled by a user before printing started (by the agent once sent)
	Expired   = store.JobExpired   // not delivered before ExpiresAt; never delivered afterwards
)

// States lists every state in order.
var States = []State{Queued, Sent, Printing, Done, Failed, Cancelled, Expired}

// transitions is the whole state machine: the states each state may move to. A self-transition records
// progress that keeps the state (a redelivery, the agent's receipt, a retryable failure).
var transitions = map[State][]State{
	Queued:   {Sent, Cancelled, Expired},
	Sent:     {Sent, Printing, Done, Failed, Cancelled, Expired},
	Printing: {Printing, Done, Failed},
}

// CanTransition reports whether a job may move from one state to another.
func CanTransition(from, to State) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// MaxContentSize is the largest job content the server accepts: the largest whose `job` message (content
// in base64 plus at most maxJobEnvelope bytes of other fields: IDs, a 256-byte title and printer URI even
// when JSON escapes every byte) fits protocol.MaxMessageSize — and never more than protocol.MaxJobSize,
// which the agent enforces.
const MaxContentSize = min((protocol.MaxMessageSize-maxJobEnvelope)/4*3, protocol.MaxJobSize)

const maxJobEnvelope = 4 << 10

// Defaults for Options.
const (
	DefaultExpiry     = 24 * time.Hour // a shipping label printed days late is a wrong label
	MaxExpiry         = 90 * 24 * time.Hour
	DefaultResultWait = 24 * time.Hour
	DefaultBatchJobs  = 50
	DefaultBatchBytes = 32 << 20
	MaxCopies         = 1000
	// MaxPrintersPerClient bounds the printers the server keeps for one client (present or not): an
	// agent cannot grow the printers table without limit by reporting ever new URIs.
	MaxPrintersPerClient = 256
	maxTextLen           = 256  // title, idempotency key, hostname, printer fields
	maxReasonLen         = 1024 // failure reasons from agents
)

// Options configure a Service. Zero values take the defaults.
type Options struct {
	Store Store
	Log   *slog.Logger
	Clock func() time.Time // time.Now by default; tests inject one
	// DefaultExpiry is how long a job waits for delivery when the request names no expiry (24 hours).
	DefaultExpiry time.Duration
	// MaxExpiry bounds a request's expires_in_seconds (90 days).
	MaxExpiry time.Duration
	// ResultWait is how long after a job's expiry the server waits for the result of a job the agent
	// has acknowledged before marking it failed (24 hours).
	ResultWait time.Duration
	// BatchJobs and BatchBytes bound one PendingFor answer (50 jobs, 32 MiB of content; at least one job).
	BatchJobs  int
	BatchBytes int
	// Queued, when set, is called inside the transaction that queues a new job (Submit), with that
	// transaction's store and the job's client: a replica announces the job to the others there (a
	// store.Publisher's notification is delivered at commit, never on rollback). An error rolls the
	// submission back. It may run more than once per job (a retried transaction).
	Queued func(ctx context.Context, tx store.Store, clientID string) error
	// Labels renders pdf and png submissions (printer/raster); nil refuses them with ErrUnprocessable.
	Labels LabelConverter
	// MaxClientsPerCredential bounds the agent installations one credential registers (default
	// DefaultMaxClientsPerCredential; negative: unlimited); MaxPrintersPerPortal bounds a portal's
	// printers (default DefaultMaxPrintersPerPortal; negative: unlimited). See caps.go.
	MaxClientsPerCredential int
	MaxPrintersPerPortal    int
}

// Service is the job queue and the agent/printer registry. It is safe for concurrent use.
type Service struct {
	st  Store
	log *slog.Logger
	o   Options

	mu       sync.Mutex
	subs     map[string]map[*Subscription]struct{} // client ID → its subscriptions (push.go)
	printers printerCache                          // Submit's printer lookups (printercache.go)
	capState
}

// New returns a Service on o.Store.
func New(o Options) *Service {
	if o.Store == nil {
		panic("jobs: New without a store")
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.DefaultExpiry <= 0 {
		o.DefaultExpiry = DefaultExpiry
	}
	if o.MaxExpiry <= 0 {
		o.MaxExpiry = MaxExpiry
	}
	if o.MaxExpiry < o.DefaultExpiry {
		o.MaxExpiry = o.DefaultExpiry
	}
	if o.ResultWait <= 0 {
		o.ResultWait = DefaultResultWait
	}
	if o.BatchJobs <= 0 {
		o.BatchJobs = DefaultBatchJobs
	}
	if o.BatchBytes <= 0 {
		o.BatchBytes = DefaultBatchBytes
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{st: o.Store, log: log.With("component", "jobs"), o: o, subs: make(map[string]map[*Subscription]struct{})}
}

// now is the clock at the store's precision (microseconds, UTC), so values returned before and after a
// round trip through the store are equal.
func (s *Service) now() time.Time { return s.o.Clock().UTC().Truncate(time.Microsecond) }

// Job is a print job as the API shows it (without its content).
type Job struct {
	ID             string     `json:"id"`
	PortalID       string     `json:"-"`
	PrinterID      string     `json:"printer_id"`
	ClientID       string     `json:"client_id"`
	Title          string     `json:"title"`
	Size           int64      `json:"size"` // content bytes
	Copies         int        `json:"copies"`
	IdempotencyKey string     `json:"idempotency_key,omitempty"`
	CreatedBy      string     `json:"created_by"`
	State          State      `json:"state"`
	Reason         string     `json:"reason,omitempty"`
	Attempts       int        `json:"attempts"`   // deliveries to the agent
	CreatedAt      time.Time  `json:"created_at"` // queued
	UpdatedAt      time.Time  `json:"updated_at"`
	ExpiresAt      time.Time  `json:"expires_at"`
	SentAt         *time.Time `json:"sent_at,omitempty"`     // last delivery
	ReceivedAt     *time.Time `json:"received_at,omitempty"` // first acknowledgement by the agent
	PrintingAt     *time.Time `json:"printing_at,omitempty"`
	FinishedAt     *time.Time `json:"finished_at,omitempty"` // done, failed, cancelled or expired
	// CancelRequestedAt is when a user asked to cancel the job after it was sent: its agent decides
	// (cancelled, or Reason says it came too late).
	CancelRequestedAt *time.Time `json:"cancel_requested_at,omitempty"`
}

func jobOf(j store.Job) Job {
	return Job{ID: j.ID, PortalID: j.PortalID, PrinterID: j.PrinterID, ClientID: j.ClientID, Title: j.Title,
		Size: j.Size, Copies: j.Copies, IdempotencyKey: j.IdempotencyKey, CreatedBy: j.CreatedBy, State: j.State,
		Reason: j.Reason, Attempts: j.Attempts, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt, ExpiresAt: j.ExpiresAt,
		SentAt: j.SentAt, ReceivedAt: j.ReceivedAt, PrintingAt: j.PrintingAt, FinishedAt: j.FinishedAt,
		CancelRequestedAt: j.CancelRequestedAt}
}

// Event is one recorded transition of a job (or progress that kept its state).
type Event struct {
	Seq    int64     `json:"-"` // its position in Events (the store's event ID)
	At     time.Time `json:"at"`
	From   State     `json:"from"` // "" for the submission
	To     State     `json:"to"`
	Reason string    `json:"reason"`
	Actor  string    `json:"actor"` // a user's e-mail, "oauth:<client>", "agent:<client id>" or "server"
}

const actorServer = "server"

func actorAgent(clientID string) string { return "agent:" + clientID }

// change is one transition of j: it checks the state machine, updates the job only if it is still in
// j.State (ErrConflict otherwise) and records the event. It updates j in place.
type change struct {
	to       State
	reason   string // the job's reason (failures); "" clears it
	event    string // the event's reason; defaults to reason
	actor    string
	sent     bool
	session  int64
	received bool
	cancelBy string // records a cancel request by this actor
}

func (s *Service) apply(ctx context.Context, q Queries, j *store.Job, c change, at time.Time) error {
	if !CanTransition(j.State, c.to) {
		return fmt.Errorf("%w: job %s is %s and cannot become %s", ErrConflict, j.ID, j.State, c.to)
	}
	err := q.UpdateJob(ctx, store.JobUpdate{ID: j.ID, From: j.State, To: c.to, Reason: c.reason, At: at,
		Sent: c.sent, Session: c.session, Received: c.received, CancelBy: c.cancelBy})
	switch {
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("%w: job %s changed concurrently", ErrConflict, j.ID)
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: job %s", ErrNotFound, j.ID)
	case err != nil:
		return fmt.Errorf("jobs: update job: %w", err)
	}
	return s.record(ctx, q, j, c, at)
}

// record writes the events of change c of j, whose row the caller has updated, and updates j in place.
func (s *Service) record(ctx context.Context, q Queries, j *store.Job, c change, at time.Time) error {
	ev := c.event
	if ev == "" {
		ev = c.reason
	}
	if _, err := q.AppendJobEvent(ctx, store.JobEvent{JobID: j.ID, At: at, From: j.State, To: c.to, Reason: ev, Actor: c.actor}); err != nil {
		return fmt.Errorf("jobs: record event: %w", err)
	}
	if c.to != j.State {
		if err := recordChange(ctx, q, *j, c.to, ev, c.actor, at); err != nil {
			return err
		}
	}
	applyChange(j, c, at)
	return nil
}

// applyChange updates j, as its row stands, by change c at `at` (record; a job created as changed).
func applyChange(j *store.Job, c change, at time.Time) {
	j.State, j.Reason, j.UpdatedAt = c.to, c.reason, at
	if c.sent {
		j.SentAt, j.Attempts, j.SentSession = &at, j.Attempts+1, c.session
	}
	if c.received && j.ReceivedAt == nil {
		j.ReceivedAt = &at
	}
	if c.to == Printing && j.PrintingAt == nil {
		j.PrintingAt = &at
	}
	if c.to.Terminal() {
		j.FinishedAt = &at
	}
	if c.cancelBy != "" {
		j.CancelRequestedAt, j.CancelRequestedBy = &at, c.cancelBy
	}
}

// note records an event without a state change (an agent report about a finished job).
func (s *Service) note(ctx context.Context, q Queries, j store.Job, reason, actor string, at time.Time) error {
	_, err := q.AppendJobEvent(ctx, store.JobEvent{JobID: j.ID, At: at, From: j.State, To: j.State, Reason: reason, Actor: actor})
	if err != nil {
		return fmt.Errorf("jobs: record event: %w", err)
	}
	return nil
}

// storeErr maps store errors on a lookup of what to ErrNotFound with a clear message.
func storeErr(op, what string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %s", ErrNotFound, what)
	}
	return fmt.Errorf("jobs: %s: %w", op, err)
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// derivedID returns prefix + 26 characters of SHA-256 over the length-prefixed parts.
func derivedID(prefix string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return prefix + idEncoding.EncodeToString(h.Sum(nil)[:16])
}
