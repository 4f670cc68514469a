package store

import (
	"context"
	"time"
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
	// ActivatedAt is when the credential was last made active again after being inactive (nil if never):
	// "check this key" asks whether it was used since max(CreatedAt, ActivatedAt).
	ActivatedAt *time.Time
	// ExpiresAt is when the credential stops working by itself (nil: never).
	ExpiresAt *time.Time
	// Previous is the secret replaced by a roll with a grace period (zero when there is none).
	Previous PreviousSecret
}

// PreviousSecret is a rolled-away secret that keeps working until ExpiresAt (the grace period).
type PreviousSecret struct {
	Hash      string     // hex HMAC-SHA256 of the old secret; "" when none
	ExpiresAt *time.Time // end of the grace
	UsedAt    *time.Time // when the old secret was last used (at most once a minute)
	UsedFrom  string     // remote address of that use
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

// CredentialStore persists credentials (print client keys, user keys, shared devices, OAuth clients).
type CredentialStore interface {
	CreateCredential(ctx context.Context, c Credential) error // ErrConflict on a duplicate ID or hash
	GetCredential(ctx context.Context, id string) (Credential, error)
	GetCredentialByHash(ctx context.Context, secretHash string) (Credential, error)
	// ListCredentials lists a portal's credentials of the given kinds (all kinds when none), oldest first
	// (keyset-paginated on TimeKey(created_at, id)).
	ListCredentials(ctx context.Context, portalID string, p Page, kinds ...CredentialKind) ([]Credential, error)
	UserAPIKey(ctx context.Context, userID string) (Credential, error)
	// ReplaceSecret sets a new hash and prefix and generation = oldGeneration+1, only when the generation
	// is still oldGeneration (ErrConflict otherwise).
	// It also forgets any previous secret (a roll without grace ends the grace of an earlier one).
	ReplaceSecret(ctx context.Context, id, secretHash, prefix string, oldGeneration int64) error
	// SetPreviousSecret keeps hash working until the given time (a roll with a grace period); an empty hash
	// clears the previous secret (the grace ends).
	SetPreviousSecret(ctx context.Context, id, hash string, until *time.Time) error
	// GetCredentialByPreviousHash finds the credential whose previous (rolled-away) secret has this hash.
	GetCredentialByPreviousHash(ctx context.Context, previousHash string) (Credential, error)
	// TouchPreviousSecret records when and from where the previous secret was last used.
	TouchPreviousSecret(ctx context.Context, id string, at time.Time, from string) error
	SetCredentialStatus(ctx context.Context, id, status string) error
	// MoveSharedDevices points every shared device of the portal at version (and its prefix) and returns
	// their IDs.
	MoveSharedDevices(ctx context.Context, portalID string, version int64, prefix string) ([]string, error)
	TouchCredential(ctx context.Context, id string, at time.Time) error
	// SetCredentialActivatedAt records when the credential was (re)activated.
	SetCredentialActivatedAt(ctx context.Context, id string, at time.Time) error
	// SwitchCredentialSecret turns a print client key into a shared-secret device or back, keeping its ID:
	// it sets kind, secret hash ("" for none), prefix, shared version (0 for none) and generation+1.
	SwitchCredentialSecret(ctx context.Context, id string, kind CredentialKind, secretHash, prefix string, sharedVersion int64) error
	// ListCredentialsExpiring lists every portal's credentials whose expiry is in (after, until], soonest
	// first.
	ListCredentialsExpiring(ctx context.Context, after, until time.Time) ([]Credential, error)
	// SetCredentialExpiry sets (or, with nil, clears) when the credential expires.
	SetCredentialExpiry(ctx context.Context, id string, at *time.Time) error
	DeleteCredential(ctx context.Context, id string) error
}

// SharedSecretStore persists the versions of portals' shared API access secrets.
type SharedSecretStore interface {
	CreateSharedSecret(ctx context.Context, s SharedSecret) error // ErrConflict on a duplicate version/hash
	CurrentSharedSecret(ctx context.Context, portalID string) (SharedSecret, error)
	GetSharedSecretByHash(ctx context.Context, secretHash string) (SharedSecret, error)
	// PruneSharedSecrets deletes the portal's non-current versions that no device references.
	PruneSharedSecrets(ctx context.Context, portalID string) (int64, error)
}

// OAuthTokenStore persists issued OAuth access tokens.
type OAuthTokenStore interface {
	CreateOAuthToken(ctx context.Context, t OAuthToken) error
	GetOAuthToken(ctx context.Context, tokenHash string) (OAuthToken, error)
	DeleteOAuthTokens(ctx context.Context, clientID string) (int64, error)
	DeleteExpiredOAuthTokens(ctx context.Context, now time.Time) (int64, error)
}
