package keys

import (
	"context"
	"fmt"

	"printdock/protocol"
	"printdock/server/store"
)

// statusKind is what setStatus needs to know of a kind of key: how to load one of the actor's portal, the
// audit actions, and whether its OAuth tokens go with it.
type statusKind struct {
	op                           string
	load                         func(ctx context.Context, q Store, a Actor, id string) (store.Credential, error)
	activate, deactivate, revoke string
	tokens                       bool // an OAuth client: deactivating or revoking deletes its tokens
}

var (
	clientKeyKind = statusKind{op: "print client secret", load: clientKey,
		activate: ActionClientKeyActivate, deactivate: ActionClientKeyDeactivate, revoke: ActionClientKeyRevoke}
	oauthClientKind = statusKind{op: "oauth client", load: oauthClient,
		activate: ActionOAuthClientActivate, deactivate: ActionOAuthClientDeactivate, revoke: ActionOAuthClientRevoke, tokens: true}
)

// setStatus moves a key to want (admin): active, inactive or revoked (for good). Leaving active logs its
// connections out (reason deactivated or revoked); activating records when (ActivatedAt, for "check this
// key"). Activating or deactivating a revoked key is ErrConflict; setting the status a key already has
// changes nothing and announces nothing.
func (s *Service) setStatus(ctx context.Context, a Actor, id string, k statusKind, want Status) (store.Credential, error) {
	if err := requireAdmin(a); err != nil {
		return store.Credential{}, err
	}
	action, reason := k.revoke, protocol.ReasonRevoked
	switch want {
	case StatusActive:
		action, reason = k.activate, ""
	case StatusInactive:
		action, reason = k.deactivate, protocol.ReasonDeactivated
	}
	var c store.Credential
	changed := false
	now := s.clock()
	err := s.tx(ctx, "set "+k.op+" status", func(q store.Store) error {
		var err error
		changed = false
		c, err = k.load(ctx, q, a, id)
		if err != nil || Status(c.Status) == want {
			return err
		}
		if Status(c.Status) == StatusRevoked {
			return fmt.Errorf("keys: %s: the key is revoked: %w", action, ErrConflict)
		}
		if err := q.SetCredentialStatus(ctx, c.ID, string(want)); err != nil {
			return err
		}
		if want == StatusRevoked && c.Previous.Hash != "" { // revoking ends a roll's grace (grace.go)
			if err := q.SetPreviousSecret(ctx, c.ID, "", nil); err != nil {
				return err
			}
		}
		if want == StatusActive {
			if err := q.SetCredentialActivatedAt(ctx, c.ID, now); err != nil {
				return err
			}
			c.ActivatedAt = &now
		}
		if k.tokens && want != StatusActive {
			if _, err := q.DeleteOAuthTokens(ctx, c.ID); err != nil {
				return err
			}
		}
		c.Status, changed = string(want), true
		return s.audit(ctx, q, a.PortalID, actorName(a), action, c.ID, a.RemoteAddr, "")
	})
	if err != nil {
		return store.Credential{}, err
	}
	if changed {
		s.changed(ctx, Change{PortalID: c.PortalID, Action: action, CredentialIDs: []string{c.ID}, Logout: reason})
	}
	return c, nil
}
