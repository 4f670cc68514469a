package keys_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"printdock/protocol"
	"printdock/server/keys"
	"printdock/server/store"
)

// TestOAuthClientLifecycle: an OAuth client created inactive gets no token until activated; deactivating
// deletes its tokens; revoked is for good; last accessed and "check this key" follow its use.
func TestOAuthClientLifecycle(t *testing.T) {
	e := newEnv(t)
	oc, secret, err := e.svc.CreateOAuthClientWith(e.ctx, e.admin, keys.NewOAuthClient{Description: "WMS", Active: new(false)})
	if err != nil || oc.Status != keys.StatusInactive || oc.Prefix != protocol.SecretPrefix(secret) {
		t.Fatalf("create inactive = %+v, %v", oc, err)
	}
	if _, _, err := e.svc.IssueToken(e.ctx, oc.ID, secret, "203.0.113.5:1"); !errors.Is(err, keys.ErrInactive) {
		t.Fatalf("token of an inactive client: %v", err)
	}
	e.clock.Advance(time.Minute)
	oc, err = e.svc.SetOAuthClientActive(e.ctx, e.admin, oc.ID, true)
	if err != nil || oc.Status != keys.StatusActive || oc.ActivatedAt == nil || oc.UsedSinceActivation() {
		t.Fatalf("activate = %+v, %v", oc, err)
	}
	e.clock.Advance(time.Second)
	tok, _, err := e.svc.IssueToken(e.ctx, oc.ID, secret, "203.0.113.5:1")
	if err != nil {
		t.Fatal(err)
	}
	oc, _ = e.svc.GetOAuthClient(e.ctx, e.admin, oc.ID)
	if oc.LastAccessedAt == nil || !oc.UsedSinceActivation() {
		t.Errorf("after a token: %+v", oc)
	}
	e.wantAuth("token of an active client", tok, "", nil)

	oc, err = e.svc.SetOAuthClientActive(e.ctx, e.admin, oc.ID, false)
	if err != nil || oc.Status != keys.StatusInactive {
		t.Fatalf("deactivate = %+v, %v", oc, err)
	}
	if ev := e.nextEvent(); ev.Reason != protocol.ReasonDeactivated || !slices.Equal(ev.CredentialIDs, []string{oc.ID}) {
		t.Errorf("deactivate event %+v", ev)
	}
	if _, err := e.svc.SetOAuthClientActive(e.ctx, e.admin, oc.ID, true); err != nil {
		t.Fatal(err)
	}
	e.wantAuth("token issued before deactivation", tok, "", keys.ErrUnauthenticated)
	if _, err := e.svc.RevokeOAuthClient(e.ctx, e.admin, oc.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetOAuthClientActive(e.ctx, e.admin, oc.ID, true); !errors.Is(err, keys.ErrConflict) {
		t.Errorf("activate revoked: %v", err)
	}
	user, _ := e.createUser(e.admin, "u@example.com", keys.RoleUser)
	if _, err := e.svc.SetOAuthClientActive(e.ctx, user, oc.ID, false); !errors.Is(err, keys.ErrForbidden) {
		t.Errorf("user deactivates: %v", err)
	}
	other := e.newPortal("B", "b@example.com")
	if _, err := e.svc.GetOAuthClient(e.ctx, other, oc.ID); !errors.Is(err, keys.ErrNotFound) {
		t.Errorf("other portal reads: %v", err)
	}
	var actions []string
	for _, a := range e.allAudit() {
		if a.Target == oc.ID && a.Action != keys.ActionAuthFailed {
			actions = append(actions, a.Action)
		}
	}
	slices.Reverse(actions) // newest first
	want := []string{"oauth_client.create", "oauth_client.activate", "oauth_token.issue", "oauth_client.deactivate",
		"oauth_client.activate", "oauth_client.revoke"}
	if !slices.Equal(actions, want) {
		t.Errorf("audit %v, want %v", actions, want)
	}
}

// TestNewKeysInactiveSetting: the portal's setting is the default for print client secrets and OAuth
// clients alike; an explicit choice wins.
func TestNewKeysInactiveSetting(t *testing.T) {
	e := newEnv(t)
	if s, err := e.svc.Settings(e.ctx, e.admin); err != nil || s.NewKeysInactive {
		t.Fatalf("default settings = %+v, %v", s, err)
	}
	if _, err := e.svc.UpdateSettings(e.ctx, e.admin, keys.Settings{NewKeysInactive: true}); err != nil {
		t.Fatal(err)
	}
	user, _ := e.createUser(e.admin, "u@example.com", keys.RoleUser)
	if _, err := e.svc.UpdateSettings(e.ctx, user, keys.Settings{}); !errors.Is(err, keys.ErrForbidden) {
		t.Errorf("user updates settings: %v", err)
	}
	tests := []struct {
		name   string
		active *bool
		want   keys.Status
	}{
		{"default", nil, keys.StatusInactive},
		{"active at once", new(true), keys.StatusActive},
		{"inactive", new(false), keys.StatusInactive},
	}
	for _, tt := range tests {
		k := e.createKey(keys.NewClientKey{Description: "k " + tt.name, Active: tt.active})
		oc, _, err := e.svc.CreateOAuthClientWith(e.ctx, e.admin, keys.NewOAuthClient{Description: "o " + tt.name, Active: tt.active})
		if err != nil || k.Key.Status != tt.want || oc.Status != tt.want {
			t.Errorf("%s: key %s, client %s (%v); want %s", tt.name, k.Key.Status, oc.Status, err, tt.want)
		}
	}
	if k := e.createKey(keys.NewClientKey{Description: "legacy", Inactive: true, Active: new(true)}); k.Key.Status != keys.StatusInactive {
		t.Errorf("Inactive overrides Active: %s", k.Key.Status)
	}
	if n := len(auditOf(e, keys.ActionSettingsUpdate)); n != 1 {
		t.Errorf("%d settings audit entries, want 1", n)
	}
}

func auditOf(e *env, action string) []string {
	var out []string
	for _, a := range e.allAudit() {
		if a.Action == action {
			out = append(out, a.Detail)
		}
	}
	return out
}

// TestCheckThisKey: a print client secret counts as checked once it is used after its creation or its
// latest activation.
func TestCheckThisKey(t *testing.T) {
	e := newEnv(t, keys.WithTouchInterval(time.Nanosecond))
	c := e.createKey(keys.NewClientKey{Description: "dock 1"})
	get := func() keys.ClientKey {
		k, err := e.svc.GetClientKey(e.ctx, e.admin, c.Key.ID)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	if get().UsedSinceActivation() {
		t.Fatal("new key counts as used")
	}
	e.clock.Advance(time.Second)
	e.svc.TouchNow(e.ctx, e.actor(c.Secret).Principal)
	if !get().UsedSinceActivation() {
		t.Fatal("used key not checked")
	}
	e.clock.Advance(time.Second)
	_, _ = e.svc.SetClientKeyActive(e.ctx, e.admin, c.Key.ID, false)
	e.clock.Advance(time.Second)
	_, _ = e.svc.SetClientKeyActive(e.ctx, e.admin, c.Key.ID, true)
	if get().UsedSinceActivation() {
		t.Error("re-activated key still counts as checked")
	}
	e.clock.Advance(time.Second)
	e.svc.Touch(e.ctx, e.actor(c.Secret).Principal)
	if !get().UsedSinceActivation() {
		t.Error("re-activated key used but not checked")
	}
}

// TestAPIKeyLastAccessed: a personal API key's last use shows on the user.
func TestAPIKeyLastAccessed(t *testing.T) {
	e := newEnv(t)
	me, _ := e.svc.Me(e.ctx, e.admin)
	if me.APIKeyLastAccessedAt != nil {
		t.Fatalf("unused key has last access %v", me.APIKeyLastAccessedAt)
	}
	e.svc.Touch(e.ctx, e.admin.Principal)
	me, _ = e.svc.Me(e.ctx, e.admin)
	users, _ := e.svc.ListUsers(e.ctx, e.admin, store.Page{})
	if me.APIKeyLastAccessedAt == nil || len(users) != 1 || users[0].APIKeyLastAccessedAt == nil {
		t.Errorf("after use: me %v, list %+v", me.APIKeyLastAccessedAt, users)
	}
}

// TestEmptyDescriptionRefused: every kind of key needs a description.
func TestEmptyDescriptionRefused(t *testing.T) {
	e := newEnv(t)
	for _, d := range []string{"", "   "} {
		if _, err := e.svc.CreateClientKey(e.ctx, e.admin, keys.NewClientKey{Description: d}); !errors.Is(err, keys.ErrInvalid) {
			t.Errorf("print client secret %q: %v", d, err)
		}
		if _, _, err := e.svc.CreateOAuthClient(e.ctx, e.admin, d); !errors.Is(err, keys.ErrInvalid) {
			t.Errorf("oauth client %q: %v", d, err)
		}
	}
}

// TestChangeHook: every committed change reaches the hooks, with the audit action and logout reason.
func TestChangeHook(t *testing.T) {
	var mu sync.Mutex
	var got []keys.Change
	e := newEnv(t, keys.WithChangeHook(func(_ context.Context, c keys.Change) {
		mu.Lock()
		got = append(got, c)
		mu.Unlock()
	}))
	c := e.createKey(keys.NewClientKey{Description: "dock"})
	_, _ = e.svc.RotateClientKey(e.ctx, e.admin, c.Key.ID)
	_, _ = e.svc.RevokeClientKey(e.ctx, e.admin, c.Key.ID)
	_ = e.svc.DeleteClientKey(e.ctx, e.admin, c.Key.ID)
	mu.Lock()
	defer mu.Unlock()
	want := []struct{ action, logout string }{
		{keys.ActionClientKeyRotate, protocol.ReasonRotated},
		{keys.ActionClientKeyRevoke, protocol.ReasonRevoked},
		{keys.ActionClientKeyDelete, protocol.ReasonDeleted},
	}
	if len(got) != len(want) {
		t.Fatalf("changes %+v", got)
	}
	for i, w := range want {
		if got[i].Action != w.action || got[i].Logout != w.logout || !slices.Equal(got[i].CredentialIDs, []string{c.Key.ID}) {
			t.Errorf("change %d = %+v, want %v", i, got[i], w)
		}
	}
}

// TestAuditLimit: one page of the audit log is at most MaxAuditLimit entries plus the one extra row a
// pager asks for (the REST API answers 400 above 1,000, like every list; the rest comes page by page).
func TestAuditLimit(t *testing.T) {
	e := newEnv(t)
	err := e.st.InTx(e.ctx, func(q store.Store) error {
		for i := range 1200 {
			if _, err := q.AppendAudit(e.ctx, store.AuditEntry{PortalID: e.admin.PortalID, At: e.clock.Now(), Actor: "x",
				Action: "test.fill", Target: strconv.Itoa(i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ limit, want int }{{0, 100}, {500, 500}, {10000, keys.MaxAuditLimit + 1}} {
		got, err := e.svc.Audit(e.ctx, e.admin, keys.AuditFilter{Action: "test.fill", Limit: tc.limit})
		if err != nil || len(got) != tc.want {
			t.Errorf("limit %d gave %d entries, %v; want %d", tc.limit, len(got), err, tc.want)
		}
	}
}
