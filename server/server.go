// Package server wires printdock-server together: it opens the store (embedded SQLite, or PostgreSQL shared
// by several replicas, which then exchange change events and job wake-ups through the store's
// notifications: replica.go), the key lifecycle (keys.Service),
// the print-job queue (jobs.Service, with its expiry sweeper), the websocket hub and the REST API and web
// portal into one http.Handler, bootstraps an empty store, and serves it —
// over TLS, or plain HTTP on loopback only — with a graceful shutdown that closes agent sessions with
// 4005. It is a library type (New, Handler, Serve, Shutdown) so tests run whole servers in-process (see
// server/servertest).
package server

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"printdock/printer/raster"
	"printdock/server/api"
	"printdock/server/events"
	"printdock/server/httpx"
	"printdock/server/hub"
	"printdock/server/jobs"
	"printdock/server/keys"
	"printdock/server/oidclogin"
	"printdock/server/portal"
	"printdock/server/store"
	"printdock/server/store/postgres"
	"printdock/server/store/retention"
	"printdock/server/store/sqlite"
	"printdock/server/webhooks"
)

// Defaults.
const (
	DefaultDataDir = "./printdock-data"
	DefaultListen  = "127.0.0.1:8080"
	// DatabaseFile is the SQLite file inside the data directory.
	DatabaseFile = "printdock.db"
	// DefaultPortalName names the portal that bootstrap creates.
	DefaultPortalName = "Default"
)

// Errors.
var (
	ErrInsecureListen = errors.New("refusing plain HTTP on a non-loopback address: give --tls-cert and --tls-key (or, dangerously, --insecure-http)")
	ErrTLSFlags       = errors.New("--tls-cert and --tls-key go together")
	// ErrPepperMismatch: this replica's pepper is not the one the shared database was set up with (wraps
	// keys.ErrPepperMismatch).
	ErrPepperMismatch = fmt.Errorf("%w: this replica's pepper differs from the one the database was first used with; "+
		"copy <data-dir>/%s from a working replica (every replica needs the same file)", keys.ErrPepperMismatch, keys.PepperFile)
)

// Config configures a Server. Zero values take defaults.
type Config struct {
	DataDir string // data directory (SQLite file, pepper); default ./printdock-data
	// DatabaseURL selects the store: "" = SQLite in DataDir; "sqlite:PATH" or "file:PATH"; a
	// postgres:// or postgresql:// URL = PostgreSQL (docs/postgres.md), which several replicas may share.
	// The pepper stays in DataDir either way, and every replica needs the same one.
	DatabaseURL string
	Log         *slog.Logger
	Version     string

	Heartbeat    time.Duration // agent ping interval (default 15 s)
	HelloTimeout time.Duration
	WriteTimeout time.Duration

	// Failed authentications allowed per client address: burst, then per minute.
	AuthFailuresPerMinute int // default 10
	AuthFailureBurst      int // default 20

	KeysOptions []keys.Option // extra keys.Service options (tests: cheap password hashing, clocks)

	// JobClock is the job queue's clock (time.Now when nil; tests move time to expire jobs).
	JobClock func() time.Time
	// JobSweepEvery is how often expired jobs are swept (default a minute).
	JobSweepEvery time.Duration
	// AlertSweepEvery is how often printers entering or leaving alert are swept for their
	// printer.status_changed events (default DefaultAlertSweepEvery, or a tenth of the smallest portal
	// threshold; alertsweep.go). Tests shorten it.
	AlertSweepEvery time.Duration
	// JobExpiry is how long a job waits for delivery when its request names no expiry (default
	// jobs.DefaultExpiry, 24 hours: a shipping label printed days late is a wrong label); at most
	// jobs.MaxExpiry.
	JobExpiry time.Duration

	// RevalidateEvery is how often, on a store shared by replicas, every agent session's key is
	// re-checked, in case a change event from another replica was lost (default 5 minutes; negative:
	// never). Unused with SQLite, where every change is seen in-process.
	RevalidateEvery time.Duration
	// MetricsPublic serves /metrics to every client; by default only loopback clients get it.
	MetricsPublic bool
	// MetricsListen (host:port) serves /metrics on a listener of its own, plain HTTP, to every client
	// that reaches it (the address is the access control); the main listener then serves no /metrics.
	// Empty: /metrics is on the main listener (loopback clients only unless MetricsPublic).
	MetricsListen string

	// TrustedProxies are the reverse proxies (CIDRs or addresses) whose X-Forwarded-For /
	// X-Forwarded-Proto / Forwarded headers are believed: the client address they report feeds the
	// sign-in lockout, the API's failure limiter, the audit log and the request log, and a request the
	// proxy received over HTTPS gets Secure __Host- cookies and HSTS. Empty: forwarding headers are ignored.
	TrustedProxies []string
	// LabelCacheDir keeps the PDF renderer's compiled code between runs (default <DataDir>/cache/pdf):
	// the first PDF label after a start then waits well under a second instead of several.
	LabelCacheDir string
	// SecureCookies forces Secure __Host- cookies even for requests that did not arrive over HTTPS (a
	// TLS proxy that does not send X-Forwarded-Proto).
	SecureCookies bool

	// Retention (package store/retention, docs/server.md): how long finished jobs' content (7 days),
	// finished jobs (90 days) and audit entries (400 days) are kept; 0 takes the default, a negative
	// duration keeps forever. RetentionEvery is the time between passes (an hour); with replicas one at a
	// time runs a pass.
	RetainJobContent time.Duration
	RetainJobs       time.Duration
	RetainAudit      time.Duration
	RetentionEvery   time.Duration
	// RetainEvents and RetainDeliveries: how long the event log and finished webhook deliveries are
	// kept (30 days each; never an event a pending delivery needs, never a pending delivery).
	RetainEvents     time.Duration
	RetainDeliveries time.Duration

	// MaxClientsPerKey bounds the agent installations one credential registers (default 10) and
	// MaxPrinters a portal's printers (default 1000); negative: unlimited (jobs.Options, caps.go).
	MaxClientsPerKey int
	MaxPrinters      int

	// OIDC, when set, offers the portal's sign-in with that OpenID provider (package oidclogin,
	// docs/server.md); OIDCPortal names the portal a first sign-in joins (ID or a member's e-mail).
	OIDC       *oidclogin.Config
	OIDCPortal string

	// WebhooksAllowPrivate lets webhooks reach private, loopback and link-local addresses
	// (--webhooks-allow-private); WebhookSender tunes their delivery (retries, timeout; tests).
	WebhooksAllowPrivate bool
	WebhookSender        webhooks.SenderOptions
}

// database is what the server needs of a store: sqlite.DB and postgres.DB.
type database interface {
	store.Store
	SchemaVersion(ctx context.Context) (int, error)
}

// Server is one printdock-server instance.
type Server struct {
	Keys    *keys.Service
	Jobs    *jobs.Service
	Hub     *hub.Hub
	API     *api.API
	Metrics *api.Metrics
	Portal  http.Handler // the web admin portal, mounted at "/"
	// Webhooks manages the portals' webhooks; Events wakes the readers of the event log.
	Webhooks *webhooks.Service
	Events   *events.Bus

	log         *slog.Logger
	trusted     httpx.TrustedProxies
	metrics     string // Config.MetricsListen
	metricsAddr atomic.Pointer[string]
	labels      *raster.Converter // PDF and PNG labels
	db          database
	replica     *replica // nil unless the store is shared by replicas (store.Notifier)
	stop        context.CancelFunc
	unsub       func()
	bg          sync.WaitGroup // the hub's event loop, the job sweeper and the replica loops
	once        sync.Once
	err         error
}

// New opens the store in cfg and returns a ready server (not yet listening).
func New(ctx context.Context, cfg Config) (*Server, error) {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir
	}
	trusted, err := httpx.ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("server: --trusted-proxy: %w", err)
	}
	if cfg.JobExpiry < 0 || cfg.JobExpiry > jobs.MaxExpiry {
		return nil, fmt.Errorf("server: job expiry %v: must be between 1s and %v", cfg.JobExpiry, jobs.MaxExpiry)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("server: data dir: %w", err)
	}
	db, err := openDatabase(ctx, cfg)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Server, error) {
		db.Close()
		return nil, err
	}
	// A pepper created now (pepper.new) is refused by keys.New when the database already holds keys.
	pepper, _, err := keys.LoadOrCreatePepperInfo(cfg.DataDir)
	if err != nil {
		return fail(fmt.Errorf("server: %w", err))
	}
	kopts := append([]keys.Option{keys.WithLogger(log.With("component", "keys")), keys.WithPepperDir(cfg.DataDir)},
		cfg.KeysOptions...)
	ks, err := keys.New(db, pepper, kopts...)
	if err != nil {
		return fail(fmt.Errorf("server: %w", err))
	}
	if err := checkPepper(ctx, db, pepper); err != nil {
		return fail(err)
	}
	var rep *replica
	cacheDir := cfg.LabelCacheDir
	if cacheDir == "" {
		cacheDir = filepath.Join(cfg.DataDir, "cache", "pdf")
	}
	labels := raster.New(raster.Limits{CacheDir: cacheDir}) // the PDF engine starts on the first PDF
	jopts := jobs.Options{Store: db, Log: log, Clock: cfg.JobClock, DefaultExpiry: cfg.JobExpiry, Labels: labels,
		MaxClientsPerCredential: cfg.MaxClientsPerKey, MaxPrintersPerPortal: cfg.MaxPrinters}
	if n, ok := db.(store.Notifier); ok {
		rep = newReplica(db, n, log)
		jopts.Queued = rep.announceJob
	}
	js := jobs.New(jopts)
	// Sessions of a previous process never said goodbye. With replicas (PostgreSQL), this forgets only
	// this replica's and those of replicas that are gone; the others' agents stay online.
	if err := js.ResetPresence(ctx); err != nil {
		return fail(fmt.Errorf("server: %w", err))
	}
	s := &Server{Keys: ks, Jobs: js, log: log, db: db, replica: rep, trusted: trusted, labels: labels,
		metrics: cfg.MetricsListen}
	s.Events = events.NewBus(db, log)
	s.Webhooks = webhooks.New(webhooks.Options{Store: db, Pepper: pepper, Log: log, AllowPrivate: cfg.WebhooksAllowPrivate})
	s.Metrics = api.NewMetrics(func() int {
		if s.Hub == nil {
			return 0
		}
		return s.Hub.Count()
	})
	if sq, ok := db.(*sqlite.DB); ok {
		s.Metrics.Registry().MustRegister(sqliteMetrics(sq)...)
	}
	s.Hub = hub.New(hub.Options{
		Keys:          ks,
		Log:           log,
		Heartbeat:     cfg.Heartbeat,
		HelloTimeout:  cfg.HelloTimeout,
		WriteTimeout:  cfg.WriteTimeout,
		ServerVersion: cfg.Version,
		LogoutSent:    s.Metrics.LogoutSent,
		Jobs:          js,
		JobSent:       s.Metrics.JobSent,
		JobStatus:     s.Metrics.JobStatus,
	})
	s.API = api.New(api.Options{
		Clock:         cfg.JobClock,
		Keys:          ks,
		Jobs:          js,
		Hub:           s.Hub,
		Log:           log,
		Metrics:       s.Metrics,
		MetricsPublic: cfg.MetricsPublic,
		Limiter:       httpx.NewFailureLimiter(cfg.AuthFailuresPerMinute, cfg.AuthFailureBurst),
		Ready: func(ctx context.Context) error {
			_, err := db.SchemaVersion(ctx)
			return err
		},
		Webhooks: s.Webhooks,
		Events:   s.Events,
	})
	popts := portal.Options{Logger: log.With("component", "portal"), Jobs: js, Sessions: db,
		SecureCookies: cfg.SecureCookies, OIDCPortal: cfg.OIDCPortal, Webhooks: s.Webhooks, Clock: cfg.JobClock}
	if cfg.OIDC != nil {
		if popts.OIDC, err = oidclogin.New(*cfg.OIDC); err != nil {
			return fail(fmt.Errorf("server: %w", err))
		}
	}
	s.Portal = portal.New(ks, s.Hub, popts)
	events, unsub := ks.Subscribe()
	streamEvents, unsubStreams := ks.Subscribe() // key changes end event streams as they log agents out
	s.unsub = func() { unsub(); unsubStreams() }
	runCtx, stop := context.WithCancel(context.Background())
	s.stop = stop
	if rep != nil {
		// Listen before serving: a change made on another replica from now on reaches this one.
		if err := rep.start(runCtx, s, cfg.RevalidateEvery); err != nil {
			stop()
			s.unsub()
			return fail(fmt.Errorf("server: %w", err))
		}
	}
	s.bg.Add(3)
	go func() {
		defer s.bg.Done()
		s.Hub.Run(runCtx, events)
	}()
	go func() {
		defer s.bg.Done()
		s.API.RunStreamLogouts(runCtx, streamEvents)
	}()
	go func() {
		defer s.bg.Done()
		js.Run(runCtx, cfg.JobSweepEvery)
	}()
	sender := webhooks.NewSender(s.Webhooks, s.Events, cfg.WebhookSender)
	s.bg.Add(2)
	go func() {
		defer s.bg.Done()
		s.Events.Run(runCtx)
	}()
	go func() {
		defer s.bg.Done()
		sender.Run(runCtx)
	}()
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		retention.Run(runCtx, db, retention.Options{Log: log, Clock: cfg.JobClock, Every: cfg.RetentionEvery,
			Policy: retention.Policy{JobContent: cfg.RetainJobContent, Jobs: cfg.RetainJobs, Audit: cfg.RetainAudit,
				Events: cfg.RetainEvents, Deliveries: cfg.RetainDeliveries}})
	}()
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		runExpiry(runCtx, db, s.Keys, log) // expired keys log their agents out (reason expired)
	}()
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		alertSweep{db: db, th: s.Keys, clock: cfg.JobClock, every: cfg.AlertSweepEvery, log: log}.run(runCtx)
	}()
	return s, nil
}

var _ api.Keys = (*keys.Service)(nil)
var _ hub.Keys = (*keys.Service)(nil)

// openDatabase opens the store cfg names: PostgreSQL for a postgres:// or postgresql:// URL, SQLite
// otherwise.
func openDatabase(ctx context.Context, cfg Config) (database, error) {
	u := cfg.DatabaseURL
	if strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://") {
		db, err := postgres.Open(ctx, u)
		if err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
		return db, nil
	}
	path, err := databasePath(cfg)
	if err != nil {
		return nil, err
	}
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	return db, nil
}

// sqliteMetrics are the SQLite store's own metrics: its writer's pauses to restart the WAL (a slow disk
// shows here first: every write waits while the writer pauses).
func sqliteMetrics(db *sqlite.DB) []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "printdock_sqlite_wal_restarts_total",
			Help: "Times the SQLite writer paused to finish a checkpoint so that the WAL restarts.",
		}, func() float64 { return float64(db.Stats().WALRestarts) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "printdock_sqlite_wal_restart_seconds_total",
			Help: "Time the SQLite writer spent in those pauses (every write waits meanwhile).",
		}, func() float64 { return db.Stats().WALRestartTime.Seconds() }),
	}
}

// ErrNotSQLite is SQLitePath's answer for a PostgreSQL store (back it up with pg_dump, docs/postgres.md).
var ErrNotSQLite = errors.New("the store is PostgreSQL, not SQLite: back it up with pg_dump and keep the pepper file (docs/server.md)")

// SQLitePath is the file of the SQLite store cfg names (DataDir and DatabaseURL), for backup and restore.
func SQLitePath(cfg Config) (string, error) {
	u := cfg.DatabaseURL
	if strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://") {
		return "", ErrNotSQLite
	}
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir
	}
	return databasePath(cfg)
}

func databasePath(cfg Config) (string, error) {
	u := cfg.DatabaseURL
	switch {
	case u == "":
		return filepath.Join(cfg.DataDir, DatabaseFile), nil
	case strings.HasPrefix(u, "sqlite://"):
		return strings.TrimPrefix(u, "sqlite://"), nil
	case strings.HasPrefix(u, "sqlite:"):
		return strings.TrimPrefix(u, "sqlite:"), nil
	case strings.HasPrefix(u, "file:"):
		return strings.TrimPrefix(u, "file:"), nil
	case strings.Contains(u, "://"):
		return "", fmt.Errorf("server: unsupported database URL scheme (use sqlite:PATH or postgres://…)")
	}
	return u, nil
}

// checkPepper makes the store and the pepper agree (store.Settings, both stores): the first start records
// a fingerprint of the pepper (store.PepperFingerprint, which reveals nothing about it), and a server with
// another pepper — which would fail every secret issued with the first, e.g. a replica set up apart or a
// database restored next to another pepper — refuses to start.
func checkPepper(ctx context.Context, db database, pepper []byte) error {
	st, ok := db.(store.Settings)
	if !ok {
		return nil
	}
	fp := store.PepperFingerprint(pepper)
	got, err := st.EnsureSetting(ctx, store.PepperSetting, fp)
	if err != nil {
		return fmt.Errorf("server: pepper check: %w", err)
	}
	if !hmac.Equal([]byte(got), []byte(fp)) {
		return ErrPepperMismatch
	}
	return nil
}

// Handler returns the HTTP handler serving the REST API, the agent websocket, /oauth/token, /healthz and
// /metrics.
// The REST API, OAuth, health and metrics keep their paths; every other path is the web portal.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, p := range []string{"/api/", "/oauth/", "/healthz", "/metrics"} {
		if p == "/metrics" && s.metrics != "" {
			mux.Handle(p, http.NotFoundHandler()) // served on Config.MetricsListen; not the portal's either
			continue
		}
		mux.Handle(p, s.API)
	}
	mux.Handle("/", s.Portal)
	return httpx.RealClient(s.trusted, httpx.HSTS(mux))
}

// Bootstrap creates the first portal and administrator when the store is empty. created is false (and res
// empty) when the store already had a portal.
func (s *Server) Bootstrap(ctx context.Context, adminEmail string) (res keys.InitResult, created bool, err error) {
	ok, err := s.Keys.Bootstrapped(ctx)
	if err != nil {
		return keys.InitResult{}, false, fmt.Errorf("server: bootstrap: %w", err)
	}
	if ok {
		return keys.InitResult{}, false, nil
	}
	res, err = s.Keys.Init(ctx, DefaultPortalName, adminEmail)
	if errors.Is(err, keys.ErrConflict) {
		// Another replica sharing the store bootstrapped it meanwhile.
		return keys.InitResult{}, false, nil
	}
	if err != nil {
		return keys.InitResult{}, false, fmt.Errorf("server: bootstrap: %w", err)
	}
	return res, true, nil
}

// Shutdown closes every agent session with 4005 (waiting until they end or ctx ends), stops the event
// subscription and the job sweeper, and closes the store. It is safe to call more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.once.Do(func() {
		err := s.Hub.Shutdown(ctx)
		s.stop()
		s.unsub()
		s.bg.Wait()
		s.err = errors.Join(err, s.labels.Close(), s.db.Close())
	})
	return s.err
}

// Close is Shutdown with a 10-second limit.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.Shutdown(ctx)
}
