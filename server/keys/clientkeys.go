package keys

import (
	"context"
	"fmt"

	"printdock/protocol"
	"printdock/server/store"
)

// Audit actions for print client secrets and shared-secret devices.
const (
	ActionClientKeyCreate     = "print_client_secret.create"
	ActionClientKeyRotate     = "print_client_secret.rotate"
	ActionClientKeyActivate   = "print_client_secret.activate"
	ActionClientKeyDeactivate = "print_client_secret.deactivate"
	ActionClientKeyRevoke     = "print_client_secret.revoke"
	ActionClientKeyDelete     = "print_client_secret.delete"
	ActionSharedSecretCreate  = "shared_secret.create"
	ActionSharedSecretReset   = "shared_secret.reset"
)

func toClientKey(c store.Credential) ClientKey {
	return ClientKey{
		ID: c.ID, PortalID: c.PortalID, Description: c.Description, Prefix: c.Prefix, Status: Status(c.Status),
		UseSharedSecret: c.Kind == store.CredSharedDevice, CreatedAt: c.CreatedAt, CreatedBy: c.CreatedBy,
		LastAccessedAt: c.LastAccessedAt, ActivatedAt: c.ActivatedAt, ExpiresAt: c.ExpiresAt,
	}
}

// clientKey loads a print client key or shared device of a's portal; anything else is ErrNotFound.
func clientKey(ctx context.Context, q Store, a Actor, id string) (store.Credential, error) {
	c, err := q.GetCredential(ctx, id)
	if err != nil {
		return c, mapStoreErr("get print client secret", err)
	}
	if c.PortalID != a.PortalID || (c.Kind != store.CredPrintClient && c.Kind != store.CredSharedDevice) {
		return store.Credential{}, fmt.Errorf("keys: get print client secret: %w", ErrNotFound)
	}
	return c, nil
}

// CreateClientKey creates a print client secret (admin). With UseSharedSecret it creates a device that
// authenticates with the portal's current shared secret and its own ID; if the portal has no shared
// secret yet, one is created and returned once in Created.Secret.
func (s *Service) CreateClientKey(ctx context.Context, a Actor, opts NewClientKey) (Created, error) {
	if err := requireAdmin(a); err != nil {
		return Created{}, err
	}
	desc, err := checkDescription(opts.Description)
	if err != nil {
		return Created{}, err
	}
	if opts.Inactive {
		opts.Active = new(false)
	}
	status, err := s.newKeyStatus(ctx, a.PortalID, opts.Active)
	if err != nil {
		return Created{}, err
	}
	now := s.clock()
	c := store.Credential{
		PortalID: a.PortalID, CreatorID: a.UserID, Description: desc, Status: string(status), Generation: 1,
		CreatedAt: now, CreatedBy: actorName(a),
	}
	var out Created
	if !opts.UseSharedSecret {
		secret, h, prefix, err := s.newSecret(protocol.KindPrintClient)
		if err != nil {
			return Created{}, err
		}
		c.ID, c.Kind, c.SecretHash, c.Prefix = newID(idPrintClient), store.CredPrintClient, h, prefix
		out.Secret = secret
		err = s.tx(ctx, "create print client secret", func(q store.Store) error {
			if err := q.CreateCredential(ctx, c); err != nil {
				return err
			}
			return s.audit(ctx, q, a.PortalID, actorName(a), ActionClientKeyCreate, c.ID, a.RemoteAddr,
				fmt.Sprintf("description=%q status=%s", desc, status))
		})
		if err != nil {
			return Created{}, err
		}
		out.Key = toClientKey(c)
		return out, nil
	}
	c.ID, c.Kind = newID(idSharedDevice), store.CredSharedDevice
	err = s.tx(ctx, "create shared device", func(q store.Store) error {
		sh, secret, err := s.currentSharedSecret(ctx, q, a)
		if err != nil {
			return err
		}
		out.Secret = secret
		c.SharedVersion, c.Prefix = sh.Version, sh.Prefix
		if err := q.CreateCredential(ctx, c); err != nil {
			return err
		}
		return s.audit(ctx, q, a.PortalID, actorName(a), ActionClientKeyCreate, c.ID, a.RemoteAddr,
			fmt.Sprintf("description=%q status=%s use_shared_secret=true shared_version=%d", desc, status, sh.Version))
	})
	if err != nil {
		return Created{}, err
	}
	out.Key = toClientKey(c)
	return out, nil
}

// ListClientKeys lists the portal's print client secrets and shared devices, oldest first (admin), one
// page (keyset store.TimeKey(created_at, id)).
func (s *Service) ListClientKeys(ctx context.Context, a Actor, p store.Page) ([]ClientKey, error) {
	return s.listClientKeys(ctx, a, p, store.CredPrintClient, store.CredSharedDevice)
}

// SharedDevices lists the portal's devices that use the shared secret (admin), one page as ListClientKeys.
func (s *Service) SharedDevices(ctx context.Context, a Actor, p store.Page) ([]ClientKey, error) {
	return s.listClientKeys(ctx, a, p, store.CredSharedDevice)
}

func (s *Service) listClientKeys(ctx context.Context, a Actor, p store.Page, kinds ...store.CredentialKind) ([]ClientKey, error) {
	if err := requireAdmin(a); err != nil {
		return nil, err
	}
	cs, err := s.st.ListCredentials(ctx, a.PortalID, p, kinds...)
	if err != nil {
		return nil, mapStoreErr("list print client secrets", err)
	}
	out := make([]ClientKey, 0, len(cs))
	for _, c := range cs {
		out = append(out, toClientKey(c))
	}
	return out, nil
}

// GetClientKey returns one print client secret or shared device of the actor's portal (admin).
func (s *Service) GetClientKey(ctx context.Context, a Actor, id string) (ClientKey, error) {
	if err := requireAdmin(a); err != nil {
		return ClientKey{}, err
	}
	c, err := clientKey(ctx, s.st, a, id)
	if err != nil {
		return ClientKey{}, err
	}
	return toClientKey(c), nil
}

// RotateClientKey replaces a print client secret, keeping its ID and status; the old secret stops working
// at once and connections using it are logged out (reason rotated). A revoked key cannot be rotated
// (ErrConflict); a shared device is rotated by resetting the shared secret (ErrInvalid).
func (s *Service) RotateClientKey(ctx context.Context, a Actor, id string) (Created, error) {
	if err := requireAdmin(a); err != nil {
		return Created{}, err
	}
	secret, h, prefix, err := s.newSecret(protocol.KindPrintClient)
	if err != nil {
		return Created{}, err
	}
	var c store.Credential
	err = s.tx(ctx, "rotate print client secret", func(q store.Store) error {
		c, err = clientKey(ctx, q, a, id)
		if err != nil {
			return err
		}
		if c.Kind == store.CredSharedDevice {
			return fmt.Errorf("keys: rotate: a device using the shared secret is rotated by resetting the shared secret: %w", ErrInvalid)
		}
		if Status(c.Status) == StatusRevoked {
			return fmt.Errorf("keys: rotate: the key is revoked: %w", ErrConflict)
		}
		if err := q.ReplaceSecret(ctx, c.ID, h, prefix, c.Generation); err != nil {
			return err
		}
		c.SecretHash, c.Prefix, c.Generation = h, prefix, c.Generation+1
		return s.audit(ctx, q, a.PortalID, actorName(a), ActionClientKeyRotate, c.ID, a.RemoteAddr, fmt.Sprintf("generation=%d", c.Generation))
	})
	if err != nil {
		return Created{}, err
	}
	s.changed(ctx, Change{PortalID: c.PortalID, Action: ActionClientKeyRotate, CredentialIDs: []string{c.ID}, Logout: protocol.ReasonRotated, BeforeGeneration: c.Generation})
	return Created{Key: toClientKey(c), Secret: secret}, nil
}

// SetClientKeyActive activates or deactivates a print client secret or shared device. Deactivating logs
// its connections out (reason deactivated). Activating a revoked key is ErrConflict. Setting the status
// it already has changes nothing and publishes nothing.
func (s *Service) SetClientKeyActive(ctx context.Context, a Actor, id string, active bool) (ClientKey, error) {
	want := StatusInactive
	if active {
		want = StatusActive
	}
	c, err := s.setStatus(ctx, a, id, clientKeyKind, want)
	return toClientKey(c), err
}

// RevokeClientKey revokes a print client secret or shared device for good and logs its connections out
// (reason revoked). Revoking a revoked key changes nothing.
func (s *Service) RevokeClientKey(ctx context.Context, a Actor, id string) (ClientKey, error) {
	c, err := s.setStatus(ctx, a, id, clientKeyKind, StatusRevoked)
	return toClientKey(c), err
}

// DeleteClientKey deletes a print client secret or shared device (any status); its secret is then
// unknown (ErrUnauthenticated) and its connections are logged out (reason deleted).
func (s *Service) DeleteClientKey(ctx context.Context, a Actor, id string) error {
	if err := requireAdmin(a); err != nil {
		return err
	}
	var c store.Credential
	err := s.tx(ctx, "delete print client secret", func(q store.Store) error {
		var err error
		c, err = clientKey(ctx, q, a, id)
		if err != nil {
			return err
		}
		if err := q.DeleteCredential(ctx, c.ID); err != nil {
			return err
		}
		if c.Kind == store.CredSharedDevice {
			if _, err := q.PruneSharedSecrets(ctx, c.PortalID); err != nil {
				return err
			}
		}
		return s.audit(ctx, q, a.PortalID, actorName(a), ActionClientKeyDelete, c.ID, a.RemoteAddr, fmt.Sprintf("description=%q", c.Description))
	})
	if err != nil {
		return err
	}
	s.forgetTouch(c.ID)
	s.changed(ctx, Change{PortalID: c.PortalID, Action: ActionClientKeyDelete, CredentialIDs: []string{c.ID}, Logout: protocol.ReasonDeleted})
	return nil
}
