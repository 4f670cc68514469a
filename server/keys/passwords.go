package keys

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"printdock/server/store"
)

// Audit actions for passwords.
const (
	ActionPasswordChange = "user.password_change"
	ActionPasswordReset  = "user.password_reset"
)

// Password rules: long enough to resist guessing at the sign-in limits, short enough that hashing it
// cannot be used to burn CPU.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 256
)

// ErrWrongPassword is returned by ChangePassword when the current password does not match.
var ErrWrongPassword = fmt.Errorf("%w: the current password is wrong", ErrUnauthenticated)

// checkNewPassword applies the password rules; its errors are written for the person choosing it.
func checkNewPassword(pw, email string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return fmt.Errorf("%w: the password is not valid text", ErrInvalid)
	case n < MinPasswordLen:
		return fmt.Errorf("%w: the new password needs at least %d characters", ErrInvalid, MinPasswordLen)
	case len(pw) > MaxPasswordLen:
		return fmt.Errorf("%w: the new password may have at most %d bytes", ErrInvalid, MaxPasswordLen)
	case strings.EqualFold(strings.TrimSpace(pw), email):
		return fmt.Errorf("%w: the new password must not be your e-mail address", ErrInvalid)
	}
	return nil
}

// ChangePassword sets the signed-in user's own password, after checking the current one. The caller
// (the portal) ends the user's other sessions.
func (s *Service) ChangePassword(ctx context.Context, a Actor, current, next string) error {
	if err := requireUser(a); err != nil {
		return err
	}
	u, err := s.st.GetUser(ctx, a.UserID)
	if err != nil {
		return mapStoreErr("change password", err)
	}
	if err := checkNewPassword(next, u.Email); err != nil {
		return err
	}
	if len(current) > MaxPasswordLen {
		return ErrWrongPassword
	}
	ok, err := s.verifyPassword(ctx, current, u.PasswordHash)
	if err != nil && !errors.Is(err, context.Canceled) {
		s.log.Error("keys: stored password hash unusable", "user", u.ID, "err", err)
	}
	if !ok {
		s.auditFailure(ctx, u.PortalID, actorName(a), u.ID, a.RemoteAddr, "password change: wrong current password")
		return ErrWrongPassword
	}
	h, err := s.hashPassword(ctx, next)
	if err != nil {
		return err
	}
	return s.tx(ctx, "change password", func(q store.Store) error {
		if err := q.SetUserPassword(ctx, u.ID, h); err != nil {
			return err
		}
		return s.audit(ctx, q, u.PortalID, actorName(a), ActionPasswordChange, u.ID, a.RemoteAddr, "email="+u.Email)
	})
}

// ResetUserPassword gives a user of the administrator's portal a new random password and returns it,
// once; the old password stops working at once. The caller ends the user's sessions and tells the
// administrator to hand the password over safely (the user should change it after signing in).
func (s *Service) ResetUserPassword(ctx context.Context, a Actor, userID string) (User, string, error) {
	if err := requireAdmin(a); err != nil {
		return User{}, "", err
	}
	u, err := s.st.GetUser(ctx, userID)
	if err != nil || u.PortalID != a.PortalID {
		return User{}, "", fmt.Errorf("keys: reset password: %w", ErrNotFound)
	}
	pw, err := newPassword()
	if err != nil {
		return User{}, "", err
	}
	h, err := s.hashPassword(ctx, pw)
	if err != nil {
		return User{}, "", err
	}
	err = s.tx(ctx, "reset password", func(q store.Store) error {
		if err := q.SetUserPassword(ctx, u.ID, h); err != nil {
			return err
		}
		return s.audit(ctx, q, u.PortalID, actorName(a), ActionPasswordReset, u.ID, a.RemoteAddr, "email="+u.Email)
	})
	if err != nil {
		return User{}, "", err
	}
	return toUser(u, store.Credential{}), pw, nil
}
