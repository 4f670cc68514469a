package keys

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"printdock/protocol"
	"printdock/server/store"
)

// ResetSharedSecret creates a new version of the portal's shared secret and returns it once (admin). The
// confirmation must be exactly SharedResetConfirmation (ErrConfirmationRequired otherwise).
//
// Without resetDevices, devices that share an older version keep it (it keeps working for them and
// nobody else) and devices created from now on get the new one. With resetDevices, every sharing device
// moves to the new version: the old secret stops working and one Event (reason rotated,
// BeforeGeneration = the new version, which is a shared device's Generation) names all of them.
// Versions no device uses any more are deleted.
func (s *Service) ResetSharedSecret(ctx context.Context, a Actor, confirmation string, resetDevices bool) (string, error) {
	if err := requireAdmin(a); err != nil {
		return "", err
	}
	if confirmation != SharedResetConfirmation {
		return "", fmt.Errorf("keys: reset shared secret: type %q to confirm: %w", SharedResetConfirmation, ErrConfirmationRequired)
	}
	secret, h, prefix, err := s.newSecret(protocol.KindShared)
	if err != nil {
		return "", err
	}
	var moved []string
	var version int64
	err = s.tx(ctx, "reset shared secret", func(q store.Store) error {
		cur, err := q.CurrentSharedSecret(ctx, a.PortalID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		version = cur.Version + 1
		if err := q.CreateSharedSecret(ctx, store.SharedSecret{
			PortalID: a.PortalID, Version: version, SecretHash: h, Prefix: prefix, CreatedAt: s.clock(), CreatedBy: actorName(a),
		}); err != nil {
			return err
		}
		if resetDevices {
			if moved, err = q.MoveSharedDevices(ctx, a.PortalID, version, prefix); err != nil {
				return err
			}
		}
		if _, err := q.PruneSharedSecrets(ctx, a.PortalID); err != nil {
			return err
		}
		return s.audit(ctx, q, a.PortalID, actorName(a), ActionSharedSecretReset, "shared-secret", a.RemoteAddr,
			fmt.Sprintf("version=%d reset_devices=%t devices_moved=%d", version, resetDevices, len(moved)))
	})
	if err != nil {
		return "", err
	}
	slices.Sort(moved)
	s.changed(ctx, Change{PortalID: a.PortalID, Action: ActionSharedSecretReset, CredentialIDs: moved, Logout: protocol.ReasonRotated, BeforeGeneration: version})
	return secret, nil
}
