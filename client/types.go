package client

import "time"

// Key is a print client secret (or a device using the shared secret) as the API shows it.
type Key struct {
	ID              string     `json:"id"`
	Description     string     `json:"description"`
	Prefix          string     `json:"prefix"`
	Status          string     `json:"status"` // active, inactive, revoked
	UseSharedSecret bool       `json:"use_shared_secret"`
	CreatedAt       time.Time  `json:"created_at"`
	CreatedBy       string     `json:"created_by"`
	LastAccessedAt  *time.Time `json:"last_accessed_at"`
	Connected       bool       `json:"connected"`
	// Secret is set only by CreateKey and RotateKey: the server shows it once.
	Secret string `json:"secret,omitempty"`
}

// NewKey is what CreateKey sends.
type NewKey struct {
	Description     string `json:"description"`
	Inactive        bool   `json:"inactive,omitempty"`
	UseSharedSecret bool   `json:"use_shared_secret,omitempty"`
}

// Printer is a printer an agent of the portal reported.
type Printer struct {
	ID          string    `json:"id"` // prn_…: what jobs are submitted to
	Name        string    `json:"name"`
	URI         string    `json:"uri"` // the agent's own ID (usb://…, tcp://…, sim://…)
	ClientID    string    `json:"client_id"`
	Online      bool      `json:"online"`
	Status      string    `json:"status"`
	Reason      string    `json:"reason,omitempty"`
	Make        string    `json:"make,omitempty"`
	Model       string    `json:"model,omitempty"`
	Present     bool      `json:"present"`
	FirstSeenAt time.Time `json:"first_seen_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Job is a print job (never its content). States and timestamps: docs/jobs.md.
type Job struct {
	ID             string     `json:"id"`
	PrinterID      string     `json:"printer_id"`
	ClientID       string     `json:"client_id"`
	Title          string     `json:"title"`
	Size           int64      `json:"size"`
	Copies         int        `json:"copies"`
	IdempotencyKey string     `json:"idempotency_key,omitempty"`
	CreatedBy      string     `json:"created_by"`
	State          string     `json:"state"`
	Reason         string     `json:"reason,omitempty"`
	Attempts       int        `json:"attempts"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	ExpiresAt      time.Time  `json:"expires_at"`
	SentAt         *time.Time `json:"sent_at,omitempty"`
	ReceivedAt     *time.Time `json:"received_at,omitempty"`
	PrintingAt     *time.Time `json:"printing_at,omitempty"`
	FinishedAt     *time.Time `json:"finished_at,omitempty"`
}

// Job states.
const (
	JobQueued    = "queued"
	JobSent      = "sent"
	JobPrinting  = "printing"
	JobDone      = "done"
	JobFailed    = "failed"
	JobCancelled = "cancelled"
	JobExpired   = "expired"
)

// Terminal reports whether the job is finished (done, failed, cancelled or expired).
func (j Job) Terminal() bool {
	switch j.State {
	case JobDone, JobFailed, JobCancelled, JobExpired:
		return true
	}
	return false
}

// JobRequest is a job submission.
type JobRequest struct {
	ContentType string `json:"content_type,omitempty"` // "raw" ("" means raw)
	Content     []byte `json:"content_base64"`
	Title       string `json:"title,omitempty"`
	Copies      int    `json:"copies,omitempty"` // 1..1000; 0 means 1
	// IdempotencyKey makes the submission safe to retry: the server answers the job it created for
	// the key. Without one, a submission is never retried.
	IdempotencyKey   string `json:"idempotency_key,omitempty"`
	ExpiresInSeconds int64  `json:"expires_in_seconds,omitempty"`
}

// JobEvent is one recorded transition of a job.
type JobEvent struct {
	At     time.Time `json:"at"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Reason string    `json:"reason"`
	Actor  string    `json:"actor"`
}

// MaxPageLimit is the largest page the server answers (every list's limit is 1..MaxPageLimit).
const MaxPageLimit = 1000

// JobFilter selects jobs for ListJobs and AllJobs; zero fields select everything.
type JobFilter struct {
	Printer        string // printer ID
	State          string
	IdempotencyKey string    // the job submitted with this key
	CreatedAfter   time.Time // jobs created after it
	Limit          int       // page size 1..MaxPageLimit (server default 100)
	After          string    // a cursor from a previous page's NextCursor
}

// JobPage is one page of ListJobs, newest first.
type JobPage struct {
	Items      []Job  `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"` // "" on the last page
}

// AgentClient is one agent installation the server has seen (GET /api/v1/clients, administrators).
type AgentClient struct {
	ID             string     `json:"id"`
	CredentialID   string     `json:"credential_id"`
	KeyKind        string     `json:"key_kind,omitempty"`
	Description    string     `json:"description"`
	Hostname       string     `json:"hostname"`
	OS             string     `json:"os"`
	AgentVersion   string     `json:"agent_version"`
	InstallationID string     `json:"installation_id"`
	Online         bool       `json:"online"`
	RemoteAddr     string     `json:"remote_addr,omitempty"`
	ConnectedAt    *time.Time `json:"connected_at,omitempty"`
	FirstSeenAt    time.Time  `json:"first_seen_at"`
	LastSeenAt     time.Time  `json:"last_seen_at"`
	Printers       []Printer  `json:"printers"`
}

// page is a list answer: {"items":[…], "next_cursor":…}.
type page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}
