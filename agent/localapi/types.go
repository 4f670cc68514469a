// Package localapi owns the agent's local API: the one route table under /localapi/v0/ that the agent
// serves on a unix socket (Linux/macOS) or named pipe / AF_UNIX socket (Windows), the JSON types it speaks,
// and the typed Go client that the CLI and the desktop app use. Nothing else talks to a running agent.
//
// CONTRACT NOTE (lead): the types in this file are what the agent (server side) and the desktop app
// (client side) are built against concurrently. Add fields freely; don't rename.
package localapi

import "time"

// Connection states (DESIGN §3: status --json "state").
const (
	StateConnected   = "connected"
	StateConnecting  = "connecting" // dialling or waiting for the next retry
	StateLoggedOut   = "logged_out" // the server logged this client out; LogoutReason says why
	StateNotLoggedIn = "not_logged_in"
)

// Status is the agent's whole state as the desktop app and `printdock-agent status --json` show it.
type Status struct {
	State        string     `json:"state"`
	ServerURL    string     `json:"server_url,omitempty"`
	Portal       string     `json:"portal,omitempty"`
	KeyKind      string     `json:"key_kind,omitempty"`        // print_client, user, shared
	KeyDesc      string     `json:"key_description,omitempty"` // e.g. "Zebra dock 3"
	DeviceID     string     `json:"device_id,omitempty"`       // for shared-secret logins
	ClientID     string     `json:"client_id,omitempty"`
	Since        *time.Time `json:"since,omitempty"`      // when the current state began
	NextRetry    *time.Time `json:"next_retry,omitempty"` // when connecting: the next dial
	LastError    string     `json:"last_error,omitempty"` // plain language, never a secret
	LogoutReason string     `json:"logout_reason,omitempty"`
	// LogoutMessage is the server's own words with the logout, when it sent any (in_use: "this secret is
	// already used on PC-DOCK-3; ask your admin for a new one").
	LogoutMessage string     `json:"logout_message,omitempty"`
	LogoutAt      *time.Time `json:"logout_at,omitempty"`
	Keystore      string     `json:"keystore,omitempty"` // "keyring" or "file"
	Service       Service    `json:"service"`
	Version       string     `json:"version"`
	InProcess     bool       `json:"in_process,omitempty"` // the agent runs inside the desktop app, not as a service
	Printers      []Printer  `json:"printers"`
	LogDir        string     `json:"log_dir,omitempty"`

	// Added by the agent engineer (additions only).

	// AgentRunning is true when this Status came from a running agent; false when the CLI or the
	// desktop app built it from the state directory because no agent answered on the local API.
	AgentRunning   bool       `json:"agent_running"`
	StateDir       string     `json:"state_dir,omitempty"`
	InstallationID string     `json:"installation_id,omitempty"`
	KeyPrefix      string     `json:"key_prefix,omitempty"` // displayable prefix of the stored secret, e.g. "pdc_7GhQ"
	LastErrorAt    *time.Time `json:"last_error_at,omitempty"`
	Attempts       int        `json:"attempts,omitempty"` // failed dials since the last connection
	HeartbeatSecs  int        `json:"heartbeat_seconds,omitempty"`
}

// Service is the OS service's condition.
type Service struct {
	Installed bool   `json:"installed"`
	Running   bool   `json:"running"`
	Platform  string `json:"platform,omitempty"` // e.g. "linux-systemd", "windows-service"
}

// Printer is one printer the agent sees.
type Printer struct {
	ID              string    `json:"id"` // usb://…, tcp://…, sim://…
	Name            string    `json:"name"`
	Make            string    `json:"make,omitempty"`
	Model           string    `json:"model,omitempty"`
	State           string    `json:"state"` // ready, media_out, head_open, paused, offline, unknown, …
	Reason          string    `json:"reason,omitempty"`
	LabelsRemaining int       `json:"labels_remaining,omitempty"`
	CheckedAt       time.Time `json:"checked_at"`

	// Added with printer languages (additions only).
	Language   string `json:"language,omitempty"`    // zpl, epl, tspl, dpl, escpos, unknown
	DPI        int    `json:"dpi,omitempty"`         // 0 when not known
	StatusMode string `json:"status_mode,omitempty"` // auto, zpl, none

	// Added with printer alerts (additions only). AlertSince is set while the printer is in alert: in a
	// state that needs staff (printer.AlertState) for at least printer.DefaultAlertAfter; it is when
	// that state began. The agent uses the default threshold, not the portal's.
	AlertSince *time.Time `json:"alert_since,omitempty"`
}

// LoginRequest signs the agent in. The secret travels only over the local socket.
type LoginRequest struct {
	ServerURL string `json:"server_url"`
	Secret    string `json:"secret"`
	DeviceID  string `json:"device_id,omitempty"` // required with a shared secret (pds_)
}

// TestPrintRequest prints the built-in test label.
type TestPrintRequest struct {
	PrinterID string `json:"printer_id,omitempty"` // "" = the first printer
}

// TestPrintResult says what was printed and where its preview is.
type TestPrintResult struct {
	PrinterID   string `json:"printer_id"`
	JobID       string `json:"job_id"`
	PreviewPNG  []byte `json:"preview_png,omitempty"`  // the rendered label
	PreviewPath string `json:"preview_path,omitempty"` // the same image on disk
}

// Job is one job in the agent's recent history.
type Job struct {
	ID        string    `json:"id"`
	PrinterID string    `json:"printer_id"`
	Title     string    `json:"title,omitempty"`
	State     string    `json:"state"` // received, printing, done, failed; waiting (for the printer, Reason says why)
	Reason    string    `json:"reason,omitempty"`
	Updated   time.Time `json:"updated"`
	HasPrev   bool      `json:"has_preview"`

	// Added with the spool (additions only).
	Copies     int       `json:"copies,omitempty"`
	CopiesDone int       `json:"copies_done,omitempty"`
	Size       int       `json:"size,omitempty"` // content bytes
	Received   time.Time `json:"received,omitzero"`
	Deliveries int       `json:"deliveries,omitempty"` // times the server sent it (a redelivery is not printed again)
}

// JobWaiting is the Job.State of a job waiting for its printer.
const JobWaiting = "waiting"

// JobCancelled is the Job.State of a job discarded before it was written (a cancel from the server or
// a discard at the agent).
const JobCancelled = "cancelled"

// DiscardRequest discards a job waiting on its printer (POST job-discard).
type DiscardRequest struct {
	JobID string `json:"job_id"`
}

// JobPreview is the rendered label of a job (GET job-preview?id=ID).
type JobPreview struct {
	JobID       string `json:"job_id"`
	PreviewPNG  []byte `json:"preview_png"`
	PreviewPath string `json:"preview_path,omitempty"` // the same image on disk
}

// LogEntry is one line of the agent's recent log (GET /localapi/v0/logs).
type LogEntry struct {
	Time    time.Time `json:"time"`
	Level   string    `json:"level"` // DEBUG, INFO, WARN, ERROR
	Message string    `json:"message"`
	Attrs   string    `json:"attrs,omitempty"` // key=value pairs, never a secret
}

// Error codes in Error.Error.Code. Callers branch on them; the message is for people.
const (
	CodeInvalidRequest    = "invalid_request"
	CodeInvalidSecret     = "invalid_secret"     // the secret failed the local prefix/checksum check
	CodeDeviceIDRequired  = "device_id_required" // a shared secret (pds_) needs a device ID
	CodeInsecureURL       = "insecure_url"       // ws:// or http:// to a host that is not loopback
	CodeUnauthorized      = "unauthorized"       // the server refused the secret (401)
	CodeForbidden         = "forbidden"          // the key is inactive or revoked (403), or a refused local request
	CodeServerUnreachable = "server_unreachable"
	CodeNotLoggedIn       = "not_logged_in"
	CodePrinterNotFound   = "printer_not_found"
	CodePrinterError      = "printer_error"
	CodeNotFound          = "not_found"
	CodeNoPreview         = "no_preview" // the job's content cannot be rendered
	CodeTooLate           = "too_late"   // job-discard: the job has started printing or is finished
	CodeMethodNotAllowed  = "method_not_allowed"
	CodeAdminRequired     = "admin_required"    // 403: the route is for administrators only (Access)
	CodeAgentNotRunning   = "agent_not_running" // set by the client: nothing answered on the socket
	CodeInternal          = "internal"
)

// Error is the body of every non-2xx answer.
type Error struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"` // plain language for staff
	} `json:"error"`
}
