package keys

import (
	"context"
	"errors"
	"fmt"

	"printdock/protocol"
	"printdock/server/store"
)

// Audit actions for moving a device between the shared secret and a secret of its own.
const (
	ActionClientKeyOwnSecret    = "print_client_secret.own_secret"
	ActionClientKeySharedSecret = "print_client_secret.use_shared_secret"
)

// GiveOwnSecret gives a device that uses the portal's shared secret a print client secret of its own,
// keeping its device ID (and so its clients, printers and jobs) and status, and returns the new secret
// once. The agent connected with the shared secret is logged out with reason own_secret, which tells
// staff to paste the new secret. A revoked device is ErrConflict; a key that already has its own secret
// is ErrInvalid.
func (s *Service) GiveOwnSecret(ctx context.Context, a Actor, id string) (Created, error) {
	if err := requireAdmin(a); err != nil {
		return Created{}, err
	}
	secret, h, prefix, err := s.newSecret(protocol.KindPrintClient)
	if err != nil {
		return Created{}, err
	}
	var c store.Credential
	err = s.tx(ctx, "give own secret", func(q store.Store) error {
		if c, err = movableKey(ctx, q, a, id, store.CredSharedDevice); err != nil {
			return err
		}
		if err := q.SwitchCredentialSecret(ctx, c.ID, store.CredPrintClient, h, prefix, 0); err != nil {
			return err
		}
		if _, err := q.PruneSharedSecrets(ctx, c.PortalID); err != nil {
			return err
		}
		c.Kind, c.SecretHash, c.Prefix, c.SharedVersion, c.Generation = store.CredPrintClient, h, prefix, 0, c.Generation+1
		return s.audit(ctx, q, a.PortalID, actorName(a), ActionClientKeyOwnSecret, c.ID, a.RemoteAddr, fmt.Sprintf("description=%q", c.Description))
	})
	if err != nil {
		return Created{}, err
	}
	s.changed(ctx, Change{PortalID: c.PortalID, Action: ActionClientKeyOwnSecret, CredentialIDs: []string{c.ID}, Logout: protocol.ReasonOwnSecret})
	return Created{Key: toClientKey(c), Secret: secret}, nil
}

// UseSharedSecret moves a print client key to the portal's shared secret, keeping its ID, which becomes
// the device ID the agent sends with the shared secret. Its own secret stops working and its agent is
// logged out with reason shared_secret. When the portal has no shared secret yet, one is created and
// returned once in Created.Secret.
func (s *Service) UseSharedSecret(ctx context.Context, a Actor, id string) (Created, error) {
	if err := requireAdmin(a); err != nil {
		return Created{}, err
	}
	var c store.Credential
	var out Created
	err := s.tx(ctx, "use shared secret", func(q store.Store) error {
		var err error
		out = Created{}
		if c, err = movableKey(ctx, q, a, id, store.CredPrintClient); err != nil {
			return err
		}
		sh, secret, err := s.currentSharedSecret(ctx, q, a)
		if err != nil {
			return err
		}
		out.Secret = secret
		if err := q.SwitchCredentialSecret(ctx, c.ID, store.CredSharedDevice, "", sh.Prefix, sh.Version); err != nil {
			return err
		}
		c.Kind, c.SecretHash, c.Prefix, c.SharedVersion, c.Generation = store.CredSharedDevice, "", sh.Prefix, sh.Version, c.Generation+1
		return s.audit(ctx, q, a.PortalID, actorName(a), ActionClientKeySharedSecret, c.ID, a.RemoteAddr,
			fmt.Sprintf("description=%q shared_version=%d", c.Description, sh.Version))
	})
	if err != nil {
		return Created{}, err
	}
	s.forgetTouch(c.ID)
	s.changed(ctx, Change{PortalID: c.PortalID, Action: ActionClientKeySharedSecret, CredentialIDs: []string{c.ID}, Logout: protocol.ReasonSharedSecret})
	out.Key = toClientKey(c)
	return out, nil
}

// movableKey loads a key of a's portal that is of kind from and not revoked.
func movableKey(ctx context.Context, q Store, a Actor, id string, from store.CredentialKind) (store.Credential, error) {
	c, err := clientKey(ctx, q, a, id)
	if err != nil {
		return c, err
	}
	if c.Kind != from {
		what := "its own secret"
		if c.Kind == store.CredSharedDevice {
			what = "the shared secret"
		}
		return c, fmt.Errorf("keys: the key already uses %s: %w", what, ErrInvalid)
	}
	if Status(c.Status) == StatusRevoked {
		return c, fmt.Errorf("keys: the key is revoked: %w", ErrConflict)
	}
	return c, nil
}

// currentSharedSecret returns the portal's current shared secret version, creating version 1 (and
// returning its secret, once) when the portal has none.
func (s *Service) currentSharedSecret(ctx context.Context, q store.Store, a Actor) (store.SharedSecret, string, error) {
	sh, err := q.CurrentSharedSecret(ctx, a.PortalID)
	if !errors.Is(err, store.ErrNotFound) {
		return sh, "", err
	}
	secret, h, prefix, err := s.newSecret(protocol.KindShared)
	if err != nil {
		return sh, "", err
	}
	sh = store.SharedSecret{PortalID: a.PortalID, Version: 1, SecretHash: h, Prefix: prefix, CreatedAt: s.clock(), CreatedBy: actorName(a)}
	if err := q.CreateSharedSecret(ctx, sh); err != nil {
		return sh, "", err
	}
	if err := s.audit(ctx, q, a.PortalID, actorName(a), ActionSharedSecretCreate, "shared-secret", a.RemoteAddr, "version=1"); err != nil {
		return sh, "", err
	}
	return sh, secret, nil
}
