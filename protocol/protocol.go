// Package protocol owns the wire format between printdock-agent and printdock-server: the websocket
// messages (hello, welcome, printers, job, cancel, job_status, job_statuses, logout, ping/pong, error),
// the optional features each side lists (hello's and welcome's features) before the other may send a
// message that needs one, the protocol version, the close codes, the maximum message size, and the format
// of printdock secrets (prefix + checksum), which both sides check before trusting a secret.
//
// Every message is one JSON object with a "type" field; Decode checks size, type and required fields.
// See docs/protocol.md.
package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Version is the protocol version this build speaks. The agent sends it in hello; the server refuses a
// version it does not speak with CloseUnsupportedVersion.
const Version = 1

// MaxMessageSize bounds one websocket message in either direction: a job of MaxJobSize in base64 (exactly
// 8 MiB) plus 64 KiB for the JSON around it.
const MaxMessageSize = 8<<20 + 64<<10

// MaxJobSize bounds a job's raw content.
const MaxJobSize = 6 << 20

// Path is the websocket endpoint on the server.
const Path = "/api/v1/agent/ws"

// DeviceHeader carries the device ID when an agent authenticates with the portal's shared secret.
const DeviceHeader = "X-Printdock-Device"

// Websocket close codes (4000–4999 are for applications).
const (
	CloseLoggedOut          = 4001 // the key was rotated, revoked, deactivated or deleted: do not reconnect with it
	CloseUnsupportedVersion = 4002 // hello carried a protocol version the server does not speak
	CloseProtocolError      = 4003 // a garbled, unknown or out-of-order message
	CloseHeartbeatTimeout   = 4004 // no pong within the deadline
	CloseServerShutdown     = 4005 // the server is going away; reconnect with backoff
	// CloseLimitReached: the server refused to register this installation because a limit is reached
	// (the credential's clients, --max-clients-per-key); the close reason says which. Reconnecting with
	// the same credential and installation ID is refused until an administrator acts: back off.
	CloseLimitReached = 4006
)

// Message types.
const (
	TypeHello     = "hello"
	TypeWelcome   = "welcome"
	TypePrinters  = "printers"
	TypeJob       = "job"
	TypeCancel    = "cancel"
	TypeJobStatus = "job_status"
	TypeLogout    = "logout"
	TypePing      = "ping"
	TypePong      = "pong"
	TypeError     = "error"
	// TypeJobStatuses: several job_status in one frame (statuses.go); sent only to a server whose
	// welcome lists FeatureJobStatuses.
	TypeJobStatuses = "job_statuses"
)

// Logout reasons, also used by the agent to tell staff why they were signed out.
const (
	ReasonRotated     = "rotated"
	ReasonRevoked     = "revoked"
	ReasonDeactivated = "deactivated"
	ReasonDeleted     = "deleted"
	ReasonInvalid     = "invalid" // the server refused the secret on (re)connect
	// ReasonOwnSecret: a device that used the shared secret was given its own secret (same device ID):
	// staff paste the new print client secret.
	ReasonOwnSecret = "own_secret"
	// ReasonSharedSecret: a device moved back to the portal's shared secret (same device ID): staff sign
	// in with the shared secret and the device ID.
	ReasonSharedSecret = "shared_secret"
	ReasonExpired      = "expired" // the key's expiry date has passed
	// ReasonInUse: the print client secret is already used by another installation and the portal
	// allows one; Logout.Message names it ("this secret is already used on PC-DOCK-3; …").
	ReasonInUse = "in_use"
)

// Job states reported by the agent in job_status.
const (
	JobReceived = "received" // persisted in the agent's spool
	JobPrinting = "printing" // bytes are being written to the printer
	JobDone     = "done"     // every byte reached the printer
	JobFailed   = "failed"   // Reason says why; Retry says whether the agent will try again
	// JobCancelled answers a cancel for a job the agent had not started writing: it was discarded and
	// will never print. A cancel that comes too late is answered with the job's current state
	// (printing or done) and a Reason that says so.
	JobCancelled = "cancelled"
)

// Features an agent lists in Hello.Features; the server sends a message that needs one only to agents
// that list it, so an older agent is never sent a message it cannot decode.
const (
	FeatureCancel = "cancel" // understands the cancel message
)

// Features a server lists in Welcome.Features; the agent sends a message that needs one only to a server
// that lists it, so an older server is never sent a message it cannot decode.
const (
	FeatureJobStatuses = "job_statuses" // takes job_statuses (several job_status in one message)
)

// Errors from Decode.
var (
	ErrTooLarge    = errors.New("message too large")
	ErrMalformed   = errors.New("malformed message")
	ErrUnknownType = errors.New("unknown message type")
	ErrInvalid     = errors.New("invalid message")
)

// Message is any protocol message.
type Message interface {
	MessageType() string
	validate() error
}

// Hello is the agent's first message after connecting.
type Hello struct {
	Type            string `json:"type"`
	ProtocolVersion int    `json:"protocol_version"`
	AgentVersion    string `json:"agent_version"`
	Hostname        string `json:"hostname"`
	OS              string `json:"os"`
	// InstallationID is generated once per installation and kept in the agent's state directory, so two
	// machines that share a copied config are still told apart.
	InstallationID string `json:"installation_id"`
	// Features lists the optional messages this agent understands (FeatureCancel, …).
	Features []string `json:"features,omitempty"`
}

// Has reports whether the agent listed feature f.
func (m Hello) Has(f string) bool { return hasFeature(m.Features, f) }

func hasFeature(list []string, f string) bool {
	for _, x := range list {
		if x == f {
			return true
		}
	}
	return false
}

// Welcome is the server's answer to Hello.
type Welcome struct {
	Type            string `json:"type"`
	ProtocolVersion int    `json:"protocol_version"`
	ServerVersion   string `json:"server_version,omitempty"`
	ClientID        string `json:"client_id"` // the server's ID for this installation
	KeyID           string `json:"key_id"`
	KeyKind         string `json:"key_kind"` // "print_client", "user", "shared"
	KeyDescription  string `json:"key_description,omitempty"`
	Portal          string `json:"portal,omitempty"`
	// HeartbeatSeconds is how often the server pings; the agent treats 3 missed intervals as a dead link.
	HeartbeatSeconds int `json:"heartbeat_seconds"`
	// PrinterAlertSeconds is the portal's printer alert threshold: how long a printer may need staff
	// (out of media, head open, offline…) before it is shown as an alert. 0: the agent's default.
	PrinterAlertSeconds int `json:"printer_alert_seconds,omitempty"`
	// Features lists the optional messages this server takes from agents (FeatureJobStatuses, …).
	Features []string `json:"features,omitempty"`
}

// Has reports whether the server listed feature f.
func (m Welcome) Has(f string) bool { return hasFeature(m.Features, f) }

// Printer is one printer as the agent reports it.
type Printer struct {
	ID     string `json:"id"` // stable URI: usb://VID:PID/SERIAL, tcp://host:port, sim://name
	Name   string `json:"name"`
	Make   string `json:"make,omitempty"`
	Model  string `json:"model,omitempty"`
	Status string `json:"status"` // ready, media_out, head_open, paused, offline, unknown, …
	Reason string `json:"reason,omitempty"`
	// Language is the printer's command language (zpl, epl, tspl, dpl, escpos, unknown); the server
	// encodes PDF and PNG labels in it.
	Language string `json:"language,omitempty"`
	// DPI is the print resolution when known (203, 300, 600), else 0.
	DPI int `json:"dpi,omitempty"`
	// StatusMode is how the agent learns the printer's status: auto, zpl or none.
	StatusMode string `json:"status_mode,omitempty"`
}

// Printers is the agent's full list of printers; sent after hello and whenever it changes.
type Printers struct {
	Type     string    `json:"type"`
	Printers []Printer `json:"printers"`
}

// Job asks the agent to print. Content is raw printer language (ZPL), base64 in JSON.
type Job struct {
	Type      string    `json:"type"`
	JobID     string    `json:"job_id"`
	PrinterID string    `json:"printer_id"`
	Title     string    `json:"title,omitempty"`
	Content   []byte    `json:"content"`
	Copies    int       `json:"copies"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// Cancel asks the agent to discard a job it holds. The agent answers with a JobStatus: cancelled when
// it had not started writing the job, otherwise the job's current state with a reason ("too late: …").
type Cancel struct {
	Type  string `json:"type"`
	JobID string `json:"job_id"`
}

// JobStatus reports a job's progress from the agent; the server treats each as an acknowledgement.
type JobStatus struct {
	Type   string    `json:"type"`
	JobID  string    `json:"job_id"`
	State  string    `json:"state"` // received, printing, done, failed, cancelled
	Reason string    `json:"reason,omitempty"`
	Retry  bool      `json:"retry,omitempty"` // failed for now; the agent retries when the printer returns
	At     time.Time `json:"at"`
}

// Logout tells the agent its secret no longer works; the server closes with CloseLoggedOut right after.
type Logout struct {
	Type   string `json:"type"`
	Reason string `json:"reason"` // rotated, revoked, deactivated, deleted, own_secret, shared_secret, expired, in_use
	// Message is what to show staff, when the reason alone does not say it (in_use: which installation).
	Message string `json:"message,omitempty"`
}

// Ping asks the peer for a Pong with the same Nonce. Either side may ping.
type Ping struct {
	Type  string `json:"type"`
	Nonce uint64 `json:"nonce"`
}

// Pong answers a Ping.
type Pong struct {
	Type  string `json:"type"`
	Nonce uint64 `json:"nonce"`
}

// Error reports a problem with a message the peer sent; the connection may stay open.
type Error struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (Hello) MessageType() string     { return TypeHello }
func (Welcome) MessageType() string   { return TypeWelcome }
func (Printers) MessageType() string  { return TypePrinters }
func (Job) MessageType() string       { return TypeJob }
func (JobStatus) MessageType() string { return TypeJobStatus }
func (Cancel) MessageType() string    { return TypeCancel }
func (Logout) MessageType() string    { return TypeLogout }
func (Ping) MessageType() string      { return TypePing }
func (Pong) MessageType() string      { return TypePong }
func (Error) MessageType() string     { return TypeError }

func (m Hello) validate() error {
	if m.ProtocolVersion <= 0 {
		return fmt.Errorf("%w: protocol_version is required", ErrInvalid)
	}
	if err := checkFeatures(m.Features); err != nil {
		return err
	}
	return firstErr(
		checkID("installation_id", m.InstallationID),
		checkLen("hostname", m.Hostname, MaxHostnameLen),
		checkLen("agent_version", m.AgentVersion, MaxAgentVersionLen),
		checkLen("os", m.OS, MaxOSLen),
	)
}

// Welcome's features are not bounded like hello's: a newer server may list more, or longer names, than
// this build knows, and an agent only looks up the ones it knows (the message size still bounds them).
func (m Welcome) validate() error { return checkID("client_id", m.ClientID) }

func (m Printers) validate() error {
	if len(m.Printers) > MaxPrinters {
		return fmt.Errorf("%w: more than %d printers", ErrInvalid, MaxPrinters)
	}
	for _, p := range m.Printers {
		if err := firstErr(
			checkID("printer id", p.ID),
			checkLen("printer name", p.Name, MaxPrinterTextLen),
			checkLen("printer make", p.Make, MaxPrinterTextLen),
			checkLen("printer model", p.Model, MaxPrinterTextLen),
			checkLen("printer status", p.Status, MaxPrinterTextLen),
			checkLen("printer reason", p.Reason, MaxReasonLen),
			checkLen("printer language", p.Language, MaxFeatureLen),
			checkLen("printer status_mode", p.StatusMode, MaxFeatureLen),
		); err != nil {
			return err
		}
		if p.DPI < 0 || p.DPI > 2400 {
			return fmt.Errorf("%w: printer dpi %d out of range", ErrInvalid, p.DPI)
		}
	}
	return nil
}

func (m Job) validate() error {
	if err := checkID("job_id", m.JobID); err != nil {
		return err
	}
	if err := checkID("printer_id", m.PrinterID); err != nil {
		return err
	}
	if err := checkLen("title", m.Title, MaxTitleLen); err != nil {
		return err
	}
	if len(m.Content) == 0 {
		return fmt.Errorf("%w: job content is empty", ErrInvalid)
	}
	if len(m.Content) > MaxJobSize {
		return fmt.Errorf("%w: job content larger than %d bytes", ErrInvalid, MaxJobSize)
	}
	if m.Copies < 1 || m.Copies > 1000 {
		return fmt.Errorf("%w: copies must be 1..1000", ErrInvalid)
	}
	return nil
}

func (m JobStatus) validate() error {
	if err := checkID("job_id", m.JobID); err != nil {
		return err
	}
	if err := checkLen("reason", m.Reason, MaxReasonLen); err != nil {
		return err
	}
	switch m.State {
	case JobReceived, JobPrinting, JobDone, JobFailed, JobCancelled:
		return nil
	}
	return fmt.Errorf("%w: unknown job state %q", ErrInvalid, m.State)
}

func (m Logout) validate() error {
	switch m.Reason {
	case ReasonRotated, ReasonRevoked, ReasonDeactivated, ReasonDeleted, ReasonInvalid, ReasonOwnSecret,
		ReasonSharedSecret, ReasonExpired, ReasonInUse:
		return checkLen("message", m.Message, MaxReasonLen)
	}
	return fmt.Errorf("%w: unknown logout reason %q", ErrInvalid, m.Reason)
}

func (m Cancel) validate() error { return checkID("job_id", m.JobID) }

func (Ping) validate() error { return nil }
func (Pong) validate() error { return nil }

func (m Error) validate() error {
	return firstErr(checkLen("code", m.Code, MaxErrorCodeLen), checkLen("message", m.Message, MaxErrorMessageLen))
}

// Encode marshals m with its type field set.
func Encode(m Message) ([]byte, error) {
	var b []byte
	var err error
	switch v := m.(type) {
	case Hello:
		v.Type = TypeHello
		b, err = json.Marshal(v)
	case Welcome:
		v.Type = TypeWelcome
		b, err = json.Marshal(v)
	case Printers:
		v.Type = TypePrinters
		b, err = json.Marshal(v)
	case Job:
		v.Type = TypeJob
		b, err = json.Marshal(v)
	case JobStatus:
		v.Type = TypeJobStatus
		b, err = json.Marshal(v)
	case Cancel:
		v.Type = TypeCancel
		b, err = json.Marshal(v)
	case Logout:
		v.Type = TypeLogout
		b, err = json.Marshal(v)
	case Ping:
		v.Type = TypePing
		b, err = json.Marshal(v)
	case Pong:
		v.Type = TypePong
		b, err = json.Marshal(v)
	case Error:
		v.Type = TypeError
		b, err = json.Marshal(v)
	case JobStatuses:
		b, err = encodeStatuses(v)
	default:
		return nil, fmt.Errorf("protocol: encode %T: %w", m, ErrUnknownType)
	}
	if err != nil {
		return nil, fmt.Errorf("protocol: encode %s: %w", m.MessageType(), err)
	}
	if len(b) > MaxMessageSize {
		return nil, fmt.Errorf("protocol: encode %s: %w (%d bytes)", m.MessageType(), ErrTooLarge, len(b))
	}
	return b, nil
}

// Decode parses one message. It returns a value type (Hello, Job, …), never a pointer.
func Decode(data []byte) (Message, error) {
	if len(data) > MaxMessageSize {
		return nil, fmt.Errorf("protocol: decode: %w (%d bytes, limit %d)", ErrTooLarge, len(data), MaxMessageSize)
	}
	if m, ok := decodeFast(data); ok {
		if err := m.validate(); err != nil {
			return nil, fmt.Errorf("protocol: decode %s: %w", m.MessageType(), err)
		}
		return m, nil
	}
	return decodeGeneral(data)
}

// decodeGeneral is Decode by encoding/json, for every message decodeFast does not take.
func decodeGeneral(data []byte) (Message, error) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("protocol: decode: %w: %v", ErrMalformed, err)
	}
	var m Message
	var err error
	switch head.Type {
	case TypeHello:
		m, err = decodeAs[Hello](data)
	case TypeWelcome:
		m, err = decodeAs[Welcome](data)
	case TypePrinters:
		m, err = decodeAs[Printers](data)
	case TypeJob:
		m, err = decodeAs[Job](data)
	case TypeJobStatus:
		m, err = decodeAs[JobStatus](data)
	case TypeCancel:
		m, err = decodeAs[Cancel](data)
	case TypeLogout:
		m, err = decodeAs[Logout](data)
	case TypePing:
		m, err = decodeAs[Ping](data)
	case TypePong:
		m, err = decodeAs[Pong](data)
	case TypeError:
		m, err = decodeAs[Error](data)
	case TypeJobStatuses:
		m, err = decodeStatuses(data)
	case "":
		return nil, fmt.Errorf("protocol: decode: %w: no type field", ErrMalformed)
	default:
		return nil, fmt.Errorf("protocol: decode: %w %.40q", ErrUnknownType, head.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("protocol: decode %s: %w", head.Type, err)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("protocol: decode %s: %w", head.Type, err)
	}
	return m, nil
}

func decodeAs[T Message](data []byte) (Message, error) {
	var v T
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data", ErrMalformed)
	}
	return v, nil
}
