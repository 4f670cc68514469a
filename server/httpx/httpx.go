// Package httpx owns the small HTTP helpers every printdock-server handler shares: JSON answers and the
// JSON error shape `{"error":{"code":…,"message":…}}`, bounded JSON request decoding, the client address
// used for rate limiting and logs, the per-address failed-authentication limiter, and the request log.
package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxBodySize bounds every JSON request body.
const MaxBodySize = 1 << 20

// Error codes used in JSON error answers.
const (
	CodeBadRequest       = "bad_request"
	CodeUnauthenticated  = "unauthenticated"
	CodeForbidden        = "forbidden"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeConflict         = "conflict"
	CodeTooLarge         = "payload_too_large"
	CodeRateLimited      = "rate_limited"
	CodeConfirmation     = "confirmation_required"
	CodeInternal         = "internal"
	CodeUnavailable      = "unavailable"
)

// ErrorBody is the JSON error shape.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// WriteError writes the JSON error shape. message must never contain a secret.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	WriteJSON(w, status, ErrorBody{Error: ErrorDetail{Code: code, Message: message}})
}

// WriteRateLimited answers 429 with a Retry-After header (whole seconds, at least 1).
func WriteRateLimited(w http.ResponseWriter, retryAfter time.Duration) {
	secs := int((retryAfter + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	WriteError(w, http.StatusTooManyRequests, CodeRateLimited,
		fmt.Sprintf("too many failed authentications from this address; retry in %d s", secs))
}

// ErrBadBody is wrapped by DecodeJSON's errors; DecodeJSON has already answered when it returns one.
var ErrBadBody = errors.New("bad request body")

// DecodeJSON reads one JSON object from r's body into v: at most MaxBodySize bytes (413 beyond), no unknown
// fields, no trailing data (400). An empty body decodes as {} when allowEmpty is true. On failure it
// writes the error answer itself and returns an error wrapping ErrBadBody.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any, allowEmpty bool) error {
	body := http.MaxBytesReader(w, r.Body, MaxBodySize)
	data, err := io.ReadAll(body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			WriteError(w, http.StatusRequestEntityTooLarge, CodeTooLarge,
				fmt.Sprintf("the body is larger than %d bytes", MaxBodySize))
			return fmt.Errorf("%w: too large", ErrBadBody)
		}
		WriteError(w, http.StatusBadRequest, CodeBadRequest, "could not read the request body")
		return fmt.Errorf("%w: read: %v", ErrBadBody, err)
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		if allowEmpty {
			return nil
		}
		WriteError(w, http.StatusBadRequest, CodeBadRequest, "the request body is empty; a JSON object is required")
		return fmt.Errorf("%w: empty", ErrBadBody)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		WriteError(w, http.StatusBadRequest, CodeBadRequest, "malformed JSON: "+jsonErrorText(err))
		return fmt.Errorf("%w: %v", ErrBadBody, err)
	}
	if dec.More() {
		WriteError(w, http.StatusBadRequest, CodeBadRequest, "malformed JSON: unexpected data after the object")
		return fmt.Errorf("%w: trailing data", ErrBadBody)
	}
	return nil
}

// jsonErrorText describes a decoding error without echoing values from the body (which might hold a
// secret pasted into the wrong field).
func jsonErrorText(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("field %q must be %s", te.Field, te.Type.String())
		}
		return fmt.Sprintf("expected %s", te.Type.String())
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "the JSON is truncated"
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return "unknown field " + safeField(f)
	}
	return "not a valid JSON object"
}

// safeField returns a quoted field name only when it is short and looks like an identifier.
func safeField(q string) string {
	name := strings.Trim(q, `"`)
	if len(name) > 40 {
		return "(long name)"
	}
	for _, c := range name {
		if !(c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return "(unprintable name)"
		}
	}
	if strings.HasPrefix(name, "pd") && len(name) > 8 {
		return "(unrecognized name)"
	}
	return strconvQuote(name)
}

func strconvQuote(s string) string { return strconv.Quote(s) }
