// Package portal owns printdock-server's web administration portal: server-rendered HTML pages (html/template,
// assets embedded) for signing in, print client secrets, the personal API key, portal users, the shared API
// access secret, integrations (OAuth clients), portal settings, clients and printers, print jobs (with a label preview rendered by printer/zpl), and the
// audit log.
//
// The portal is a thin HTTP layer over package keys: every action is authorized again by keys.Service, and the
// portal adds the browser's protections (server-side sessions, a per-session CSRF token on every form,
// cross-origin request checks, a strict Content-Security-Policy, sign-in rate limits). It works without
// JavaScript; a tiny same-origin script only adds Copy buttons and refreshes the "connected" dots.
//
// Mount it at "/" next to the REST API; it serves no path under /api/, /oauth/, /healthz or /metrics.
// See docs/portal.md.
package portal

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"printdock/server/httpx"
	"printdock/server/hub"
	"printdock/server/jobs"
	"printdock/server/keys"
	"printdock/server/oidclogin"
	"printdock/server/store"
)

// HubView is what the portal needs from the websocket hub (*hub.Hub implements it): whether a credential
// has a live connection and which agents of a portal are connected, with their printers.
type HubView interface {
	// Connected reports whether an agent is connected now with the credential (print client key ID,
	// shared device ID, or a user's API key ID).
	Connected(credentialID string) bool
	// Clients lists the connected agents of a portal.
	Clients(portalID string) []hub.ClientInfo
}

// JobsView is what the portal reads from the job queue (*jobs.Service implements it). List and Content
// authorize by the actor's portal; the portal shows clients and printers to every member.
type JobsView interface {
	List(ctx context.Context, a keys.Actor, f jobs.ListFilter) ([]jobs.Job, error)
	Content(ctx context.Context, a keys.Actor, id string) ([]byte, error)
	Preview(ctx context.Context, a keys.Actor, id string) ([]byte, error)
	ListPrinters(ctx context.Context, portalID string, p store.Page) ([]jobs.Printer, error)
	ListClients(ctx context.Context, portalID string, p store.Page) ([]jobs.Client, error)
}

var _ JobsView = (*jobs.Service)(nil)

// Options tune the portal. The zero value is usable.
type Options struct {
	// Jobs is the job queue the Jobs and Clients pages read; nil shows no jobs and only connected agents.
	Jobs JobsView
	// Webhooks serves the Webhooks page (admins); nil shows it as not available.
	Webhooks WebhooksView
	// Logger receives errors the user does not see; slog.Default() when nil.
	Logger *slog.Logger
	// SecureCookies forces the Secure attribute on cookies even for plain-HTTP requests (set it behind a
	// TLS-terminating proxy). Requests that arrive over TLS always get Secure cookies.
	SecureCookies bool
	// Sessions keeps sessions in the database (the server passes its store), so that a restart signs
	// nobody out and replicas share them; nil keeps them in memory.
	Sessions SessionStore
	// SessionIdleTimeout signs a session out after this long without a request (default 30 minutes).
	SessionIdleTimeout time.Duration
	// SessionMaxAge signs a session out this long after sign-in, active or not (default 12 hours).
	SessionMaxAge time.Duration
	// RemoteAddr returns the client address used for rate limits and the audit log; by default the TCP
	// peer (httpx.ClientIP; set it only when a trusted proxy supplies the real address).
	RemoteAddr func(*http.Request) string
	// Login limits failed sign-ins; zero fields take the defaults of DefaultLoginLimits.
	Login LoginLimits
	// OIDC, when set, offers sign-in with that OpenID provider besides the password (oidc.go);
	// OIDCPortal names the portal a first sign-in joins (its ID, or the e-mail of one of its users).
	OIDC       *oidclogin.Provider
	OIDCPortal string
	// Clock is the time printer alerts are measured at (time.Now when nil; the server passes its job
	// clock, which also stamps printer statuses).
	Clock func() time.Time
}

// keyService is the part of *keys.Service the portal calls. It exists so the handlers name exactly what
// they depend on; New takes the concrete service.
type keyService interface {
	PasswordLogin(ctx context.Context, email, password, remoteAddr string) (keys.Principal, error)
	ExternalLogin(ctx context.Context, id keys.ExternalIdentity, remoteAddr string) (keys.Principal, error)
	Me(ctx context.Context, a keys.Actor) (keys.User, error)

	CreateClientKey(ctx context.Context, a keys.Actor, opts keys.NewClientKey) (keys.Created, error)
	ListClientKeys(ctx context.Context, a keys.Actor, p store.Page) ([]keys.ClientKey, error)
	GetClientKey(ctx context.Context, a keys.Actor, id string) (keys.ClientKey, error)
	RotateClientKey(ctx context.Context, a keys.Actor, id string) (keys.Created, error)
	SetClientKeyActive(ctx context.Context, a keys.Actor, id string, active bool) (keys.ClientKey, error)
	GiveOwnSecret(ctx context.Context, a keys.Actor, id string) (keys.Created, error)
	UseSharedSecret(ctx context.Context, a keys.Actor, id string) (keys.Created, error)
	RevokeClientKey(ctx context.Context, a keys.Actor, id string) (keys.ClientKey, error)
	DeleteClientKey(ctx context.Context, a keys.Actor, id string) error

	RotateOwnAPIKey(ctx context.Context, a keys.Actor, confirm bool) (string, error)
	ChangePassword(ctx context.Context, a keys.Actor, current, next string) error
	ResetUserPassword(ctx context.Context, a keys.Actor, userID string) (keys.User, string, error)
	RotateUserAPIKey(ctx context.Context, a keys.Actor, userID string) (string, error)
	RollOwnAPIKey(ctx context.Context, a keys.Actor, confirm bool, grace time.Duration) (keys.Rolled, error)
	RollUserAPIKey(ctx context.Context, a keys.Actor, userID string, grace time.Duration) (keys.Rolled, error)
	RotateOAuthClient(ctx context.Context, a keys.Actor, id string, grace time.Duration) (keys.OAuthClient, keys.Rolled, error)
	ListUsers(ctx context.Context, a keys.Actor, p store.Page) ([]keys.User, error)
	CreateUser(ctx context.Context, a keys.Actor, email string, role keys.Role) (keys.User, string, string, error)
	SetUserRole(ctx context.Context, a keys.Actor, userID string, role keys.Role) (keys.User, error)

	ListOAuthClients(ctx context.Context, a keys.Actor, p store.Page) ([]keys.OAuthClient, error)
	GetOAuthClient(ctx context.Context, a keys.Actor, id string) (keys.OAuthClient, error)
	CreateOAuthClientWith(ctx context.Context, a keys.Actor, opts keys.NewOAuthClient) (keys.OAuthClient, string, error)
	SetOAuthClientActive(ctx context.Context, a keys.Actor, id string, active bool) (keys.OAuthClient, error)
	RevokeOAuthClient(ctx context.Context, a keys.Actor, id string) (keys.OAuthClient, error)
	DeleteOAuthClient(ctx context.Context, a keys.Actor, id string) error
	Settings(ctx context.Context, a keys.Actor) (keys.Settings, error)
	PrinterAlertAfter(ctx context.Context, a keys.Actor) (time.Duration, error)
	UpdateSettings(ctx context.Context, a keys.Actor, s keys.Settings) (keys.Settings, error)

	ResetSharedSecret(ctx context.Context, a keys.Actor, confirmation string, resetDevices bool) (string, error)
	SharedDevices(ctx context.Context, a keys.Actor, p store.Page) ([]keys.ClientKey, error)

	Audit(ctx context.Context, a keys.Actor, f keys.AuditFilter) ([]keys.AuditEntry, error)
}

var _ keyService = (*keys.Service)(nil)

// New returns the portal's handler, to be mounted at "/". hub may be nil (no agent is ever shown connected).
func New(svc *keys.Service, hub HubView, opts Options) http.Handler {
	return newPortal(svc, hub, opts)
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.SessionIdleTimeout <= 0 {
		o.SessionIdleTimeout = 30 * time.Minute
	}
	if o.SessionMaxAge <= 0 {
		o.SessionMaxAge = 12 * time.Hour
	}
	if o.RemoteAddr == nil {
		o.RemoteAddr = httpx.ClientIP
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	o.Login = o.Login.withDefaults()
}

type noHub struct{}

func (noHub) Connected(string) bool           { return false }
func (noHub) Clients(string) []hub.ClientInfo { return nil }
