package printer

import (
	"errors"
	"fmt"
)

// ErrFault is a printer-reported error that is none of the named ones (corrupt memory, head too hot or
// cold, a hardware fault).
var ErrFault = errors.New("printer fault")

// WriteError reports how far a failed Write got. Transports return it (wrapped) so the caller can decide
// whether a retry may print labels twice: Written is the number of bytes the transport handed on before
// the failure (for TCP: accepted by the local socket, an upper bound of what reached the printer).
// Written == 0 means the printer received nothing of the job. Err is the cause, typically ErrDisconnected
// or a context error.
type WriteError struct {
	Written int
	Total   int
	Err     error
}

func (e *WriteError) Error() string {
	return fmt.Sprintf("wrote %d of %d bytes: %v", e.Written, e.Total, e.Err)
}

func (e *WriteError) Unwrap() error { return e.Err }

// Written reports how many bytes of a job a failed Write handed on, when err carries a *WriteError.
func Written(err error) (n int, ok bool) {
	var we *WriteError
	if errors.As(err, &we) {
		return we.Written, true
	}
	return 0, false
}

// Err returns the sentinel error matching s.State (ErrMediaOut for StateMediaOut, …), or nil for states
// in which the printer can take a job (ready, busy, unknown).
func (s Status) Err() error {
	switch s.State {
	case StateMediaOut:
		return ErrMediaOut
	case StateHeadOpen:
		return ErrHeadOpen
	case StatePaused:
		return ErrPaused
	case StateRibbonOut:
		return ErrRibbonOut
	case StateOffline:
		return ErrDisconnected
	case StateError:
		return ErrFault
	}
	return nil
}
