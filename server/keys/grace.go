package keys

import (
	"context"
	"errors"
	"fmt"
	"time"

	"printdock/server/store"
)

// Rolling a key with a grace period (issue 15): after a roll with a grace, the credential keeps the old
// secret's hash (store.PreviousSecret) and Authenticate accepts the old secret until the grace ends; its
// last use (time and remote address) is recorded so the portal lists who still has to switch. Personal
// API keys and OAuth clients only: print client secrets keep their immediate logout.

// MaxGrace is the longest grace period a roll accepts.
const MaxGrace = 24 * time.Hour

// ErrGraceRange is returned for a grace period outside 0..MaxGrace.
var ErrGraceRange = fmt.Errorf("keys: the grace period must be between 0 and 24 hours: %w", ErrInvalid)

// Rolled is the result of a roll: the new secret (shown once) and, with a grace, until when the old one
// keeps working (nil without a grace).
type Rolled struct {
	Secret             string
	PreviousValidUntil *time.Time
}

func checkGrace(grace time.Duration) error {
	if grace < 0 || grace > MaxGrace {
		return ErrGraceRange
	}
	return nil
}

// keepPrevious, inside a roll's transaction after ReplaceSecret, keeps the old hash working for grace
// and returns the grace's end (nil and nothing stored when grace is 0).
func (s *Service) keepPrevious(ctx context.Context, q store.Store, id, oldHash string, grace time.Duration) (*time.Time, error) {
	if grace == 0 {
		return nil, nil
	}
	until := s.clock().Add(grace).UTC()
	if err := q.SetPreviousSecret(ctx, id, oldHash, &until); err != nil {
		return nil, err
	}
	return &until, nil
}

// rollLogout is the logout reason of a roll: none with a grace (the old secret's connections end when
// StillValid sees the grace is over), rotated otherwise.
func rollLogout(until *time.Time, reason string) string {
	if until != nil {
		return ""
	}
	return reason
}

// byPreviousHash looks a key up by its old secret when no current secret has hash h.
func (s *Service) byPreviousHash(ctx context.Context, h string) (store.Credential, bool, error) {
	c, err := s.st.GetCredentialByPreviousHash(ctx, h)
	if err != nil {
		return c, false, err
	}
	return c, true, nil
}

// inGrace reports whether c's previous secret still works at now.
func inGrace(c store.Credential, now time.Time) bool {
	return c.Previous.Hash != "" && c.Previous.ExpiresAt != nil && now.Before(*c.Previous.ExpiresAt)
}

// usePrevious accepts the old secret of c during its grace and records its use (at most once per touch
// interval per key); after the grace it fails like a rotated-away secret.
func (s *Service) usePrevious(ctx context.Context, c store.Credential, remote string) error {
	now := s.clock()
	if !inGrace(c, now) {
		return ErrRotated
	}
	if !s.admitTouch("previous/"+c.ID, now, false) {
		return nil
	}
	if err := s.st.TouchPreviousSecret(ctx, c.ID, now, remote); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Warn("keys: record last use of the previous secret", "credential", c.ID, "err", err)
	}
	return nil
}

// graceDetail is the audit detail's note of a grace ("" without one).
func graceDetail(grace time.Duration) string {
	if grace == 0 {
		return ""
	}
	return " grace=" + grace.String()
}

// Grace is a rolled key's old secret as listed to admins: until when it works (it may be past: compare
// with the time) and when and from where it was last used (nil and "" when not since the roll).
type Grace struct {
	ValidUntil   time.Time
	LastUsedAt   *time.Time
	LastUsedFrom string
}

func graceOf(c store.Credential) *Grace {
	if c.Previous.Hash == "" || c.Previous.ExpiresAt == nil {
		return nil
	}
	return &Grace{ValidUntil: *c.Previous.ExpiresAt, LastUsedAt: c.Previous.UsedAt, LastUsedFrom: c.Previous.UsedFrom}
}
