// Package check validates HTTP responses against the OpenAPI document of package openapi (kin-openapi's
// openapi3filter): the servertest harness wraps every test server with it. It is a package of its own so
// that the server binary does not link the validator.
package check

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"printdock/internal/clip"
	"printdock/server/httpx"
)

// maxValidatedBody bounds the response body a Validator keeps; a longer one is checked for its status
// and headers only.
const maxValidatedBody = 16 << 20

// Validator checks HTTP responses against the document: the status must be documented for the
// operation, and the headers and body must match its schemas. Requests to paths or methods the document
// does not describe (the portal, unknown routes, 405s), websocket upgrades and answers to clients that
// went away (499) are not checked. It is safe for concurrent use.
type Validator struct {
	router routers.Router

	mu       sync.Mutex
	failures []string
	checked  int
}

// The event stream (GET /api/v1/events) answers text/event-stream, which the document describes as a
// string.
func init() { openapi3filter.RegisterBodyDecoder("text/event-stream", openapi3filter.PlainBodyDecoder) }

// NewValidator returns a Validator for the embedded document.
func NewValidator() (*Validator, error) {
	doc, err := load()
	if err != nil {
		return nil, err
	}
	r, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi: router: %w", err)
	}
	return &Validator{router: r}, nil
}

// Check validates one response to req. It returns nil when the response matches the document or req
// is not one the document describes.
func (v *Validator) Check(ctx context.Context, req *http.Request, status int, header http.Header, body []byte, bodyComplete bool) error {
	if status == 499 || isUpgrade(req) {
		return nil
	}
	route, params, err := v.router.FindRoute(req)
	if err != nil || slices.Contains(slices.Collect(maps.Values(params)), "") {
		// Not described: the portal, an unknown route, a method not allowed. (The router matches
		// "/users" to "/users/{id}" with an empty id, which net/http's ServeMux does not.)
		return nil
	}
	v.mu.Lock()
	v.checked++
	v.mu.Unlock()
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, ExcludeResponseBody: !bodyComplete,
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(ctx, in); err != nil {
		// The error quotes the body, which may hold a secret issued to the test: redact it.
		return fmt.Errorf("%s %s: %d: %s", req.Method, req.URL.Path, status,
			clip.String(httpx.RedactSecrets(err.Error()), 4000))
	}
	return nil
}

// Wrap returns h with every response checked; failures are kept for Failures.
func (v *Validator) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isUpgrade(r) {
			h.ServeHTTP(w, r)
			return
		}
		rw := &recordingWriter{ResponseWriter: w}
		h.ServeHTTP(rw, r)
		if rw.status == 0 {
			rw.status = http.StatusOK
		}
		if err := v.Check(r.Context(), r, rw.status, w.Header(), rw.body.Bytes(), !rw.truncated); err != nil {
			v.mu.Lock()
			v.failures = append(v.failures, err.Error())
			v.mu.Unlock()
		}
	})
}

// Failures returns every failed check so far.
func (v *Validator) Failures() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.failures...)
}

// Checked returns how many responses were checked against an operation of the document.
func (v *Validator) Checked() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.checked
}

func isUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// recordingWriter passes a response through and keeps its status and (bounded) body.
type recordingWriter struct {
	http.ResponseWriter
	status    int
	body      bytes.Buffer
	truncated bool
}

func (w *recordingWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.body.Len()+len(b) <= maxValidatedBody {
		w.body.Write(b)
	} else {
		w.truncated = true
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (deadlines, flushes).
func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes flushes through (streamed answers).
func (w *recordingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack passes hijacking through (a handler taking over the connection).
func (w *recordingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}
