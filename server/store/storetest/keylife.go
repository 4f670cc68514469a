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
	// A print client key becomes a shared-secret device and back, keeping its ID.
	must(t, s.CreateSharedSecret(ctx, store.SharedSecret{PortalID: "p1", Version: 1, SecretHash: "sh1", Prefix: "pds_x", CreatedAt: t0, CreatedBy: "a"}))
	must(t, s.SwitchCredentialSecret(ctx, "key1", store.CredSharedDevice, "", "pds_x", 1))
	g, _ = s.GetCredential(ctx, "key1")
	if g.Kind != store.CredSharedDevice || g.SecretHash != "" || g.SharedVersion != 1 || g.Prefix != "pds_x" || g.Generation != c.Generation+1 {
		t.Errorf("to shared = %+v", g)
	}
	must(t, s.SwitchCredentialSecret(ctx, "key1", store.CredPrintClient, "hash-new", "pdc_n", 0))
	g, _ = s.GetCredential(ctx, "key1")
	if g.Kind != store.CredPrintClient || g.SecretHash != "hash-new" || g.SharedVersion != 0 || g.Generation != c.Generation+2 {
		t.Errorf("to own = %+v", g)
	}
	if g2, err := s.GetCredentialByHash(ctx, "hash-new"); err != nil || g2.ID != "key1" {
		t.Errorf("by new hash = %+v, %v", g2, err)
	}
	wantErr(t, "switch unknown", s.SwitchCredentialSecret(ctx, "nope", store.CredPrintClient, "h", "p", 0), store.ErrNotFound)
	must(t, s.SetCredentialExpiry(ctx, "key1", &exp))
	for _, tc := range []struct {
		after, until time.Time
		n            int
	}{{t0, exp, 1}, {exp, exp.Add(time.Hour), 0}, {t0, exp.Add(-time.Microsecond), 0}} {
		if got, err := s.ListCredentialsExpiring(ctx, tc.after, tc.until); err != nil || len(got) != tc.n {
			t.Errorf("expiring in (%v, %v] = %d, %v; want %d", tc.after, tc.until, len(got), err, tc.n)
		}
	}
	g, _ = s.GetCredential(ctx, "key1")
	if g.ExpiresAt == nil || !g.ExpiresAt.Equal(exp) {
		t.Errorf("expiry = %v, want %v", g.ExpiresAt, exp)
	}
}
