package keys

// Sign-in through an external identity provider (OpenID Connect, package server/oidclogin).
import (
	"context"
	"errors"
	"fmt"
	"strings"

	"printdock/server/store"
)

// ExternalIdentity is a person an identity provider vouched for, with the role the server's mapping
// gives them (the provider's e-mail is verified; the caller checked it).
type ExternalIdentity struct {
	Provider string // the issuer URL, for the audit log
	Subject  string // the provider's ID of the person
	Email    string
	Role     Role
	// Portal names the portal a first sign-in joins: its ID (prt_…) or the e-mail of one of its users.
	Portal string
}

// ErrLastAdmin is ExternalLogin's refusal to demote a portal's last administrator (wraps ErrConflict).
var ErrLastAdmin = fmt.Errorf("%w: the portal's last administrator cannot be demoted by a sign-in", ErrConflict)

// ExternalLogin signs in the portal user with id's e-mail address, as PasswordLogin does for a password:
// the user is created on first sign-in (in the portal id.Portal names, with no password and a personal
// API key nobody has seen), and their role follows id.Role at every sign-in (audited). Demoting the
// portal's last administrator is refused (ErrLastAdmin): that admin signs in with their password.
func (s *Service) ExternalLogin(ctx context.Context, id ExternalIdentity, remoteAddr string) (Principal, error) {
	email, err := normalizeEmail(id.Email)
	if err != nil {
		return Principal{}, err
	}
	if err := validRole(id.Role); err != nil {
		return Principal{}, err
	}
	actor := "oidc:" + id.Provider
	detail := fmt.Sprintf("openid connect sign-in (issuer %s, subject %q)", id.Provider, id.Subject)
	var u store.User
	roleChanged := false
	err = s.tx(ctx, "external login", func(q store.Store) error {
		var err error
		roleChanged = false
		u, err = q.GetUserByEmail(ctx, email)
		switch {
		case errors.Is(err, store.ErrNotFound):
			u, err = s.createExternalUser(ctx, q, id.Portal, email, id.Role, actor, remoteAddr)
			if err != nil {
				return err
			}
		case err != nil:
			return err
		case Role(u.Role) != id.Role:
			if err := lastAdminCheck(ctx, q, u); err != nil {
				return ErrLastAdmin
			}
			if err := q.SetUserRole(ctx, u.ID, string(id.Role)); err != nil {
				return err
			}
			if err := s.audit(ctx, q, u.PortalID, actor, ActionUserRole, u.ID, remoteAddr,
				fmt.Sprintf("email=%s role=%s->%s (sign-in mapping)", u.Email, u.Role, id.Role)); err != nil {
				return err
			}
			u.Role, roleChanged = string(id.Role), true
		}
		return s.audit(ctx, q, u.PortalID, u.Email, ActionAuthLogin, u.ID, remoteAddr, detail)
	})
	if err != nil {
		return Principal{}, err
	}
	if roleChanged { // no logout; caches of the user's API key drop it (as SetUserRole)
		s.events.publish(Event{PortalID: u.PortalID, CredentialIDs: []string{u.ID}})
	}
	return Principal{PortalID: u.PortalID, UserID: u.ID, Email: u.Email, Role: Role(u.Role), Kind: KindSession, CredentialID: u.ID}, nil
}

// createExternalUser creates a user with no password in the portal ref names.
func (s *Service) createExternalUser(ctx context.Context, q store.Store, ref, email string, role Role, actor, remote string) (store.User, error) {
	pid := ref
	if !strings.HasPrefix(ref, idPortal) {
		m, err := q.GetUserByEmail(ctx, normalizeEmailLoose(ref))
		if err != nil {
			return store.User{}, fmt.Errorf("keys: the portal for new sign-ins (%q): %w", ref, mapStoreErr("find user", err))
		}
		pid = m.PortalID
	} else if _, err := q.GetPortal(ctx, pid); err != nil {
		return store.User{}, fmt.Errorf("keys: the portal for new sign-ins: %w", mapStoreErr("get portal", err))
	}
	u := store.User{ID: newID(idUser), PortalID: pid, Email: email, Role: string(role), CreatedAt: s.clock()}
	key, err := s.newUserKey(u, actor)
	if err != nil {
		return store.User{}, err
	}
	if err := q.CreateUser(ctx, u); err != nil {
		return store.User{}, err
	}
	if err := q.CreateCredential(ctx, key.cred); err != nil {
		return store.User{}, err
	}
	return u, s.audit(ctx, q, pid, actor, ActionUserCreate, u.ID, remote, fmt.Sprintf("email=%s role=%s (first sign-in)", email, role))
}
