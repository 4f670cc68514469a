package storetest

import (
	"maps"
	"testing"
	"time"

	"printdock/server/store"
)

// testKeyLifecycle covers per-portal settings and the activation and expiry times of credentials.
func testKeyLifecycle(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	portal(t, s, "p1")
	portal(t, s, "p2")

	got, err := s.PortalSettings(ctx, "p1")
	if err != nil || len(got) != 0 {
		t.Fatalf("settings of a new portal = %v, %v", got, err)
	}
	must(t, s.SetPortalSetting(ctx, "p1", "a", "1"))
	must(t, s.SetPortalSetting(ctx, "p1", "b", "x"))
	must(t, s.SetPortalSetting(ctx, "p1", "a", "2")) // replaces
	must(t, s.SetPortalSetting(ctx, "p2", "a", "other"))
	got, err = s.PortalSettings(ctx, "p1")
	if want := map[string]string{"a": "2", "b": "x"}; err != nil || !maps.Equal(got, want) {
		t.Errorf("settings = %v, %v; want %v", got, err, want)
	}

	exp := t0.Add(48 * time.Hour)
	c := cred("p1", "key1", store.CredPrintClient)
	c.ExpiresAt = &exp
	must(t, s.CreateCredential(ctx, c))
	g, err := s.GetCredential(ctx, "key1")
	if err != nil || !credEqual(g, c) {
		t.Fatalf("get = %+v, %v; want %+v", g, err, c)
	}
	act := t0.Add(time.Hour)
	must(t, s.SetCredentialActivatedAt(ctx, "key1", act))
	must(t, s.SetCredentialExpiry(ctx, "key1", nil))
	wantErr(t, "activate unknown", s.SetCredentialActivatedAt(ctx, "nope", act), store.ErrNotFound)
	wantErr(t, "expire unknown", s.SetCredentialExpiry(ctx, "nope", &exp), store.ErrNotFound)
	g, _ = s.GetCredential(ctx, "key1")
	if g.ActivatedAt == nil || !g.ActivatedAt.Equal(act) || g.ExpiresAt != nil {
		t.Errorf("after activate and clearing expiry = %+v", g)
	}
	must(t, s.SetCredentialExpiry(ctx, "key1", &exp))
	g, _ = s.GetCredential(ctx, "key1")
	if g.ExpiresAt == nil || !g.ExpiresAt.Equal(exp) {
		t.Errorf("expiry = %v, want %v", g.ExpiresAt, exp)
	}
}
