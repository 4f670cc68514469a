package agent

import (
	"errors"
	"fmt"
	"time"
)

// Errors callers branch on (errors.Is). The error values the agent returns carry a plain-language
// message for staff and wrap one of these; none ever contains a secret.
var (
	ErrInvalidSecret     = errors.New("invalid secret")           // failed the local prefix/checksum check
	ErrDeviceIDRequired  = errors.New("device id required")       // a shared secret (pds_) without a device ID
	ErrUnauthorized      = errors.New("secret refused")           // the server answered 401
	ErrForbidden         = errors.New("key not allowed")          // the server answered 403 (inactive, revoked)
	ErrServerUnreachable = errors.New("server unreachable")       // network, TLS, proxy or server error
	ErrNotLoggedIn       = errors.New("not logged in")            // no secret stored
	ErrNotStarted        = errors.New("agent not started")        // Wait before Start
	ErrAlreadyStarted    = errors.New("agent already started")    // Start twice
	ErrPrinterNotFound   = errors.New("printer not found")        // no such printer, or none at all
	ErrDeadLink          = errors.New("heartbeat timeout")        // the server went silent for 3 intervals
	ErrLoggedOut         = errors.New("logged out by the server") // see LogoutError
	ErrJobNotFound       = errors.New("job not found")            // no such job in the spool
	ErrNoPreview         = errors.New("no preview")               // the job's content cannot be rendered
	// ErrNotPrintdock: something answered 401/403 that is not printdock-server (a proxy, a login page,
	// a wrong address). It comes with ErrServerUnreachable: the agent keeps the secret and retries.
	ErrNotPrintdock = errors.New("not a printdock server")
)

// userError is an error whose text is a plain-language sentence for staff; it wraps a sentinel and a
// cause for errors.Is/As.
type userError struct {
	msg   string
	kind  error
	cause error
}

func (e *userError) Error() string { return e.msg }

func (e *userError) Unwrap() []error {
	out := []error{e.kind}
	if e.cause != nil {
		out = append(out, e.cause)
	}
	return out
}

func uerr(kind, cause error, format string, args ...any) error {
	return &userError{msg: fmt.Sprintf(format, args...), kind: kind, cause: cause}
}

// LogoutError ends a session whose secret no longer works: the server sent logout, closed with 4001,
// or refused the secret (401/403) on connect. Reason is one of protocol.Reason*.
type LogoutError struct {
	Reason  string
	Message string // the server's words for staff (in_use: which installation uses the secret)
	Status  int    // HTTP status of a refused dial (401, 403), 0 otherwise
	Detail  string
}

func (e *LogoutError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("the server refused the secret (HTTP %d, %s)", e.Status, e.Reason)
	}
	return "the server logged this agent out (" + e.Reason + ")"
}

func (e *LogoutError) Unwrap() error { return ErrLoggedOut }

// retryAfterError asks the reconnect loop to wait at least d (HTTP 429 with Retry-After).
type retryAfterError struct {
	err error
	d   time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }
