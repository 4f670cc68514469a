// Package store owns printdock-server's persistence interface: portals, users, credentials (print client
// keys, personal API keys, shared-secret devices, OAuth clients), shared secret versions, OAuth access
// tokens, the audit log, and agents, their printers and print jobs (jobs.go). Implementations
// (store/sqlite, later store/postgres) pass the conformance suite in store/storetest. The store holds no
// secrets: only keyed hashes and displayable prefixes.
//
// The store does no authorization and knows no business rules beyond integrity (unique hashes and e-mail
// addresses, foreign keys, optimistic generation and state checks); packages keys and jobs own those.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors every implementation returns (wrapped) for the conditions callers branch on.
var (
	ErrNotFound = errors.New("store: not found")
	// ErrConflict is a unique-constraint violation or a failed optimistic check (generation changed).
	ErrConflict = errors.New("store: conflict")
)

// CredentialKind says what a Credential row is.
type CredentialKind string

// Credential kinds.
const (
	CredPrintClient  CredentialKind = "print_client"  // pdc_ secret, one per installation
	CredUserKey      CredentialKind = "user_key"      // a user's personal API key (pdu_), one per user
	CredSharedDevice CredentialKind = "shared_device" // a device that authenticates with the portal's shared secret
	CredOAuthClient  CredentialKind = "oauth_client"  // an OAuth client (pdo_)
)

// Portal is a tenant.
type Portal struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// User is a portal member. Email is unique across the whole store (password sign-in has no portal).
type User struct {
	ID           string
	PortalID     string
	Email        string
	Role         string
	PasswordHash string // argon2id encoded string
	CreatedAt    time.Time
}

// Credential is any hashed credential that is not a shared secret version or an access token.
type Credential struct {
	ID          string
	PortalID    string
	Kind        CredentialKind
	UserID      string // owner of a user key (the key is deleted with the user); "" for other kinds
	CreatorID   string // user who created it ("" once that user is deleted)
	Description string
	Prefix      string // displayable prefix of the secret ("" for shared devices)
	SecretHash  string // hex HMAC-SHA256; "" for shared devices (unique otherwise)
	// SharedVersion is the shared secret version a shared device authenticates with (0 otherwise).
	SharedVersion  int64
	Status         string
	Generation     int64
	CreatedAt      time.Time
	CreatedBy      string
	LastAccessedAt *time.Time
}

// SharedSecret is one version of a portal's shared API access secret.
type SharedSecret struct {
	PortalID   string
	Version    int64
	SecretHash string
	Prefix     string
	CreatedAt  time.Time
	CreatedBy  string
}

// OAuthToken is an issued access token, stored by its hash.
type OAuthToken struct {
	TokenHash string
	ClientID  string
	PortalID  string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// AuditEntry is one audit record. It never holds a secret.
type AuditEntry struct {
	ID         int64
	PortalID   string
	At         time.Time
	Actor      string
	Action     string
	Target     string
	RemoteAddr string
	Detail     string
}

// AuditFilter selects audit entries of one portal ("" selects entries with no portal), newest first.
type AuditFilter struct {
	PortalID      string
	Actor, Action string
	Since, Until  time.Time // zero: unbounded; Since inclusive, Until exclusive
	Limit         int       // <= 0: implementation default (100)
}

// Store is the persistence interface. Methods that look up one row return ErrNotFound (wrapped) when
// nothing matches; methods that update or delete one row by ID do too.
type Store interface {
	// InTx runs fn in one transaction: it commits when fn returns nil and rolls back otherwise. The Store
	// passed to fn must be used for every operation of the transaction; InTx on it runs fn inline.
	InTx(ctx context.Context, fn func(tx Store) error) error
	Close() error

	CountPortals(ctx context.Context) (int, error)
	CreatePortal(ctx context.Context, p Portal) error
	GetPortal(ctx context.Context, id string) (Portal, error)

	CreateUser(ctx context.Context, u User) error // ErrConflict on a duplicate e-mail
	GetUser(ctx context.Context, id string) (User, error)
	GetUserByEmail(ctx context.Context, email string) (User, error)
	ListUsers(ctx context.Context, portalID string) ([]User, error) // by e-mail
	CountAdmins(ctx context.Context, portalID string) (int, error)
	SetUserRole(ctx context.Context, id, role string) error
	SetUserPassword(ctx context.Context, id, passwordHash string) error
	DeleteUser(ctx context.Context, id string) error // also deletes the user's API key

	CreateCredential(ctx context.Context, c Credential) error // ErrConflict on a duplicate ID or hash
	GetCredential(ctx context.Context, id string) (Credential, error)
	GetCredentialByHash(ctx context.Context, secretHash string) (Credential, error)
	// ListCredentials lists a portal's credentials of the given kinds (all kinds when none), oldest first.
	ListCredentials(ctx context.Context, portalID string, kinds ...CredentialKind) ([]Credential, error)
	UserAPIKey(ctx context.Context, userID string) (Credential, error)
	// ReplaceSecret sets a new hash and prefix and generation = oldGeneration+1, only when the generation
	// is still oldGeneration (ErrConflict otherwise).
	ReplaceSecret(ctx context.Context, id, secretHash, prefix string, oldGeneration int64) error
	SetCredentialStatus(ctx context.Context, id, status string) error
	// MoveSharedDevices points every shared device of the portal at version (and its prefix) and returns
	// their IDs.
	MoveSharedDevices(ctx context.Context, portalID string, version int64, prefix string) ([]string, error)
	TouchCredential(ctx context.Context, id string, at time.Time) error
	DeleteCredential(ctx context.Context, id string) error

	CreateSharedSecret(ctx context.Context, s SharedSecret) error // ErrConflict on a duplicate version/hash
	CurrentSharedSecret(ctx context.Context, portalID string) (SharedSecret, error)
	GetSharedSecretByHash(ctx context.Context, secretHash string) (SharedSecret, error)
	// PruneSharedSecrets deletes the portal's non-current versions that no device references.
	PruneSharedSecrets(ctx context.Context, portalID string) (int64, error)

	CreateOAuthToken(ctx context.Context, t OAuthToken) error
	GetOAuthToken(ctx context.Context, tokenHash string) (OAuthToken, error)
	DeleteOAuthTokens(ctx context.Context, clientID string) (int64, error)
	DeleteExpiredOAuthTokens(ctx context.Context, now time.Time) (int64, error)

	AppendAudit(ctx context.Context, e AuditEntry) (int64, error)
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error)

	// JobStore: agents, printers, print jobs (jobs.go).
	JobStore
}
