// Package api is printdock-server's REST API and agent websocket endpoint: a thin HTTP layer that
// authenticates bearers (personal API keys, OAuth access tokens; print client secrets and the shared
// secret on the agent endpoint only), rate-limits failed authentications per client address, decodes
// bounded JSON, calls keys.Service for everything about credentials and the hub for live connections, and
// answers JSON (errors as {"error":{"code":…,"message":…}}). Print jobs, printers and clients go to
// jobs.Service. It also serves /oauth/token, /healthz and /metrics. Routes and shapes: docs/server.md.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"printdock/server/api/openapi"
	"printdock/server/httpx"
	"printdock/server/hub"
	"printdock/server/jobs"
	"printdock/server/keys"
	"printdock/server/store"
	"printdock/server/store/fault"
)

// Keys is the part of keys.Service the API calls.
type Keys interface {
	Authenticate(ctx context.Context, secret, deviceID, remoteAddr string) (keys.Principal, error)
	PrinterAlertAfter(ctx context.Context, a keys.Actor) (time.Duration, error)
	Touch(ctx context.Context, p keys.Principal)

	CreateClientKey(ctx context.Context, a keys.Actor, opts keys.NewClientKey) (keys.Created, error)
	ListClientKeys(ctx context.Context, a keys.Actor, p store.Page) ([]keys.ClientKey, error)
	GetClientKey(ctx context.Context, a keys.Actor, id string) (keys.ClientKey, error)
	RotateClientKey(ctx context.Context, a keys.Actor, id string) (keys.Created, error)
	SetClientKeyActive(ctx context.Context, a keys.Actor, id string, active bool) (keys.ClientKey, error)
	GiveOwnSecret(ctx context.Context, a keys.Actor, id string) (keys.Created, error)
	SetExpiry(ctx context.Context, a keys.Actor, id string, at *time.Time) error
	UseSharedSecret(ctx context.Context, a keys.Actor, id string) (keys.Created, error)
	RevokeClientKey(ctx context.Context, a keys.Actor, id string) (keys.ClientKey, error)
	DeleteClientKey(ctx context.Context, a keys.Actor, id string) error

	Me(ctx context.Context, a keys.Actor) (keys.User, error)
	RotateOwnAPIKey(ctx context.Context, a keys.Actor, confirm bool) (string, error)
	RotateUserAPIKey(ctx context.Context, a keys.Actor, userID string) (string, error)
	RollOwnAPIKey(ctx context.Context, a keys.Actor, confirm bool, grace time.Duration) (keys.Rolled, error)
	RollUserAPIKey(ctx context.Context, a keys.Actor, userID string, grace time.Duration) (keys.Rolled, error)
	ListUsers(ctx context.Context, a keys.Actor, p store.Page) ([]keys.User, error)
	CreateUser(ctx context.Context, a keys.Actor, email string, role keys.Role) (keys.User, string, string, error)

	SetUserRole(ctx context.Context, a keys.Actor, userID string, role keys.Role) (keys.User, error)
	DeleteUser(ctx context.Context, a keys.Actor, userID string) error

	ResetSharedSecret(ctx context.Context, a keys.Actor, confirmation string, resetDevices bool) (string, error)
	SharedDevices(ctx context.Context, a keys.Actor, p store.Page) ([]keys.ClientKey, error)

	CreateOAuthClientWith(ctx context.Context, a keys.Actor, opts keys.NewOAuthClient) (keys.OAuthClient, string, error)
	SetOAuthClientActive(ctx context.Context, a keys.Actor, id string, active bool) (keys.OAuthClient, error)
	ListOAuthClients(ctx context.Context, a keys.Actor, p store.Page) ([]keys.OAuthClient, error)
	RevokeOAuthClient(ctx context.Context, a keys.Actor, id string) (keys.OAuthClient, error)
	DeleteOAuthClient(ctx context.Context, a keys.Actor, id string) error
	RotateOAuthClient(ctx context.Context, a keys.Actor, id string, grace time.Duration) (keys.OAuthClient, keys.Rolled, error)

	IssueToken(ctx context.Context, clientID, clientSecret, remoteAddr string) (string, time.Duration, error)

	Audit(ctx context.Context, a keys.Actor, f keys.AuditFilter) ([]keys.AuditEntry, error)
}

// Jobs is the part of jobs.Service the API calls. It authorizes by portal itself; the API checks roles
// where jobs.Service leaves that to the caller (ListClients: administrators).
type Jobs interface {
	Submit(ctx context.Context, a keys.Actor, printerID string, req jobs.SubmitRequest) (jobs.Job, bool, error)
	Get(ctx context.Context, a keys.Actor, id string) (jobs.Job, error)
	Events(ctx context.Context, a keys.Actor, id string, p store.Page) ([]jobs.Event, error)
	List(ctx context.Context, a keys.Actor, f jobs.ListFilter) ([]jobs.Job, error)
	Cancel(ctx context.Context, a keys.Actor, id string) (jobs.Job, error)
	ListPrinters(ctx context.Context, portalID string, p store.Page) ([]jobs.Printer, error)
	GetPrinter(ctx context.Context, portalID, printerID string) (jobs.Printer, error)
	ListClients(ctx context.Context, portalID string, p store.Page) ([]jobs.Client, error)
}

var _ Jobs = (*jobs.Service)(nil)

// Options configure the API.
type Options struct {
	Keys    Keys
	Jobs    Jobs // nil: the job, printer and client endpoints answer 503
	Hub     *hub.Hub
	Log     *slog.Logger
	Metrics *Metrics
	// Limiter counts failed authentications per client address; nil means 10 a minute, burst 20.
	Limiter *httpx.FailureLimiter
	// Ready reports whether the server can serve (e.g. the store answers); nil means always.
	Ready func(ctx context.Context) error
	// MetricsPublic serves GET /metrics to every client. By default (false) only loopback clients
	// (127.0.0.0/8, ::1; the TCP peer) get the metrics and others 403 (--metrics-public).
	MetricsPublic bool
	// Webhooks and Events serve /api/v1/webhooks and the event stream /api/v1/events (nil: 503).
	Webhooks Webhooks
	Events   EventLog
	// Clock is the time printers' alert field is computed at (time.Now when nil; the server passes its
	// job clock).
	Clock func() time.Time
}

// API is the HTTP handler.
type API struct {
	keys    Keys
	jobs    Jobs
	hub     *hub.Hub
	log     *slog.Logger
	metrics *Metrics
	limiter *httpx.FailureLimiter
	ready   func(ctx context.Context) error
	public  bool // metrics for every client
	mux     *http.ServeMux
	handler http.Handler
	paths   []string // every route's pattern, for Routes

	webhooks Webhooks
	events   EventLog
	streams  streamSet        // the open event streams, ended by key changes (streams.go)
	clock    func() time.Time // Options.Clock (nil: time.Now)
}

// New returns the API handler.
func New(o Options) *API {
	a := &API{
		keys:    o.Keys,
		clock:   o.Clock,
		jobs:    o.Jobs,
		hub:     o.Hub,
		log:     o.Log,
		metrics: o.Metrics,
		limiter: o.Limiter,
		ready:   o.Ready,
		public:  o.MetricsPublic,
		mux:     http.NewServeMux(),

		webhooks: o.Webhooks,
		events:   o.Events,
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.metrics == nil {
		a.metrics = newMetricsForHub(o.Hub)
	}
	if a.limiter == nil {
		a.limiter = httpx.NewFailureLimiter(10, 20)
	}
	a.routes()
	a.handler = httpx.RequestLog(a.log, a.metrics.observe, http.HandlerFunc(a.dispatch))
	return a
}

// Metrics returns the API's metrics.
func (a *API) Metrics() *Metrics { return a.metrics }

// Limiter returns the failed-authentication limiter.
func (a *API) Limiter() *httpx.FailureLimiter { return a.limiter }

// ServeHTTP serves every route.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

func (a *API) routes() {
	m := routeMux{a}
	m.HandleFunc("GET /healthz", a.healthz)
	m.HandleFunc("GET "+openapi.Path, openapi.ServeHTTP)
	m.Handle("GET /metrics", a.metricsGuard(a.metrics.Handler()))
	m.HandleFunc("POST /oauth/token", a.oauthToken)
	m.HandleFunc("GET /api/v1/agent/ws", a.agentWS)

	m.HandleFunc("POST /api/v1/print-client-secrets", a.user(a.createClientKey))
	m.HandleFunc("GET /api/v1/print-client-secrets", a.user(a.listClientKeys))
	m.HandleFunc("GET /api/v1/print-client-secrets/{id}", a.user(a.getClientKey))
	m.HandleFunc("DELETE /api/v1/print-client-secrets/{id}", a.user(a.deleteClientKey))
	m.HandleFunc("POST /api/v1/print-client-secrets/{id}/rotate", a.user(a.rotateClientKey))
	m.HandleFunc("POST /api/v1/print-client-secrets/{id}/activate", a.user(a.activateClientKey))
	m.HandleFunc("POST /api/v1/print-client-secrets/{id}/deactivate", a.user(a.deactivateClientKey))
	m.HandleFunc("POST /api/v1/print-client-secrets/{id}/revoke", a.user(a.revokeClientKey))
	m.HandleFunc("POST /api/v1/print-client-secrets/{id}/own-secret", a.user(a.moveClientKey(true)))
	m.HandleFunc("POST /api/v1/print-client-secrets/{id}/use-shared-secret", a.user(a.moveClientKey(false)))

	m.HandleFunc("PUT /api/v1/keys/{id}/expiry", a.user(a.setExpiry))
	m.HandleFunc("GET /api/v1/me", a.user(a.me))
	m.HandleFunc("POST /api/v1/me/api-key/rotate", a.user(a.rotateOwnAPIKey))
	m.HandleFunc("GET /api/v1/users", a.user(a.listUsers))
	m.HandleFunc("POST /api/v1/users", a.user(a.createUser))
	m.HandleFunc("PATCH /api/v1/users/{id}", a.user(a.updateUser))
	m.HandleFunc("DELETE /api/v1/users/{id}", a.user(a.deleteUser))
	m.HandleFunc("POST /api/v1/users/{id}/api-key/rotate", a.user(a.rotateUserAPIKey))

	m.HandleFunc("POST /api/v1/shared-secret/reset", a.user(a.resetSharedSecret))
	m.HandleFunc("GET /api/v1/shared-secret/devices", a.user(a.sharedDevices))
	m.HandleFunc("GET /api/v1/oauth-clients", a.user(a.listOAuthClients))
	m.HandleFunc("POST /api/v1/oauth-clients", a.user(a.createOAuthClient))
	m.HandleFunc("POST /api/v1/oauth-clients/{id}/revoke", a.user(a.revokeOAuthClient))
	m.HandleFunc("POST /api/v1/oauth-clients/{id}/activate", a.user(a.setOAuthClientActive(true)))
	m.HandleFunc("POST /api/v1/oauth-clients/{id}/deactivate", a.user(a.setOAuthClientActive(false)))
	m.HandleFunc("DELETE /api/v1/oauth-clients/{id}", a.user(a.deleteOAuthClient))
	m.HandleFunc("POST /api/v1/oauth-clients/{id}/rotate", a.user(a.rotateOAuthClient))
	m.HandleFunc("GET /api/v1/audit", a.user(a.audit))
	m.HandleFunc("GET /api/v1/clients", a.user(a.clients))

	m.HandleFunc("GET /api/v1/printers", a.user(a.listPrinters))
	m.HandleFunc("GET /api/v1/printers/{printer_id}", a.user(a.getPrinter))
	m.HandleFunc("POST /api/v1/printers/{printer_id}/jobs", a.user(a.submitJob))
	m.HandleFunc("GET /api/v1/jobs", a.user(a.listJobs))
	m.HandleFunc("GET /api/v1/jobs/{id}", a.user(a.getJob))
	m.HandleFunc("GET /api/v1/jobs/{id}/events", a.user(a.jobEvents))
	m.HandleFunc("DELETE /api/v1/jobs/{id}", a.user(a.cancelJob))
	a.webhookRoutes(m)
}

// dispatch serves a matched route, and answers unmatched ones (404, 405) in JSON.
func (a *API) dispatch(w http.ResponseWriter, r *http.Request) {
	h, pattern := a.mux.Handler(r)
	if pattern != "" {
		a.mux.ServeHTTP(w, r)
		return
	}
	rec := &capture{header: http.Header{}}
	h.ServeHTTP(rec, r)
	switch rec.code {
	case http.StatusNotFound:
		httpx.WriteError(w, http.StatusNotFound, httpx.CodeNotFound, "no such endpoint")
	case http.StatusMethodNotAllowed:
		if allow := rec.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		httpx.WriteError(w, http.StatusMethodNotAllowed, httpx.CodeMethodNotAllowed,
			"method "+r.Method+" is not allowed here")
	default: // a redirect to the cleaned path
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		if rec.code == 0 {
			rec.code = http.StatusOK
		}
		w.WriteHeader(rec.code)
	}
}

// capture records what the mux's own 404/405/redirect handlers answer.
type capture struct {
	header http.Header
	code   int
}

func (c *capture) Header() http.Header         { return c.header }
func (c *capture) Write(b []byte) (int, error) { return len(b), nil }
func (c *capture) WriteHeader(code int) {
	if c.code == 0 {
		c.code = code
	}
}

func (a *API) healthz(w http.ResponseWriter, r *http.Request) {
	if a.hub != nil && a.hub.Closing() {
		httpx.WriteError(w, http.StatusServiceUnavailable, httpx.CodeUnavailable, "shutting down")
		return
	}
	if a.ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.ready(ctx); err != nil {
			a.log.Error("health check", "err", err)
			httpx.WriteError(w, http.StatusServiceUnavailable, httpx.CodeUnavailable, "not ready")
			return
		}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// metricsGuard serves the metrics only to loopback clients unless Options.MetricsPublic: they describe
// the server's load, agents and failures, which is nobody else's business. Others get 403. (A reverse
// proxy on the same host makes every client loopback: block /metrics there.)
func (a *API) metricsGuard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.public && !httpx.ClientAddr(r).IsLoopback() {
			httpx.WriteError(w, http.StatusForbidden, httpx.CodeForbidden,
				"metrics are served to loopback clients only (see the server's --metrics-public)")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// fail answers err from keys.Service with the matching status.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, httpx.ErrBadBody):
		// already answered
	case errors.Is(err, keys.ErrUnauthenticated):
		w.Header().Set("WWW-Authenticate", `Bearer realm="printdock"`)
		httpx.WriteError(w, http.StatusUnauthorized, httpx.CodeUnauthenticated, "invalid credentials")
	case errors.Is(err, keys.ErrForbidden):
		httpx.WriteError(w, http.StatusForbidden, httpx.CodeForbidden, "you are not allowed to do this")
	case errors.Is(err, keys.ErrInactive):
		httpx.WriteError(w, http.StatusForbidden, "key_inactive", "the key is inactive")
	case errors.Is(err, keys.ErrRevoked):
		httpx.WriteError(w, http.StatusForbidden, "key_revoked", "the key is revoked")
	case errors.Is(err, keys.ErrNotFound):
		httpx.WriteError(w, http.StatusNotFound, httpx.CodeNotFound, "not found")
	case errors.Is(err, keys.ErrConflict):
		httpx.WriteError(w, http.StatusConflict, httpx.CodeConflict, clientMessage(err))
	case errors.Is(err, keys.ErrConfirmationRequired):
		httpx.WriteError(w, http.StatusBadRequest, httpx.CodeConfirmation, clientMessage(err))
	case errors.Is(err, keys.ErrInvalid):
		httpx.WriteError(w, http.StatusBadRequest, httpx.CodeBadRequest, clientMessage(err))
	case errors.Is(err, context.Canceled):
		httpx.WriteError(w, 499, "cancelled", "request cancelled")
	case fault.Of(err) != fault.None:
		writeFault(w, r, a.log, err)
	default:
		a.log.ErrorContext(r.Context(), "request failed", "route", r.Pattern, "err", httpx.RedactSecrets(err.Error()))
		httpx.WriteError(w, http.StatusInternalServerError, httpx.CodeInternal, "internal error")
	}
}

// clientMessage is the text of a 400/409 error from keys (written to be shown, never holding a secret).
func clientMessage(err error) string { return httpx.RedactSecrets(err.Error()) }
