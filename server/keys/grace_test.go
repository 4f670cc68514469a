package keys_test

import (
	"errors"
	"testing"
	"time"

	"printdock/protocol"
	"printdock/server/keys"
)

// A rolled key with a 2-minute grace works with both secrets until the grace ends, then only with the new
// one; the old one then fails as rotated, and sessions of the old secret stay valid only during the grace.
func TestRollWithGrace(t *testing.T) {
	e := newEnv(t)
	user, oldKey := e.createUser(e.admin, "integrator@example.com", keys.RoleUser)
	e.noEvent()
	r, err := e.svc.RollUserAPIKey(e.ctx, e.admin, user.UserID, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if r.PreviousValidUntil == nil || !r.PreviousValidUntil.Equal(e.clock.Now().Add(2*time.Minute)) {
		t.Fatalf("previous valid until %v", r.PreviousValidUntil)
	}
	// No logout at a roll with a grace: the key's change is published without a reason (the verification
	// caches drop it), and nothing else.
	if ev := e.nextEvent(); ev.Reason != "" || len(ev.CredentialIDs) != 1 {
		t.Fatalf("roll with grace published %+v, want the key with no logout reason", ev)
	}
	e.noEvent()
	e.wantAuth("old key in grace", oldKey, "", nil)
	e.wantAuth("new key in grace", r.Secret, "", nil)
	oldP := e.actor(oldKey).Principal
	if err := e.svc.StillValid(e.ctx, oldP); err != nil {
		t.Errorf("old key's session in grace: %v", err)
	}
	me, err := e.svc.Me(e.ctx, e.actor(r.Secret))
	if err != nil || me.APIKeyGrace == nil || !me.APIKeyGrace.ValidUntil.Equal(*r.PreviousValidUntil) ||
		me.APIKeyGrace.LastUsedAt == nil || me.APIKeyGrace.LastUsedFrom == "" {
		t.Errorf("me during grace = %+v, %v", me.APIKeyGrace, err)
	}

	e.clock.Advance(2*time.Minute - time.Second)
	e.wantAuth("old key just before the grace ends", oldKey, "", nil)
	e.clock.Advance(time.Second)
	e.wantAuth("old key after the grace", oldKey, "", keys.ErrRotated)
	e.wantAuth("new key after the grace", r.Secret, "", nil)
	if err := e.svc.StillValid(e.ctx, oldP); !errors.Is(err, keys.ErrRotated) {
		t.Errorf("old key's session after grace = %v, want ErrRotated", err)
	}
	if err := e.svc.StillValid(e.ctx, e.actor(r.Secret).Principal); err != nil {
		t.Errorf("new key's session: %v", err)
	}

	// A roll without grace ends an earlier grace at once and logs out as today.
	r2, err := e.svc.RollUserAPIKey(e.ctx, e.admin, user.UserID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if ev := e.nextEvent(); ev.Reason != "" {
		t.Fatalf("second roll with grace published %+v, want no logout reason", ev)
	}
	e.wantAuth("previous key in second grace", r.Secret, "", nil)
	now, err := e.svc.RotateUserAPIKey(e.ctx, e.admin, user.UserID)
	if err != nil {
		t.Fatal(err)
	}
	e.wantAuth("grace ended by an immediate roll", r.Secret, "", keys.ErrUnauthenticated)
	e.wantAuth("key rolled with grace then rotated", r2.Secret, "", keys.ErrUnauthenticated)
	e.wantAuth("newest key", now, "", nil)
	if ev := e.nextEvent(); ev.Reason != protocol.ReasonRotated || ev.CredentialIDs[0] != user.CredentialID {
		t.Errorf("immediate roll event %+v", ev)
	}
}

func TestRollGraceRange(t *testing.T) {
	e := newEnv(t)
	user, key := e.createUser(e.admin, "range@example.com", keys.RoleUser)
	for _, g := range []time.Duration{-time.Second, keys.MaxGrace + time.Second} {
		if _, err := e.svc.RollUserAPIKey(e.ctx, e.admin, user.UserID, g); !errors.Is(err, keys.ErrGraceRange) || !errors.Is(err, keys.ErrInvalid) {
			t.Errorf("grace %v: %v", g, err)
		}
		if _, err := e.svc.RollOwnAPIKey(e.ctx, user, true, g); !errors.Is(err, keys.ErrGraceRange) {
			t.Errorf("own grace %v: %v", g, err)
		}
	}
	e.wantAuth("key after refused rolls", key, "", nil)
	r, err := e.svc.RollOwnAPIKey(e.ctx, user, true, keys.MaxGrace)
	if err != nil || r.PreviousValidUntil == nil {
		t.Fatalf("roll with 24 h: %+v, %v", r, err)
	}
	// Grace 0 is today's immediate rotation.
	r0, err := e.svc.RollOwnAPIKey(e.ctx, e.actor(r.Secret), true, 0)
	if err != nil || r0.PreviousValidUntil != nil {
		t.Fatalf("roll with 0: %+v, %v", r0, err)
	}
	e.wantAuth("key rolled with grace 0", r.Secret, "", keys.ErrUnauthenticated)
	e.wantAuth("new key", r0.Secret, "", nil)
}

// An OAuth client rolled with a grace gets tokens with both secrets until the grace ends; revoking ends
// the grace; a roll without grace deletes its tokens.
func TestRotateOAuthClientGrace(t *testing.T) {
	e := newEnv(t)
	active := true
	c, oldSecret, err := e.svc.CreateOAuthClientWith(e.ctx, e.admin, keys.NewOAuthClient{Description: "erp", Active: &active})
	if err != nil {
		t.Fatal(err)
	}
	issue := func(secret string) error {
		_, _, err := e.svc.IssueToken(e.ctx, c.ID, secret, "203.0.113.9:1234")
		return err
	}
	if _, _, err := e.svc.RotateOAuthClient(e.ctx, e.admin, c.ID, keys.MaxGrace+time.Second); !errors.Is(err, keys.ErrGraceRange) {
		t.Errorf("out of range: %v", err)
	}
	got, r, err := e.svc.RotateOAuthClient(e.ctx, e.admin, c.ID, 2*time.Minute)
	if err != nil || r.PreviousValidUntil == nil || got.Grace == nil || got.Prefix != protocol.SecretPrefix(r.Secret) {
		t.Fatalf("rotate: %+v %+v %v", got, r, err)
	}
	for name, s := range map[string]string{"old": oldSecret, "new": r.Secret} {
		if err := issue(s); err != nil {
			t.Errorf("%s secret in grace: %v", name, err)
		}
	}
	if g, err := e.svc.GetOAuthClient(e.ctx, e.admin, c.ID); err != nil || g.Grace == nil || g.Grace.LastUsedFrom != "203.0.113.9:1234" {
		t.Errorf("client in grace: %+v, %v", g.Grace, err)
	}
	e.clock.Advance(2 * time.Minute)
	if err := issue(oldSecret); !errors.Is(err, keys.ErrRotated) {
		t.Errorf("old secret after grace = %v, want ErrRotated", err)
	}
	if err := issue(r.Secret); err != nil {
		t.Errorf("new secret after grace: %v", err)
	}

	// Revoking ends a grace.
	_, r2, err := e.svc.RotateOAuthClient(e.ctx, e.admin, c.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RevokeOAuthClient(e.ctx, e.admin, c.ID); err != nil {
		t.Fatal(err)
	}
	if g, err := e.svc.GetOAuthClient(e.ctx, e.admin, c.ID); err != nil || g.Grace != nil {
		t.Errorf("revoked client keeps a grace: %+v, %v", g.Grace, err)
	}
	if err := issue(r.Secret); !errors.Is(err, keys.ErrUnauthenticated) {
		t.Errorf("revoked client's old secret = %v", err)
	}
	if err := issue(r2.Secret); !errors.Is(err, keys.ErrRevoked) {
		t.Errorf("revoked client's new secret = %v", err)
	}
}
