// Package keys owns the whole credential lifecycle of printdock-server: portals, users and roles,
// print client secrets, personal API keys, the portal's shared secret and the devices that use it, OAuth
// clients and their access tokens. It generates, formats, hashes (HMAC-SHA256 with a server pepper),
// verifies (constant time), rotates, revokes, (de)activates and deletes them, writes the audit log, and
// emits change events that the websocket hub turns into logouts.
//
// The REST API, the web portal, the CLI and the hub all call this package; none of them touches the store
// for credentials directly.
//
// CONTRACT NOTE (lead): the exported types and method signatures in this file are what server/api,
// server/hub and server/portal code against. Implement the bodies; add methods freely; change a signature
// only if you also fix every caller.
package keys

import (
	"errors"
	"fmt"
	"time"

	"printdock/protocol"
	"printdock/server/store"
)

// Errors. Handlers map them to HTTP statuses: ErrUnauthenticated 401, ErrForbidden/ErrInactive/ErrRevoked
// 403, ErrNotFound 404, ErrConflict 409, ErrInvalid/ErrConfirmationRequired 400.
var (
	ErrUnauthenticated      = errors.New("invalid credentials")
	ErrInactive             = errors.New("key is inactive")
	ErrRevoked              = errors.New("key is revoked")
	ErrForbidden            = errors.New("not allowed")
	ErrNotFound             = errors.New("not found")
	ErrConflict             = errors.New("conflict")
	ErrInvalid              = errors.New("invalid request")
	ErrConfirmationRequired = errors.New("confirmation required")
)

// Why a principal that authenticated earlier no longer does (StillValid). Each is also ErrUnauthenticated
// (401), so callers that only care about "not valid" keep testing for that; the hub branches on them to
// name the logout reason.
var (
	ErrDeleted = fmt.Errorf("%w: deleted", ErrUnauthenticated) // the credential (or the signed-in user) is gone
	ErrRotated = fmt.Errorf("%w: rotated", ErrUnauthenticated) // a newer generation of the secret exists
	ErrExpired = fmt.Errorf("%w: expired", ErrUnauthenticated) // the token's lifetime or the key's expiry has passed
	// ErrOwnSecret: a shared-secret device was given its own secret; ErrSharedSecret: the reverse.
	ErrOwnSecret    = fmt.Errorf("%w: the device was given its own secret", ErrUnauthenticated)
	ErrSharedSecret = fmt.Errorf("%w: the device now uses the shared secret", ErrUnauthenticated)
)

// SharedResetConfirmation is the exact text an administrator types to reset the shared secret.
const SharedResetConfirmation = "Yes, I do confirm it"

// Role of a user within a portal.
type Role string

const (
	RoleAdmin Role = "admin"
	RoleUser  Role = "user"
)

// Status of a key.
type Status string

const (
	StatusActive   Status = "active"
	StatusInactive Status = "inactive"
	StatusRevoked  Status = "revoked" // permanent
)

// Kind of credential a Principal authenticated with.
type Kind string

const (
	KindPrintClient Kind = "print_client" // a print client secret (pdc_)
	KindUser        Kind = "user"         // a personal API key (pdu_)
	KindSharedDev   Kind = "shared"       // a device using the portal's shared secret (pds_ + device ID)
	KindOAuth       Kind = "oauth"        // an OAuth access token (pdt_)
	KindSession     Kind = "session"      // a web portal session (password sign-in)
)

// Principal is who a request or connection is, after authentication.
type Principal struct {
	PortalID string
	UserID   string // the acting user (for user keys, OAuth clients' owner, portal sessions); "" for devices
	Email    string
	Role     Role
	Kind     Kind
	// CredentialID identifies what was presented: the print client key ID, the user's API key ID, the
	// sharing device's ID, the OAuth client ID. Logout events name CredentialIDs.
	CredentialID string
	// Generation of the credential's secret at authentication; rotation increments it.
	Generation  int64
	Description string // the key's or device's description, for the agent's status
	// ExpiresAt is when the credential stops being valid by itself (OAuth access tokens); zero otherwise.
	ExpiresAt time.Time
	// graceEnd is, for an old secret in its grace period, when that grace ends: a cached verification
	// ends there (authcache.go).
	graceEnd time.Time
}

// IsAdmin reports whether p may administer its portal.
func (p Principal) IsAdmin() bool { return p.Role == RoleAdmin }

// Portal is a tenant; nothing crosses portals.
type Portal struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// User is a portal member.
type User struct {
	ID           string
	PortalID     string
	Email        string
	Role         Role
	APIKeyPrefix string // displayable prefix of the current personal API key
	// APIKeyLastAccessedAt is when the personal API key was last used (at most once a minute).
	APIKeyLastAccessedAt *time.Time
	CreatedAt            time.Time
	APIKeyGrace          *Grace // the old key of a roll with a grace period (grace.go); nil when none
}

// ClientKey is a print client secret or a device using the shared secret, as listed to admins.
type ClientKey struct {
	ID              string
	PortalID        string
	Description     string
	Prefix          string // displayable prefix ("pdc_7GhQ"); for shared devices the shared secret's prefix
	Status          Status
	UseSharedSecret bool
	CreatedAt       time.Time
	CreatedBy       string // user email
	LastAccessedAt  *time.Time
	ActivatedAt     *time.Time // when it was last activated again (nil if never)
	ExpiresAt       *time.Time // when it stops working by itself (nil: never); SetExpiry
}

// UsedSinceActivation is "check this key": whether an agent (or client) has used the key since it was
// created or last activated.
func (k ClientKey) UsedSinceActivation() bool {
	return usedSince(k.LastAccessedAt, k.CreatedAt, k.ActivatedAt)
}

// UsedSinceActivation reports whether the client got or used a token since it was created or activated.
func (c OAuthClient) UsedSinceActivation() bool {
	return usedSince(c.LastAccessedAt, c.CreatedAt, c.ActivatedAt)
}

func usedSince(last *time.Time, created time.Time, activated *time.Time) bool {
	if last == nil {
		return false
	}
	since := created
	if activated != nil && activated.After(since) {
		since = *activated
	}
	return !last.Before(since)
}

// OAuthClient is an integration using the client-credentials grant.
type OAuthClient struct {
	ID          string // the client_id
	PortalID    string
	Description string
	Prefix      string // displayable prefix of the client secret ("pdo_7GhQ")
	Status      Status
	CreatedAt   time.Time
	CreatedBy   string
	// LastAccessedAt is when the client last got a token or one of its tokens was used (at most once a
	// minute); ActivatedAt when it was last activated (nil if never re-activated).
	LastAccessedAt *time.Time
	ActivatedAt    *time.Time
	ExpiresAt      *time.Time // SetExpiry
	Grace          *Grace     // the old secret of a roll with a grace period (grace.go); nil when none
}

// AuditEntry is one line of the audit log. It never holds a secret.
type AuditEntry struct {
	ID         int64
	PortalID   string // "" for failed authentications that matched no portal
	At         time.Time
	Actor      string // user email, "key:<id>", or "anonymous"
	Action     string // e.g. "print_client_secret.rotate", "auth.failed"
	Target     string
	RemoteAddr string
	Detail     string
}

// AuditFilter selects audit entries.
type AuditFilter struct {
	Actor, Action string
	Since, Until  time.Time
	Limit         int       // 1..MaxAuditLimit+1 (the extra row tells a pager there is more); 0 means 100
	After         store.Key // continue after the entry with key store.SeqKey(at, id)
}

// Event is a credential change that affects live connections. The hub subscribes and closes every
// session whose CredentialID is listed and whose Generation is below BeforeGeneration (for rotate) —
// or every session of those credentials, when BeforeGeneration is 0 (revoke, deactivate, delete).
type Event struct {
	PortalID         string
	CredentialIDs    []string
	Reason           string // protocol.ReasonRotated, …Revoked, …Deactivated, …Deleted
	BeforeGeneration int64
}

// Actor describes who performs a change, for authorization and the audit log.
type Actor struct {
	Principal
	RemoteAddr string
}

// NewClientKey are the options for creating a print client secret.
type NewClientKey struct {
	Description string
	Inactive    bool // create it inactive (overrides Active)
	// Active says whether the key works at once; nil (and Inactive false) takes the portal's "new keys
	// start inactive" setting.
	Active          *bool
	UseSharedSecret bool
}

// Created is the answer to a create or rotate: the record and, once, the secret.
type Created struct {
	Key    ClientKey
	Secret string // shown once; "" for a device that uses an existing shared secret
}

// InitResult is what init prints once.
type InitResult struct {
	PortalID      string `json:"portal_id"`
	AdminEmail    string `json:"admin_email"`
	AdminPassword string `json:"admin_password"`
	AdminAPIKey   string `json:"admin_api_key"`
}

// Service is the key lifecycle. Every method that changes something authorizes the actor (role and
// portal) itself, writes the audit log, and publishes an Event when live connections are affected.
// Implemented in service.go and its sibling files (auth.go, clientkeys.go, users.go, shared.go, oauth.go,
// events.go); docs/keys.md describes the semantics.
//
//	Init(ctx, portalName, adminEmail string) (InitResult, error)  // on an empty store only; ErrConflict otherwise
//	Bootstrapped(ctx) (bool, error)
//
//	Authenticate(ctx, secret, deviceID, remoteAddr string) (Principal, error) // any bearer: pdc_/pdu_/pds_+device/pdt_
//	PasswordLogin(ctx, email, password, remoteAddr string) (Principal, error)
//	Touch(ctx, p Principal) // last-accessed, at most once a minute per credential (immediately on connect via TouchNow)
//	TouchNow(ctx, p Principal)
//	StillValid(ctx, p Principal) error // re-checks status/generation (for long sessions)
//
//	CreateClientKey(ctx, a Actor, opts NewClientKey) (Created, error)
//	ListClientKeys(ctx, a Actor, p store.Page) ([]ClientKey, error) // one page; so are the other lists
//	GetClientKey(ctx, a Actor, id string) (ClientKey, error)
//	RotateClientKey(ctx, a Actor, id string) (Created, error)
//	SetClientKeyActive(ctx, a Actor, id string, active bool) (ClientKey, error)
//	RevokeClientKey(ctx, a Actor, id string) (ClientKey, error)
//	DeleteClientKey(ctx, a Actor, id string) error
//
//	Me(ctx, a Actor) (User, error)
//	RotateOwnAPIKey(ctx, a Actor, confirm bool) (string, error)          // ErrConfirmationRequired without confirm
//	RotateUserAPIKey(ctx, a Actor, userID string) (string, error)        // admin; no confirmation
//	ListUsers(ctx, a Actor, p store.Page) ([]User, error)
//	CreateUser(ctx, a Actor, email string, role Role) (User, string /*password*/, string /*api key*/, error)
//	SetUserRole(ctx, a Actor, userID string, role Role) (User, error)
//
//	ResetSharedSecret(ctx, a Actor, confirmation string, resetDevices bool) (string, error)
//	SharedDevices(ctx, a Actor, p store.Page) ([]ClientKey, error)
//
//	CreateOAuthClient(ctx, a Actor, description string) (OAuthClient, string /*client secret*/, error)
//	CreateOAuthClientWith(ctx, a Actor, opts NewOAuthClient) (OAuthClient, string, error)
//	ListOAuthClients / GetOAuthClient / SetOAuthClientActive / RevokeOAuthClient / DeleteOAuthClient
//
//	Settings(ctx, a Actor) (Settings, error) / UpdateSettings(ctx, a Actor, Settings) (Settings, error)
//	IssueToken(ctx, clientID, clientSecret, remoteAddr string) (token string, expiresIn time.Duration, err error)
//
//	Audit(ctx, a Actor, f AuditFilter) ([]AuditEntry, error)  // admin
//	Subscribe() (<-chan Event, func())                         // change events for the hub
var _ = protocol.ReasonRotated
