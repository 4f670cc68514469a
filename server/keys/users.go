package keys

import (
	"context"
	"fmt"
	"strings"
	"time"

	"printdock/protocol"
	"printdock/server/store"
)

// Audit actions for portals and users.
const (
	ActionPortalCreate  = "portal.create"
	ActionUserCreate    = "user.create"
	ActionUserRole      = "user.set_role"
	ActionUserDelete    = "user.delete"
	ActionAPIKeyRotate  = "api_key.rotate"
	systemActor         = "system"
	maxPortalNameLength = 200
)

// Bootstrapped reports whether the store holds a portal.
func (s *Service) Bootstrapped(ctx context.Context) (bool, error) {
	n, err := s.st.CountPortals(ctx)
	if err != nil {
		return false, mapStoreErr("bootstrapped", err)
	}
	return n > 0, nil
}

// Init creates the first portal and its administrator (random password and personal API key) on an empty
// store; ErrConflict otherwise. The result is the only time the password and key are shown.
func (s *Service) Init(ctx context.Context, portalName, adminEmail string) (InitResult, error) {
	return s.createPortal(ctx, portalName, adminEmail, true)
}

// CreatePortal creates another portal with its first administrator (server-level: no actor; used by
// operators' tooling and multi-tenant tests).
func (s *Service) CreatePortal(ctx context.Context, portalName, adminEmail string) (InitResult, error) {
	return s.createPortal(ctx, portalName, adminEmail, false)
}

func (s *Service) createPortal(ctx context.Context, name, adminEmail string, first bool) (InitResult, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > maxPortalNameLength {
		return InitResult{}, fmt.Errorf("keys: create portal: name must be 1–%d bytes: %w", maxPortalNameLength, ErrInvalid)
	}
	email, err := normalizeEmail(adminEmail)
	if err != nil {
		return InitResult{}, err
	}
	pw, err := newPassword()
	if err != nil {
		return InitResult{}, err
	}
	pwHash, err := s.hashPassword(ctx, pw)
	if err != nil {
		return InitResult{}, err
	}
	now := s.clock()
	p := store.Portal{ID: newID(idPortal), Name: name, CreatedAt: now}
	u := store.User{ID: newID(idUser), PortalID: p.ID, Email: email, Role: string(RoleAdmin), PasswordHash: pwHash, CreatedAt: now}
	key, err := s.newUserKey(u, systemActor)
	if err != nil {
		return InitResult{}, err
	}
	err = s.tx(ctx, "create portal", func(q store.Store) error {
		if first {
			n, err := q.CountPortals(ctx)
			if err != nil {
				return err
			}
			if n > 0 {
				return fmt.Errorf("keys: init: the store already has a portal: %w", ErrConflict)
			}
		}
		if err := q.CreatePortal(ctx, p); err != nil {
			return err
		}
		if err := q.CreateUser(ctx, u); err != nil {
			return err
		}
		if err := q.CreateCredential(ctx, key.cred); err != nil {
			return err
		}
		if err := s.audit(ctx, q, p.ID, systemActor, ActionPortalCreate, p.ID, "", fmt.Sprintf("name=%q", name)); err != nil {
			return err
		}
		return s.audit(ctx, q, p.ID, systemActor, ActionUserCreate, u.ID, "", fmt.Sprintf("email=%s role=admin", email))
	})
	if err != nil {
		return InitResult{}, err
	}
	return InitResult{PortalID: p.ID, AdminEmail: email, AdminPassword: pw, AdminAPIKey: key.secret}, nil
}

type userKey struct {
	cred   store.Credential
	secret string
}

func (s *Service) newUserKey(u store.User, createdBy string) (userKey, error) {
	secret, h, prefix, err := s.newSecret(protocol.KindUser)
	if err != nil {
		return userKey{}, err
	}
	return userKey{secret: secret, cred: store.Credential{
		ID: newID(idUserKey), PortalID: u.PortalID, Kind: store.CredUserKey, UserID: u.ID, CreatorID: "",
		Description: "personal API key of " + u.Email, Prefix: prefix, SecretHash: h, Status: string(StatusActive),
		Generation: 1, CreatedAt: u.CreatedAt, CreatedBy: createdBy,
	}}, nil
}

func toUser(u store.User, key store.Credential) User {
	return User{ID: u.ID, PortalID: u.PortalID, Email: u.Email, Role: Role(u.Role), APIKeyPrefix: key.Prefix,
		APIKeyLastAccessedAt: key.LastAccessedAt, CreatedAt: u.CreatedAt, APIKeyGrace: graceOf(key)}
}

// portalUser loads a user of a's portal (ErrNotFound for other portals' users).
func portalUser(ctx context.Context, q Store, a Actor, id string) (store.User, error) {
	u, err := q.GetUser(ctx, id)
	if err != nil {
		return u, mapStoreErr("get user", err)
	}
	if u.PortalID != a.PortalID {
		return store.User{}, fmt.Errorf("keys: get user: %w", ErrNotFound)
	}
	return u, nil
}

// Me returns the acting user (a personal API key or portal session; not devices or OAuth clients).
func (s *Service) Me(ctx context.Context, a Actor) (User, error) {
	if err := requireUser(a); err != nil {
		return User{}, err
	}
	u, err := portalUser(ctx, s.st, a, a.UserID)
	if err != nil {
		return User{}, err
	}
	k, err := s.st.UserAPIKey(ctx, u.ID)
	if err != nil {
		return User{}, mapStoreErr("me", err)
	}
	return toUser(u, k), nil
}

// ListUsers lists the portal's users by e-mail (admin), one page (keyset store.NameKey(email, id)).
func (s *Service) ListUsers(ctx context.Context, a Actor, p store.Page) ([]User, error) {
	if err := requireAdmin(a); err != nil {
		return nil, err
	}
	us, err := s.st.ListUsers(ctx, a.PortalID, p)
	if err != nil {
		return nil, mapStoreErr("list users", err)
	}
	ks, err := s.st.ListCredentials(ctx, a.PortalID, store.Page{}, store.CredUserKey)
	if err != nil {
		return nil, mapStoreErr("list users", err)
	}
	key := make(map[string]store.Credential, len(ks))
	for _, k := range ks {
		key[k.UserID] = k
	}
	out := make([]User, 0, len(us))
	for _, u := range us {
		out = append(out, toUser(u, key[u.ID]))
	}
	return out, nil
}

func validRole(r Role) error {
	if r != RoleAdmin && r != RoleUser {
		return fmt.Errorf("keys: role must be admin or user: %w", ErrInvalid)
	}
	return nil
}

// CreateUser adds a user to the actor's portal (admin) and returns, once, a random password and personal
// API key. A duplicate e-mail (in any portal: sign-in is by e-mail alone) is ErrConflict.
func (s *Service) CreateUser(ctx context.Context, a Actor, email string, role Role) (User, string, string, error) {
	if err := requireAdmin(a); err != nil {
		return User{}, "", "", err
	}
	email, err := normalizeEmail(email)
	if err != nil {
		return User{}, "", "", err
	}
	if err := validRole(role); err != nil {
		return User{}, "", "", err
	}
	pw, err := newPassword()
	if err != nil {
		return User{}, "", "", err
	}
	pwHash, err := s.hashPassword(ctx, pw)
	if err != nil {
		return User{}, "", "", err
	}
	u := store.User{ID: newID(idUser), PortalID: a.PortalID, Email: email, Role: string(role), PasswordHash: pwHash, CreatedAt: s.clock()}
	key, err := s.newUserKey(u, actorName(a))
	if err != nil {
		return User{}, "", "", err
	}
	err = s.tx(ctx, "create user", func(q store.Store) error {
		if err := q.CreateUser(ctx, u); err != nil {
			return err
		}
		if err := q.CreateCredential(ctx, key.cred); err != nil {
			return err
		}
		return s.audit(ctx, q, a.PortalID, actorName(a), ActionUserCreate, u.ID, a.RemoteAddr, fmt.Sprintf("email=%s role=%s", email, role))
	})
	if err != nil {
		return User{}, "", "", err
	}
	return toUser(u, key.cred), pw, key.secret, nil
}

// SetUserRole changes a user's role (admin). Demoting the portal's last administrator is ErrConflict.
func (s *Service) SetUserRole(ctx context.Context, a Actor, userID string, role Role) (User, error) {
	if err := requireAdmin(a); err != nil {
		return User{}, err
	}
	if err := validRole(role); err != nil {
		return User{}, err
	}
	var u store.User
	var key store.Credential
	err := s.tx(ctx, "set user role", func(q store.Store) error {
		var err error
		u, err = portalUser(ctx, q, a, userID)
		if err != nil {
			return err
		}
		if k, err := q.UserAPIKey(ctx, u.ID); err == nil {
			key = k
		}
		if Role(u.Role) == role {
			return nil
		}
		if err := lastAdminCheck(ctx, q, u); err != nil {
			return err
		}
		if err := q.SetUserRole(ctx, u.ID, string(role)); err != nil {
			return err
		}
		old := u.Role
		u.Role = string(role)
		return s.audit(ctx, q, a.PortalID, actorName(a), ActionUserRole, u.ID, a.RemoteAddr, fmt.Sprintf("email=%s role=%s->%s", u.Email, old, role))
	})
	if err != nil {
		return User{}, err
	}
	// No logout (Reason ""): the user's API key stays valid, but with the new role; caches drop it.
	s.events.publish(Event{PortalID: u.PortalID, CredentialIDs: []string{u.ID}})
	return toUser(u, key), nil
}

func lastAdminCheck(ctx context.Context, q store.Store, u store.User) error {
	if Role(u.Role) != RoleAdmin {
		return nil
	}
	n, err := q.CountAdmins(ctx, u.PortalID)
	if err != nil {
		return err
	}
	if n <= 1 {
		return fmt.Errorf("keys: the portal's last administrator must stay: %w", ErrConflict)
	}
	return nil
}

// DeleteUser deletes a user and their personal API key (admin). Connections using the key and the
// user's portal sessions are logged out: the Event names the key ID and the user ID (reason deleted).
// Deleting the portal's last administrator is ErrConflict. OAuth clients the user created keep working.
func (s *Service) DeleteUser(ctx context.Context, a Actor, userID string) error {
	if err := requireAdmin(a); err != nil {
		return err
	}
	var ids []string
	err := s.tx(ctx, "delete user", func(q store.Store) error {
		u, err := portalUser(ctx, q, a, userID)
		if err != nil {
			return err
		}
		if err := lastAdminCheck(ctx, q, u); err != nil {
			return err
		}
		if k, err := q.UserAPIKey(ctx, u.ID); err == nil {
			ids = append(ids, k.ID)
		}
		ids = append(ids, u.ID)
		if err := q.DeleteUser(ctx, u.ID); err != nil {
			return err
		}
		return s.audit(ctx, q, a.PortalID, actorName(a), ActionUserDelete, u.ID, a.RemoteAddr, "email="+u.Email)
	})
	if err != nil {
		return err
	}
	s.forgetTouch(ids...)
	s.changed(ctx, Change{PortalID: a.PortalID, Action: ActionUserDelete, CredentialIDs: ids, Logout: protocol.ReasonDeleted})
	return nil
}

// RotateOwnAPIKey replaces the acting user's personal API key; it needs confirm (ErrConfirmationRequired)
// because every client using the key is logged out (reason rotated).
func (s *Service) RotateOwnAPIKey(ctx context.Context, a Actor, confirm bool) (string, error) {
	r, err := s.RollOwnAPIKey(ctx, a, confirm, 0)
	return r.Secret, err
}

// RollOwnAPIKey is RotateOwnAPIKey with a grace period (0..MaxGrace, ErrGraceRange outside): the old key
// keeps working until the grace ends, and its clients are not logged out before then.
func (s *Service) RollOwnAPIKey(ctx context.Context, a Actor, confirm bool, grace time.Duration) (Rolled, error) {
	if err := requireUser(a); err != nil {
		return Rolled{}, err
	}
	if err := checkGrace(grace); err != nil {
		return Rolled{}, err
	}
	if !confirm {
		return Rolled{}, fmt.Errorf("keys: rotating your API key logs you out of every client: %w", ErrConfirmationRequired)
	}
	return s.rotateUserKey(ctx, a, a.UserID, grace)
}

// RotateUserAPIKey replaces any user's personal API key in the admin's portal, without confirmation.
func (s *Service) RotateUserAPIKey(ctx context.Context, a Actor, userID string) (string, error) {
	r, err := s.RollUserAPIKey(ctx, a, userID, 0)
	return r.Secret, err
}

// RollUserAPIKey is RotateUserAPIKey with a grace period, as RollOwnAPIKey.
func (s *Service) RollUserAPIKey(ctx context.Context, a Actor, userID string, grace time.Duration) (Rolled, error) {
	if err := requireAdmin(a); err != nil {
		return Rolled{}, err
	}
	if err := checkGrace(grace); err != nil {
		return Rolled{}, err
	}
	return s.rotateUserKey(ctx, a, userID, grace)
}

func (s *Service) rotateUserKey(ctx context.Context, a Actor, userID string, grace time.Duration) (Rolled, error) {
	secret, h, prefix, err := s.newSecret(protocol.KindUser)
	if err != nil {
		return Rolled{}, err
	}
	var k store.Credential
	var until *time.Time
	err = s.tx(ctx, "rotate api key", func(q store.Store) error {
		u, err := portalUser(ctx, q, a, userID)
		if err != nil {
			return err
		}
		k, err = q.UserAPIKey(ctx, u.ID)
		if err != nil {
			return err
		}
		if err := q.ReplaceSecret(ctx, k.ID, h, prefix, k.Generation); err != nil {
			return err
		}
		if until, err = s.keepPrevious(ctx, q, k.ID, k.SecretHash, grace); err != nil {
			return err
		}
		k.Generation++
		return s.audit(ctx, q, a.PortalID, actorName(a), ActionAPIKeyRotate, u.ID, a.RemoteAddr,
			fmt.Sprintf("email=%s key=%s generation=%d", u.Email, k.ID, k.Generation)+graceDetail(grace))
	})
	if err != nil {
		return Rolled{}, err
	}
	s.changed(ctx, Change{PortalID: k.PortalID, Action: ActionAPIKeyRotate, CredentialIDs: []string{k.ID},
		Logout: rollLogout(until, protocol.ReasonRotated), BeforeGeneration: k.Generation})
	return Rolled{Secret: secret, PreviousValidUntil: until}, nil
}
