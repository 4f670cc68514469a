package localapi

import (
	"errors"
	"net/http"
)

// APIError is the Go form of an Error body: what the client returns for a non-2xx answer and what a
// Backend returns to choose the answer's status and code. Message is plain language for staff and never
// contains a secret.
type APIError struct {
	HTTPStatus int
	Code       string
	Message    string
	Err        error // the cause, for errors.Is on the agent's side; not sent over the wire
}

func (e *APIError) Error() string { return e.Message }

func (e *APIError) Unwrap() error { return e.Err }

// ErrAgentNotRunning is returned (wrapped in an *APIError with CodeAgentNotRunning) by the client when no
// agent answers on the local socket.
var ErrAgentNotRunning = errors.New("the printdock agent is not running")

// NewError returns an *APIError.
func NewError(status int, code, message string, cause error) *APIError {
	return &APIError{HTTPStatus: status, Code: code, Message: message, Err: cause}
}

// ErrorCode returns the Code of the *APIError in err's chain, or "" when there is none.
func ErrorCode(err error) string {
	var e *APIError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func toAPIError(err error) *APIError {
	var e *APIError
	if errors.As(err, &e) {
		if e.HTTPStatus == 0 {
			c := *e
			c.HTTPStatus = http.StatusInternalServerError
			return &c
		}
		return e
	}
	return &APIError{HTTPStatus: http.StatusInternalServerError, Code: CodeInternal, Message: err.Error(), Err: err}
}

func (e *APIError) body() Error {
	var b Error
	b.Error.Code = e.Code
	b.Error.Message = e.Message
	return b
}
