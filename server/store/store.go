// Package store owns printdock-server's persistence interface: portals, users, credentials (print client
// keys, personal API keys, shared-secret devices, OAuth clients), shared secret versions, OAuth access
// tokens, the audit log, and agents, their printers and print jobs. Implementations (store/sqlite,
// store/postgres) pass the conformance suite in store/storetest. The store holds no secrets: only keyed
// hashes and displayable prefixes.
//
// Store is split by concern (one file each: accounts.go, credentials.go, audit.go, clients.go, jobs.go);
// consumers declare the part they use (keys.Store, jobs.Store) rather than taking the whole Store.
//
// The store does no authorization and knows no business rules beyond integrity (unique hashes and e-mail
// addresses, foreign keys, optimistic generation and state checks); packages keys and jobs own those.
package store

import (
	"context"
	"errors"
)

// Errors every implementation returns (wrapped) for the conditions callers branch on.
var (
	ErrNotFound = errors.New("store: not found")
	// ErrConflict is a unique-constraint violation or a failed optimistic check (generation changed).
	ErrConflict = errors.New("store: conflict")
	// ErrSerialization is a transaction the database could not serialize with concurrent ones (on
	// PostgreSQL SQLSTATE 40001 or a deadlock, 40P01) after the store's retries. It is never ErrConflict:
	// it says nothing about the row at hand, and the transaction it came from is aborted, so a caller
	// must end that transaction (return the error from InTx's function), never go on in it; running the
	// whole transaction again may succeed. The API answers it 503 with Retry-After (package fault).
	ErrSerialization = errors.New("store: serialization failure")
)

// Queries is every read and write of the store: the methods of each concern. The Store that InTx passes
// to its function offers them inside the transaction.
type Queries interface {
	PortalStore
	UserStore
	CredentialStore
	SharedSecretStore
	OAuthTokenStore
	AuditStore
	ClientStore
	PrinterStore
	JobStore
	RetentionStore
	SessionStore
	EventStore
	WebhookStore
	PortalSettingStore
}

// Store is the persistence interface. Methods that look up one row return ErrNotFound (wrapped) when
// nothing matches; methods that update or delete one row by ID do too.
type Store interface {
	Queries
	// InTx runs fn in one transaction: it commits when fn returns nil and rolls back otherwise. The Store
	// passed to fn must be used for every operation of the transaction; InTx on it runs fn inline.
	//
	// fn may run more than once: the PostgreSQL store retries a transaction that failed on a
	// serialization conflict or deadlock, and the SQLite store reruns the functions that shared a
	// transaction with one that failed (group commit, sqlite/writer.go). So fn must derive everything it
	// leaves behind from what it reads in the current run — assign captured variables, do not append or
	// add to them — and must have no side effect outside the transaction that would be wrong to repeat
	// (a notification through a store.Publisher is fine: it is sent at commit). InTx returning nil means
	// the last run committed.
	InTx(ctx context.Context, fn func(tx Store) error) error
	Close() error
}

type rowLocksKey struct{}

// WithRowLocks marks ctx, passed to InTx, for a transaction whose every decision rests on the job rows it
// reads with GetJob and whose writes are to those rows or appends (package jobs' delivery batches). A
// store may then run it at a lower isolation with those rows locked until commit (store/postgres: READ
// COMMITTED, GetJob FOR UPDATE) instead of SERIALIZABLE, so that concurrent deliveries on several
// replicas do not abort one another. Stores that serialize writers (store/sqlite) ignore it.
func WithRowLocks(ctx context.Context) context.Context {
	return context.WithValue(ctx, rowLocksKey{}, true)
}

// RowLocks reports whether ctx was marked by WithRowLocks.
func RowLocks(ctx context.Context) bool { v, _ := ctx.Value(rowLocksKey{}).(bool); return v }

// JobLocker is offered by the Store that InTx passes to its function when ctx was marked by WithRowLocks
// and the store locks rows (store/postgres): LockJobs locks the jobs with those IDs (unknown ones are
// skipped) until the transaction ends, in one fixed order, so that two transactions locking overlapping
// sets wait for each other instead of deadlocking. Call it first, with every job the transaction will
// read.
type JobLocker interface {
	LockJobs(ctx context.Context, ids []string) error
}
