package keys_test

import (
	"errors"
	"testing"
	"time"

	"printdock/protocol"
	"printdock/server/keys"
	"printdock/server/store"
)

func TestOAuth(t *testing.T) {
	e := newEnv(t)
	oc, secret, err := e.svc.CreateOAuthClient(e.ctx, e.admin, "Shipping WMS")
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := protocol.ParseSecret(secret); k != protocol.KindOAuthClient || oc.Status != keys.StatusActive {
		t.Fatalf("client %+v kind %q", oc, k)
	}
	other, _ := protocol.NewSecret(protocol.KindOAuthClient)
	pdc := e.createKey(keys.NewClientKey{Description: "x"}).Secret
	for name, tc := range map[string]struct{ id, secret string }{
		"wrong secret":      {oc.ID, other},
		"unknown client":    {"oac_unknown", secret},
		"garbled secret":    {oc.ID, secret[:20]},
		"not a pdo_ secret": {oc.ID, pdc},
	} {
		if _, _, err := e.svc.IssueToken(e.ctx, tc.id, tc.secret, "203.0.113.5:1"); !errors.Is(err, keys.ErrUnauthenticated) {
			t.Errorf("%s: %v, want ErrUnauthenticated", name, err)
		}
	}
	e.wantAuth("client secret as bearer", secret, "", keys.ErrUnauthenticated)

	tok, ttl, err := e.svc.IssueToken(e.ctx, oc.ID, secret, "203.0.113.5:1")
	if err != nil || ttl != time.Hour {
		t.Fatalf("issue = %v, %v", ttl, err)
	}
	if k, _ := protocol.ParseSecret(tok); k != protocol.KindOAuthToken {
		t.Fatalf("token kind %q", k)
	}
	p, err := e.svc.Authenticate(e.ctx, tok, "", "")
	if err != nil || p.Kind != keys.KindOAuth || p.Role != keys.RoleUser || p.PortalID != e.admin.PortalID ||
		p.CredentialID != oc.ID || !p.ExpiresAt.Equal(e.clock.Now().Add(time.Hour)) {
		t.Fatalf("token principal %+v, %v", p, err)
	}
	e.clock.Advance(59*time.Minute + 59*time.Second)
	e.wantAuth("token before expiry", tok, "", nil)
	if err := e.svc.StillValid(e.ctx, p); err != nil {
		t.Errorf("still valid before expiry: %v", err)
	}
	e.clock.Advance(time.Second)
	e.wantAuth("token at expiry", tok, "", keys.ErrUnauthenticated)
	if err := e.svc.StillValid(e.ctx, p); !errors.Is(err, keys.ErrUnauthenticated) || !errors.Is(err, keys.ErrExpired) {
		t.Errorf("still valid after expiry: %v", err)
	}

	// Revoke: the new token stops at once, new tokens are refused.
	tok2, _, err := e.svc.IssueToken(e.ctx, oc.ID, secret, "")
	if err != nil {
		t.Fatal(err)
	}
	e.wantAuth("second token", tok2, "", nil)
	if got, err := e.svc.RevokeOAuthClient(e.ctx, e.admin, oc.ID); err != nil || got.Status != keys.StatusRevoked {
		t.Fatalf("revoke = %+v, %v", got, err)
	}
	if ev := e.nextEvent(); ev.Reason != protocol.ReasonRevoked || ev.CredentialIDs[0] != oc.ID {
		t.Errorf("revoke event %+v", ev)
	}
	e.wantAuth("token of revoked client", tok2, "", keys.ErrUnauthenticated)
	if _, _, err := e.svc.IssueToken(e.ctx, oc.ID, secret, ""); !errors.Is(err, keys.ErrRevoked) {
		t.Errorf("issue for revoked client = %v", err)
	}
	list, err := e.svc.ListOAuthClients(e.ctx, e.admin, store.Page{})
	if err != nil || len(list) != 1 || list[0].Status != keys.StatusRevoked {
		t.Errorf("list = %+v, %v", list, err)
	}
	if err := e.svc.DeleteOAuthClient(e.ctx, e.admin, oc.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.IssueToken(e.ctx, oc.ID, secret, ""); !errors.Is(err, keys.ErrUnauthenticated) {
		t.Errorf("issue for deleted client = %v", err)
	}
}
