package keys

import "context"

// Change is one committed change in a key's lifecycle. Every change that others may react to goes through
// Service.changed, the single place where key events happen: the websocket hub gets its logout Event from
// here, and a ChangeHook (webhooks: key.rotated, key.revoked, key.expiring, …) sees every Change.
type Change struct {
	PortalID      string
	Action        string   // the audit action, e.g. ActionClientKeyRotate, ActionKeyExpiring
	CredentialIDs []string // the keys concerned
	// Logout is the protocol reason when live connections of the keys end ("" when none do);
	// BeforeGeneration limits it to older generations of the secret (rotation).
	Logout           string
	BeforeGeneration int64
	Detail           string // as in the audit entry; never a secret
}

// ChangeHook receives every Change after it is committed, synchronously: it must not block (queue the
// work) and must not call back into the Service under a lock.
type ChangeHook func(ctx context.Context, c Change)

// WithChangeHook adds a hook that sees every key Change (several hooks run in the order added).
func WithChangeHook(h ChangeHook) Option {
	return func(s *Service) { s.hooks = append(s.hooks, h) }
}

// changed announces a committed change: the hub's logout event first, then the hooks. A change that logs
// nobody out (a roll with a grace period) is published too, with no reason: the verification caches of
// every replica drop the key (authcache.go), so an old secret never outlives its grace there.
func (s *Service) changed(ctx context.Context, c Change) {
	if c.Logout != "" || c.Action == ActionAPIKeyRotate || c.Action == ActionOAuthClientRotate {
		s.events.publish(Event{PortalID: c.PortalID, CredentialIDs: c.CredentialIDs, Reason: c.Logout,
			BeforeGeneration: c.BeforeGeneration})
	}
	for _, h := range s.hooks {
		h(ctx, c)
	}
}
