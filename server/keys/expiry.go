package keys

import (
	"context"
	"fmt"
	"time"

	"printdock/protocol"
	"printdock/server/store"
)

// Audit and change actions of key expiry.
const (
	ActionKeySetExpiry = "key.set_expiry"
	ActionKeyExpiring  = "key.expiring" // a Change only (webhooks), 14 and 3 days before
	ActionKeyExpired   = "key.expired"
)

// ExpiryWarnings are how long before its expiry a key is announced as expiring (key.expiring) and shown
// with a warning in the portal.
var ExpiryWarnings = []time.Duration{14 * 24 * time.Hour, 3 * 24 * time.Hour}

// expired reports whether c's expiry has passed at now.
func expired(c store.Credential, now time.Time) bool {
	return c.ExpiresAt != nil && !now.Before(*c.ExpiresAt)
}

// SetExpiry sets (nil: clears) when a key of the actor's portal stops working by itself (admin): a print
// client secret, a shared-secret device, an OAuth client or a personal API key (by its key ID). An
// expired key fails like a revoked one; a time already past logs its connections out at once (reason
// expired). Revoked keys are ErrConflict.
func (s *Service) SetExpiry(ctx context.Context, a Actor, id string, at *time.Time) error {
	if err := requireAdmin(a); err != nil {
		return err
	}
	if at != nil {
		t := at.UTC()
		at = &t
	}
	var c store.Credential
	err := s.tx(ctx, "set expiry", func(q store.Store) error {
		var err error
		if c, err = q.GetCredential(ctx, id); err != nil {
			return err
		}
		if c.PortalID != a.PortalID {
			return fmt.Errorf("keys: set expiry: %w", ErrNotFound)
		}
		if Status(c.Status) == StatusRevoked {
			return fmt.Errorf("keys: set expiry: the key is revoked: %w", ErrConflict)
		}
		if err := q.SetCredentialExpiry(ctx, c.ID, at); err != nil {
			return err
		}
		detail := "expires_at=never"
		if at != nil {
			detail = "expires_at=" + at.Format(time.RFC3339)
		}
		return s.audit(ctx, q, a.PortalID, actorName(a), ActionKeySetExpiry, c.ID, a.RemoteAddr, detail)
	})
	if err != nil {
		return err
	}
	if at != nil && !s.clock().Before(*at) {
		s.changed(ctx, Change{PortalID: c.PortalID, Action: ActionKeyExpired, CredentialIDs: []string{c.ID}, Logout: protocol.ReasonExpired})
	} else { // no logout (Reason ""): caches of the key drop it and read the new expiry (authcache.go)
		s.events.publish(Event{PortalID: c.PortalID, CredentialIDs: []string{c.ID}})
	}
	return nil
}

// SweepExpiry announces what happened to expiry dates in (since, now]: keys that expired log their
// connections out (reason expired, an audit entry), and keys reaching a warning (ExpiryWarnings before
// their expiry) are announced as key.expiring. The server calls it periodically with the previous now.
func (s *Service) SweepExpiry(ctx context.Context, since, now time.Time) error {
	due, err := s.st.ListCredentialsExpiring(ctx, since, now)
	if err != nil {
		return mapStoreErr("sweep expiry", err)
	}
	for _, c := range due {
		if err := s.audit(ctx, s.st, c.PortalID, "system", ActionKeyExpired, c.ID, "", "expires_at="+c.ExpiresAt.Format(time.RFC3339)); err != nil {
			return err
		}
		s.changed(ctx, Change{PortalID: c.PortalID, Action: ActionKeyExpired, CredentialIDs: []string{c.ID}, Logout: protocol.ReasonExpired})
	}
	for _, w := range ExpiryWarnings {
		soon, err := s.st.ListCredentialsExpiring(ctx, since.Add(w), now.Add(w))
		if err != nil {
			return mapStoreErr("sweep expiry", err)
		}
		for _, c := range soon {
			if err := s.recordExpiring(ctx, c, now); err != nil {
				return err
			}
			s.changed(ctx, Change{PortalID: c.PortalID, Action: ActionKeyExpiring, CredentialIDs: []string{c.ID},
				Detail: "expires_at=" + c.ExpiresAt.Format(time.RFC3339)})
		}
	}
	return nil
}

// RunExpiry calls SweepExpiry every interval until ctx ends (the server runs it once per process).
func (s *Service) RunExpiry(ctx context.Context, every time.Duration) {
	last := s.clock()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			now := s.clock()
			if err := s.SweepExpiry(ctx, last, now); err != nil {
				s.log.Warn("keys: expiry sweep", "err", err)
				continue
			}
			last = now
		}
	}
}

// ExpiresSoon reports whether at is within the first expiry warning of now (the portal's warning).
func ExpiresSoon(at *time.Time, now time.Time) bool {
	return at != nil && at.Sub(now) <= ExpiryWarnings[0]
}
