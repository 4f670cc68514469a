package keys_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"printdock/server/keys"
	"printdock/server/store"
	"printdock/server/store/sqlite"
)

// countingStore counts the credential lookups by hash that Authenticate makes for pdc_/pdu_ secrets.
type countingStore struct {
	*sqlite.DB
	byHash atomic.Int64
}

func (c *countingStore) GetCredentialByHash(ctx context.Context, h string) (store.Credential, error) {
	c.byHash.Add(1)
	return c.DB.GetCredentialByHash(ctx, h)
}

func newCountingEnv(t *testing.T, opts ...keys.Option) (*env, *countingStore) {
	var cs *countingStore
	e := newEnvOn(t, func(db *sqlite.DB) keys.Store { cs = &countingStore{DB: db}; return cs }, opts...)
	return e, cs
}

// lookups runs fn and returns how many store lookups by hash it made.
func (c *countingStore) lookups(fn func()) int64 {
	n := c.byHash.Load()
	fn()
	return c.byHash.Load() - n
}

func TestAuthCacheHitsAndMisses(t *testing.T) {
	e, cs := newCountingEnv(t)
	c := e.createKey(keys.NewClientKey{Description: "Packing desk"})
	_, userKey := e.createUser(e.admin, "user@example.com", keys.RoleUser)
	for _, secret := range []string{c.Secret, userKey} {
		e.wantAuth("first", secret, "", nil) // createUser authenticated userKey already: a hit
		if n := cs.lookups(func() { e.wantAuth("again", secret, "", nil) }); n != 0 {
			t.Errorf("a cached secret read the store %d times", n)
		}
	}
	// Failures are never cached: an unknown secret and an inactive key read the store every time.
	unknown := e.createKey(keys.NewClientKey{Description: "to delete"})
	if err := e.svc.DeleteClientKey(e.ctx, e.admin, unknown.Key.ID); err != nil {
		t.Fatal(err)
	}
	inactive := e.createKey(keys.NewClientKey{Description: "inactive", Inactive: true})
	for _, tc := range []struct {
		secret string
		want   error
	}{{unknown.Secret, keys.ErrUnauthenticated}, {inactive.Secret, keys.ErrInactive}} {
		for range 3 {
			if n := cs.lookups(func() { e.wantAuth("failure", tc.secret, "", tc.want) }); n != 1 {
				t.Errorf("a failing secret read the store %d times, want 1 each time", n)
			}
		}
	}
	// The TTL: after it the store is read again.
	e.clock.Advance(keys.DefaultAuthCacheTTL)
	if n := cs.lookups(func() { e.wantAuth("after TTL", c.Secret, "", nil) }); n != 1 {
		t.Errorf("after the TTL the store was read %d times, want 1", n)
	}
	// Switched off, every check reads the store.
	off, cs2 := newCountingEnv(t, keys.WithAuthCache(0, 0))
	k := off.createKey(keys.NewClientKey{Description: "uncached"})
	for range 2 {
		if n := cs2.lookups(func() { off.wantAuth("uncached", k.Secret, "", nil) }); n != 1 {
			t.Errorf("without cache the store was read %d times", n)
		}
	}
}

// TestAuthCacheRevocation: a cached key that is rotated, deactivated, revoked or deleted, or whose user is
// deleted, fails on the next check on the same Service; a role change is seen at once.
func TestAuthCacheRevocation(t *testing.T) {
	tests := []struct {
		name string
		user bool // a personal API key (else a print client secret)
		op   func(e *env, id string) error
		want error
	}{
		{"rotate", false, func(e *env, id string) error { _, err := e.svc.RotateClientKey(e.ctx, e.admin, id); return err }, keys.ErrUnauthenticated},
		{"deactivate", false, func(e *env, id string) error {
			_, err := e.svc.SetClientKeyActive(e.ctx, e.admin, id, false)
			return err
		}, keys.ErrInactive},
		{"revoke", false, func(e *env, id string) error { _, err := e.svc.RevokeClientKey(e.ctx, e.admin, id); return err }, keys.ErrRevoked},
		{"delete", false, func(e *env, id string) error { return e.svc.DeleteClientKey(e.ctx, e.admin, id) }, keys.ErrUnauthenticated},
		{"rotate user key", true, func(e *env, id string) error {
			_, err := e.svc.RotateUserAPIKey(e.ctx, e.admin, id)
			return err
		}, keys.ErrUnauthenticated},
		{"delete user", true, func(e *env, id string) error { return e.svc.DeleteUser(e.ctx, e.admin, id) }, keys.ErrUnauthenticated},
	}
	e, cs := newCountingEnv(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			var secret, id string
			if tc.user {
				a, k := e.createUser(e.admin, strings.ReplaceAll(tc.name, " ", "-")+"@example.com", keys.RoleUser)
				secret, id = k, a.UserID
			} else {
				c := e.createKey(keys.NewClientKey{Description: tc.name})
				secret, id = c.Secret, c.Key.ID
			}
			e.wantAuth("before", secret, "", nil)
			if n := cs.lookups(func() { e.wantAuth("cached", secret, "", nil) }); n != 0 {
				t.Fatalf("not cached: %d lookups", n)
			}
			if err := tc.op(e, id); err != nil {
				t.Fatal(err)
			}
			e.wantAuth("after "+tc.name, secret, "", tc.want)
		})
	}
	t.Run("role change", func(t *testing.T) {
		e.t = t
		u, k := e.createUser(e.admin, "promoted@example.com", keys.RoleUser)
		if _, err := e.svc.SetUserRole(e.ctx, e.admin, u.UserID, keys.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		if p := e.actor(k); p.Role != keys.RoleAdmin {
			t.Errorf("after promotion the cached key has role %s", p.Role)
		}
		if _, err := e.svc.SetUserRole(e.ctx, e.admin, u.UserID, keys.RoleUser); err != nil {
			t.Fatal(err)
		}
		if p := e.actor(k); p.Role != keys.RoleUser {
			t.Errorf("after demotion the cached key has role %s", p.Role)
		}
	})
	t.Run("expiry passes while cached", func(t *testing.T) {
		e.t = t
		c := e.createKey(keys.NewClientKey{Description: "expiring"})
		at := e.clock.Now().Add(10 * time.Second)
		if err := e.svc.SetExpiry(e.ctx, e.admin, c.Key.ID, &at); err != nil {
			t.Fatal(err)
		}
		e.wantAuth("before expiry", c.Secret, "", nil)
		e.clock.Advance(10 * time.Second) // within the TTL, at the key's expiry
		e.wantAuth("at expiry", c.Secret, "", keys.ErrExpired)
	})
	t.Run("role change by an OpenID Connect sign-in", func(t *testing.T) {
		e.t = t
		_, k := e.createUser(e.admin, "sso@example.com", keys.RoleUser)
		id := keys.ExternalIdentity{Provider: "https://idp.example", Email: "sso@example.com", Role: keys.RoleAdmin}
		if _, err := e.svc.ExternalLogin(e.ctx, id, ""); err != nil {
			t.Fatal(err)
		}
		if p := e.actor(k); p.Role != keys.RoleAdmin {
			t.Errorf("after the sign-in's promotion the cached key has role %s", p.Role)
		}
	})
}

// TestAuthCacheInvalidate is what replicas call for other replicas' changes.
func TestAuthCacheInvalidate(t *testing.T) {
	e, cs := newCountingEnv(t)
	c := e.createKey(keys.NewClientKey{Description: "a"})
	d := e.createKey(keys.NewClientKey{Description: "b"})
	e.wantAuth("a", c.Secret, "", nil)
	e.wantAuth("b", d.Secret, "", nil)
	e.svc.Invalidate(keys.Event{CredentialIDs: []string{c.Key.ID}, Reason: "revoked"})
	if n := cs.lookups(func() { e.wantAuth("a", c.Secret, "", nil) }); n != 1 {
		t.Errorf("invalidated key: %d lookups, want 1", n)
	}
	if n := cs.lookups(func() { e.wantAuth("b", d.Secret, "", nil) }); n != 0 {
		t.Errorf("other key: %d lookups, want 0", n)
	}
	e.svc.InvalidateAll()
	if n := cs.lookups(func() { e.wantAuth("a", c.Secret, "", nil); e.wantAuth("b", d.Secret, "", nil) }); n != 2 {
		t.Errorf("after InvalidateAll: %d lookups, want 2", n)
	}
}

// TestAuthCacheTouch: last access is still recorded (at most once per touch interval) when the check is a cache hit.
func TestAuthCacheTouch(t *testing.T) {
	e, cs := newCountingEnv(t, keys.WithTouchInterval(10*time.Second))
	c := e.createKey(keys.NewClientKey{Description: "desk"})
	e.wantAuth("fill", c.Secret, "", nil)
	for i := range 3 {
		e.clock.Advance(15 * time.Second)
		var p keys.Principal
		if n := cs.lookups(func() {
			var err error
			if p, err = e.svc.Authenticate(e.ctx, c.Secret, "", "192.0.2.1:1"); err != nil {
				t.Fatal(err)
			}
		}); i == 0 && n != 0 {
			t.Errorf("not a cache hit: %d lookups", n)
		}
		e.svc.Touch(e.ctx, p)
		k, err := e.svc.GetClientKey(e.ctx, e.admin, c.Key.ID)
		if err != nil {
			t.Fatal(err)
		}
		if k.LastAccessedAt == nil || !k.LastAccessedAt.Equal(e.clock.Now()) {
			t.Errorf("step %d: last accessed %v, want %v", i, k.LastAccessedAt, e.clock.Now())
		}
	}
}
