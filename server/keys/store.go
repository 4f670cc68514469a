package keys

import (
	"context"
	"time"

	"printdock/server/store"
)

// Store is what the key service needs of its store (store/sqlite, store/postgres): transactions for every
// change, and the reads (and the few unconditional writes: last access, audit entries of failed sign-ins)
// it makes outside them. A function run by InTx gets the whole transaction (store.Store) and may run more
// than once (see store.Store.InTx). A store.Store is a Store.
type Store interface {
	InTx(ctx context.Context, fn func(tx store.Store) error) error

	CountPortals(ctx context.Context) (int, error)

	GetUser(ctx context.Context, id string) (store.User, error)
	GetUserByEmail(ctx context.Context, email string) (store.User, error)
	ListUsers(ctx context.Context, portalID string, p store.Page) ([]store.User, error)

	GetCredential(ctx context.Context, id string) (store.Credential, error)
	GetCredentialByHash(ctx context.Context, secretHash string) (store.Credential, error)
	ListCredentials(ctx context.Context, portalID string, p store.Page, kinds ...store.CredentialKind) ([]store.Credential, error)
	UserAPIKey(ctx context.Context, userID string) (store.Credential, error)
	TouchCredential(ctx context.Context, id string, at time.Time) error
	GetCredentialByPreviousHash(ctx context.Context, previousHash string) (store.Credential, error) // grace.go
	TouchPreviousSecret(ctx context.Context, id string, at time.Time, from string) error
	ListCredentialsExpiring(ctx context.Context, after, until time.Time) ([]store.Credential, error)

	GetSharedSecretByHash(ctx context.Context, secretHash string) (store.SharedSecret, error)
	GetOAuthToken(ctx context.Context, tokenHash string) (store.OAuthToken, error)
	PortalSettings(ctx context.Context, portalID string) (map[string]string, error)

	AppendAudit(ctx context.Context, e store.AuditEntry) (int64, error)
	// AppendEvent records key events (package events) with the audit entry of the change.
	AppendEvent(ctx context.Context, e store.Event) (int64, error)
	ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error)
}

var _ Store = store.Store(nil)
