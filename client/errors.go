package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Error codes the server answers (docs/server.md, "REST API").
const (
	CodeBadRequest       = "bad_request"
	CodeConfirmation     = "confirmation_required"
	CodeUnauthenticated  = "unauthenticated"
	CodeForbidden        = "forbidden"
	CodeKeyInactive      = "key_inactive"
	CodeKeyRevoked       = "key_revoked"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeConflict         = "conflict"
	CodeTooLarge         = "payload_too_large"
	CodeRateLimited      = "rate_limited"
	CodeInternal         = "internal"
	CodeUnavailable      = "unavailable"
)

// Error is an error answer of the server: its HTTP status and its {"error":{"code","message"}}.
type Error struct {
	Method, Path string
	Status       int    // HTTP status
	Code         string // the server's code (Code… constants); "" when the body had none
	Message      string // the server's message (never a secret: the server redacts them)
	// RetryAfter is the answer's Retry-After (429, 503), 0 when absent.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	code := e.Code
	if code == "" {
		code = http.StatusText(e.Status)
	}
	if e.Message == "" {
		return fmt.Sprintf("client: %s %s: HTTP %d %s", e.Method, e.Path, e.Status, code)
	}
	return fmt.Sprintf("client: %s %s: HTTP %d %s: %s", e.Method, e.Path, e.Status, code, e.Message)
}

// Is makes errors.Is(err, &Error{Code: c}) or &Error{Status: s} match by code or status.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return (t.Code == "" || t.Code == e.Code) && (t.Status == 0 || t.Status == e.Status)
}

// Sentinels to test errors with errors.Is.
var (
	ErrNotFound        = &Error{Code: CodeNotFound}
	ErrConflict        = &Error{Code: CodeConflict}
	ErrUnauthenticated = &Error{Code: CodeUnauthenticated}
	ErrForbidden       = &Error{Code: CodeForbidden}
	ErrRateLimited     = &Error{Code: CodeRateLimited}
)

// ErrorCode is the server's code of err ("" when err is not an *Error).
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func newError(method, path string, resp *http.Response, body []byte) *Error {
	e := &Error{Method: method, Path: path, Status: resp.StatusCode,
		RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now())}
	var b struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &b) == nil {
		e.Code, e.Message = b.Error.Code, b.Error.Message
	}
	return e
}
