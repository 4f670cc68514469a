package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Host is the fixed Host every local API request must carry. A browser page cannot send it to a unix
// socket, and a DNS-rebinding attack against a TCP port would carry the attacker's host instead; together
// with the Origin check this keeps web pages out of the local API.
const Host = "local-printdock.sock"

// Prefix is the path prefix of every route.
const Prefix = "/localapi/v0/"

// maxBody bounds a request body (a login request is a few hundred bytes).
const maxBody = 64 << 10

// Backend is what the handler serves: the agent implements it. Methods return an *APIError to choose
// the answer's status and code; any other error becomes a 500 with the error's text (which, like every
// error in the agent, never contains a secret).
type Backend interface {
	Status(ctx context.Context) Status
	// Subscribe returns a channel that receives the newest Status after every change (older unread
	// values are replaced, so a slow reader only ever sees the latest) and a function that ends the
	// subscription.
	Subscribe() (<-chan Status, func())
	Login(ctx context.Context, req LoginRequest) (Status, error)
	Logout(ctx context.Context) (Status, error)
	Printers(ctx context.Context) ([]Printer, error)
	TestPrint(ctx context.Context, req TestPrintRequest) (TestPrintResult, error)
	Jobs(ctx context.Context) ([]Job, error)
	Logs(ctx context.Context, n int) ([]LogEntry, error)
}

// PreviewBackend is a Backend that can render a job's label (GET job-preview?id=ID). A Backend without
// it answers that route 404.
type PreviewBackend interface {
	JobPreview(ctx context.Context, id string) (JobPreview, error)
}

// DiscardBackend is a Backend that can discard a job waiting on its printer (POST job-discard). A
// Backend without it answers that route 404.
type DiscardBackend interface {
	DiscardJob(ctx context.Context, id string) (Job, error)
}

// Handler serves the local API for a Backend.
type Handler struct {
	b      Backend
	log    *slog.Logger
	access Access
	routes map[string]route // by name under Prefix
}

type route struct {
	method string
	// admin, when set, is the plain-language refusal for a caller who is not an administrator: the
	// route is for administrators only (see Access).
	admin string
	serve http.HandlerFunc
}

// Refusals of the administrative routes.
const (
	msgAdminLogin = "Only an administrator can sign this PC in or out of printdock: ask IT, " +
		"or run `sudo printdock-agent login --server URL` (or `sudo printdock-agent logout`)"
	msgAdminLogs = "Only an administrator can read the printdock agent's logs: ask IT, or run `sudo printdock-agent logs`"
)

// NewHandler returns the local API handler: one route table under /localapi/v0/.
//
//	GET  status      Status
//	POST login       LoginRequest → Status
//	POST logout      → Status
//	GET  printers    []Printer
//	POST test-print  TestPrintRequest → TestPrintResult
//	GET  jobs        []Job
//	GET  job-preview?id=ID  JobPreview (the job's label as PNG)
//	POST job-discard DiscardRequest → Job (a job waiting on its printer never prints; 409 when too late)
//	GET  logs?n=N    []LogEntry (newest last, default 200)
//	GET  watch       Status as JSON lines: the current one at once, then one per change
//
// Every request with an Origin header, or with a Host other than Host, is refused with 403; an unknown
// route is 404, a known route with the wrong method 405, each with an Error body. login, logout and logs
// are for administrators (Access; the default Access until SetAccess): others get 403 admin_required.
func NewHandler(b Backend, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.Default()
	}
	h := &Handler{b: b, log: log, access: Access{}.withDefaults()}
	h.routes = map[string]route{
		"status":      {method: http.MethodGet, serve: h.status},
		"login":       {method: http.MethodPost, admin: msgAdminLogin, serve: h.login},
		"logout":      {method: http.MethodPost, admin: msgAdminLogin, serve: h.logout},
		"printers":    {method: http.MethodGet, serve: h.printers},
		"test-print":  {method: http.MethodPost, serve: h.testPrint},
		"jobs":        {method: http.MethodGet, serve: h.jobs},
		"job-preview": {method: http.MethodGet, serve: h.jobPreview},
		"job-discard": {method: http.MethodPost, serve: h.jobDiscard},
		"logs":        {method: http.MethodGet, admin: msgAdminLogs, serve: h.logs},
		"watch":       {method: http.MethodGet, serve: h.watch},
	}
	return h
}

// SetAccess sets who may use the administrative routes (call it before serving). It returns h.
func (h *Handler) SetAccess(a Access) *Handler {
	h.access = a.withDefaults()
	return h
}

// admin reports whether r comes from an administrator (see Access).
func (h *Handler) admin(r *http.Request, route string) bool {
	p, err := peerOf(r, h.access.PeerCred)
	switch {
	case err != nil:
		h.log.Warn("localapi: cannot tell who is calling; refusing an administrative route", "route", route, "error", err)
		return false
	case p == nil:
		return true // no credentials on this connection: whoever can connect decides (see Access)
	case h.access.IsAdmin(*p):
		return true
	}
	h.log.Warn("localapi: refused an administrative route to a user who is not an administrator",
		"route", route, "uid", p.UID, "gid", p.GID, "pid", p.PID)
	return false
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Origin") != "" {
		writeError(w, NewError(http.StatusForbidden, CodeForbidden, "requests from web pages are not allowed", nil))
		return
	}
	if !hostAllowed(r.Host) {
		writeError(w, NewError(http.StatusForbidden, CodeForbidden, "wrong Host for the local API", nil))
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, Prefix)
	rt, known := h.routes[name]
	if !ok || !known {
		writeError(w, NewError(http.StatusNotFound, CodeNotFound, "no such local API route: "+r.URL.Path, nil))
		return
	}
	if r.Method != rt.method {
		w.Header().Set("Allow", rt.method)
		writeError(w, NewError(http.StatusMethodNotAllowed, CodeMethodNotAllowed,
			"this local API route only accepts "+rt.method, nil))
		return
	}
	if rt.admin != "" && !h.admin(r, name) {
		writeError(w, NewError(http.StatusForbidden, CodeAdminRequired, rt.admin, nil))
		return
	}
	rt.serve(w, r)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, err error) {
	e := toAPIError(err)
	writeJSON(w, e.HTTPStatus, e.body())
}

func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return NewError(http.StatusBadRequest, CodeInvalidRequest, "the request body is not valid JSON for this route", err)
	}
	return nil
}

func (h *Handler) status(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, h.b.Status(r.Context()))
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	var req LoginRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	st, err := h.b.Login(r.Context(), req)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	st, err := h.b.Logout(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (h *Handler) printers(w http.ResponseWriter, r *http.Request) {
	ps, err := h.b.Printers(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	if ps == nil {
		ps = []Printer{}
	}
	writeJSON(w, http.StatusOK, ps)
}

func (h *Handler) testPrint(w http.ResponseWriter, r *http.Request) {
	var req TestPrintRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	res, err := h.b.TestPrint(r.Context(), req)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (h *Handler) jobs(w http.ResponseWriter, r *http.Request) {
	js, err := h.b.Jobs(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	if js == nil {
		js = []Job{}
	}
	writeJSON(w, http.StatusOK, js)
}

func (h *Handler) jobPreview(w http.ResponseWriter, r *http.Request) {
	pb, ok := h.b.(PreviewBackend)
	if !ok {
		writeError(w, NewError(http.StatusNotFound, CodeNotFound, "this agent keeps no job previews", nil))
		return
	}
	id := r.URL.Query().Get("id")
	if id == "" {
		writeError(w, NewError(http.StatusBadRequest, CodeInvalidRequest, "job-preview needs ?id=JOB_ID", nil))
		return
	}
	res, err := pb.JobPreview(r.Context(), id)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (h *Handler) jobDiscard(w http.ResponseWriter, r *http.Request) {
	db, ok := h.b.(DiscardBackend)
	if !ok {
		writeError(w, NewError(http.StatusNotFound, CodeNotFound, "this agent cannot discard jobs", nil))
		return
	}
	var req DiscardRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	if req.JobID == "" {
		writeError(w, NewError(http.StatusBadRequest, CodeInvalidRequest, "job-discard needs a job_id", nil))
		return
	}
	res, err := db.DiscardJob(r.Context(), req.JobID)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (h *Handler) logs(w http.ResponseWriter, r *http.Request) {
	n := 200
	if s := r.URL.Query().Get("n"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			writeError(w, NewError(http.StatusBadRequest, CodeInvalidRequest, "n must be a positive number of lines", err))
			return
		}
		n = v
	}
	ls, err := h.b.Logs(r.Context(), n)
	if err != nil {
		writeError(w, err)
		return
	}
	if ls == nil {
		ls = []LogEntry{}
	}
	writeJSON(w, http.StatusOK, ls)
}

// watchKeepalive is how often watch writes a blank line so that a dead client is noticed.
const watchKeepalive = 30 * time.Second

func (h *Handler) watch(w http.ResponseWriter, r *http.Request) {
	ch, cancel := h.b.Subscribe()
	defer cancel()
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	send := func(st Status) bool {
		if err := enc.Encode(st); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send(h.b.Status(r.Context())) {
		return
	}
	keep := time.NewTicker(watchKeepalive)
	defer keep.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case st, ok := <-ch:
			if !ok || !send(st) {
				return
			}
		case <-keep.C:
			if _, err := io.WriteString(w, "\n"); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}

// Serve serves h on ln until ctx is done, then shuts down (giving open requests a moment) and returns.
// Every connection is remembered in its requests' context (ConnContext) so that a Handler can read the
// caller's credentials.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ConnContext:       ConnContext,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	<-errc
	return nil
}

// hostAllowed reports whether a request's Host is the local API's fixed host (with or without a port).
func hostAllowed(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.EqualFold(host, Host)
}
