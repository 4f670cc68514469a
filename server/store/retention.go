package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// RetentionStore drops what a deployment no longer needs; package store/retention decides when. Each
// call does at most limit rows (one short write transaction) and returns how many it did.
type RetentionStore interface {
	// DropJobContent empties the content of jobs that finished (done, failed, cancelled, expired) before
	// before, oldest first. Their rows stay, with their Size; JobContent then returns no bytes.
	DropJobContent(ctx context.Context, before time.Time, limit int) (int64, error)
	// DeleteFinishedJobs deletes jobs that finished before before, with their events.
	DeleteFinishedJobs(ctx context.Context, before time.Time, limit int) (int64, error)
	// DeleteAudit deletes audit entries recorded before before.
	DeleteAudit(ctx context.Context, before time.Time, limit int) (int64, error)
	// DeleteDeliveries deletes webhook deliveries that finished (delivered or failed) before before,
	// oldest first; pending ones are never touched.
	DeleteDeliveries(ctx context.Context, before time.Time, limit int) (int64, error)
	// DeleteEvents deletes events recorded before before that no pending delivery still needs, oldest
	// first, with their finished deliveries.
	DeleteEvents(ctx context.Context, before time.Time, limit int) (int64, error)
}

// Exclusive is a store shared by several replicas (store/postgres) that can run a task on one replica at a
// time. The SQLite store has one writer process and does not implement it.
type Exclusive interface {
	// RunExclusive runs fn unless another replica is running a task of the same name, and reports whether
	// it ran. The lock is released when fn returns (or the connection holding it is lost).
	RunExclusive(ctx context.Context, name string, fn func(ctx context.Context) error) (ran bool, err error)
}

// Settings is a store that keeps values set once and checked on every start (both stores).
type Settings interface {
	// EnsureSetting stores value under name unless a value is stored there already, and returns the
	// stored value (the first writer wins).
	EnsureSetting(ctx context.Context, name, value string) (string, error)
}

// PepperSetting names the pepper's fingerprint among a store's settings.
const PepperSetting = "pepper_fingerprint"

// PepperFingerprint identifies a pepper without revealing it (an HMAC of a constant keyed with it): the
// server records it in the store on its first start and refuses another pepper later; a backup carries it.
func PepperFingerprint(pepper []byte) string {
	m := hmac.New(sha256.New, pepper)
	m.Write([]byte("printdock pepper fingerprint v1"))
	return hex.EncodeToString(m.Sum(nil))
}
