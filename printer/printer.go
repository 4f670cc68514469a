// Package printer owns the agent's view of a label printer: the Printer interface every transport
// implements (USB, raw TCP 9100, the Windows spooler, the simulator), printer identity and status, and the
// errors a print can end with. Transports live in sub-packages; ZPL status parsing and label preview in
// printer/zpl.
package printer

import (
	"context"
	"errors"
	"time"
)

// Errors a Write or Status can end with. Transports wrap them with %w so callers use errors.Is.
var (
	ErrDisconnected = errors.New("printer disconnected") // unplugged, connection lost mid-job
	ErrMediaOut     = errors.New("printer out of media")
	ErrHeadOpen     = errors.New("printer head open")
	ErrPaused       = errors.New("printer paused")
	ErrRibbonOut    = errors.New("printer ribbon out")
	ErrNotFound     = errors.New("printer not found")
	ErrNoStatus     = errors.New("printer did not answer the status request") // a silent Zebra: often media out or head open
)

// Info is a printer's identity. ID is stable across reconnects and restarts: it is the printer's URI,
// e.g. usb://0a5f:0181/XXQ123456, tcp://10.0.0.5:9100, sim://dock1.
type Info struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Make          string   `json:"make,omitempty"`
	Model         string   `json:"model,omitempty"`
	Serial        string   `json:"serial,omitempty"`
	Language      Language `json:"language,omitempty"` // command language; LangUnknown when not known
	Bidirectional bool     `json:"bidirectional"`      // the transport can carry an answer back (USB bulk IN, TCP)
	// DPI is the print resolution when configured or reported (203, 300, 600), else 0.
	DPI int `json:"dpi,omitempty"`
	// StatusMode is how the agent asks this printer for its status ("" = StatusAuto).
	StatusMode StatusMode `json:"status_mode,omitempty"`
}

// State is a printer's condition as staff see it.
type State string

const (
	StateReady     State = "ready"
	StateBusy      State = "busy"
	StateMediaOut  State = "media_out"
	StateHeadOpen  State = "head_open"
	StatePaused    State = "paused"
	StateRibbonOut State = "ribbon_out"
	StateError     State = "error"
	StateOffline   State = "offline"
	StateUnknown   State = "unknown"
)

// Status is the result of asking a printer how it is.
type Status struct {
	State           State     `json:"state"`
	Reason          string    `json:"reason,omitempty"` // plain-language detail
	LabelsRemaining int       `json:"labels_remaining,omitempty"`
	BufferFull      bool      `json:"buffer_full,omitempty"`
	CheckedAt       time.Time `json:"checked_at"`
}

// Printer is one attached printer. Implementations are safe for use by one job at a time; the agent
// serialises jobs per printer.
type Printer interface {
	Info() Info
	// Write sends a job's raw bytes (ZPL) to the printer. It returns only when the bytes were handed to
	// the device (or failed); a short write is an error. Cancelling ctx aborts the transfer.
	Write(ctx context.Context, data []byte) error
	// Status asks the printer for its condition (for Zebras: ~HS). A printer that cannot answer
	// returns StateUnknown without error; a silent bidirectional printer returns ErrNoStatus.
	Status(ctx context.Context) (Status, error)
	Close() error
}
