package keys_test

import (
	"errors"
	"slices"
	"testing"

	"printdock/protocol"
	"printdock/server/keys"
)

// TestGiveOwnSecretAndBack: a shared-secret device gets its own secret and goes back to the shared
// secret, keeping its ID; each move logs its agent out with a reason that says what to paste.
func TestGiveOwnSecretAndBack(t *testing.T) {
	e := newEnv(t)
	dev := e.createKey(keys.NewClientKey{Description: "Dock 3", UseSharedSecret: true})
	shared := dev.Secret
	old, err := e.svc.Authenticate(e.ctx, shared, dev.Key.ID, "192.0.2.1:1")
	if err != nil {
		t.Fatal(err)
	}
	own, err := e.svc.GiveOwnSecret(e.ctx, e.admin, dev.Key.ID)
	if err != nil || own.Key.ID != dev.Key.ID || own.Key.UseSharedSecret || own.Key.Prefix != protocol.SecretPrefix(own.Secret) {
		t.Fatalf("give own secret = %+v, %v", own.Key, err)
	}
	if ev := e.nextEvent(); ev.Reason != protocol.ReasonOwnSecret || !slices.Equal(ev.CredentialIDs, []string{dev.Key.ID}) {
		t.Errorf("event %+v", ev)
	}
	if err := e.svc.StillValid(e.ctx, old); !errors.Is(err, keys.ErrOwnSecret) {
		t.Errorf("old principal still valid: %v", err)
	}
	e.wantAuth("shared secret with the device ID", shared, dev.Key.ID, keys.ErrUnauthenticated)
	p, err := e.svc.Authenticate(e.ctx, own.Secret, "", "192.0.2.1:1")
	if err != nil || p.CredentialID != dev.Key.ID || p.Kind != keys.KindPrintClient {
		t.Fatalf("own secret: %+v, %v", p, err)
	}
	if _, err := e.svc.GiveOwnSecret(e.ctx, e.admin, dev.Key.ID); !errors.Is(err, keys.ErrInvalid) {
		t.Errorf("give own secret twice: %v", err)
	}

	back, err := e.svc.UseSharedSecret(e.ctx, e.admin, dev.Key.ID)
	if err != nil || back.Key.ID != dev.Key.ID || !back.Key.UseSharedSecret || back.Secret != "" {
		t.Fatalf("back to shared = %+v (secret %t), %v", back.Key, back.Secret != "", err)
	}
	if ev := e.nextEvent(); ev.Reason != protocol.ReasonSharedSecret {
		t.Errorf("event %+v", ev)
	}
	if err := e.svc.StillValid(e.ctx, p); !errors.Is(err, keys.ErrSharedSecret) {
		t.Errorf("own-secret principal still valid: %v", err)
	}
	e.wantAuth("own secret after the move back", own.Secret, "", keys.ErrUnauthenticated)
	e.wantAuth("shared secret again", shared, dev.Key.ID, nil)
	if _, err := e.svc.UseSharedSecret(e.ctx, e.admin, dev.Key.ID); !errors.Is(err, keys.ErrInvalid) {
		t.Errorf("use shared twice: %v", err)
	}

	// A portal without a shared secret gets one with the first move, returned once.
	other := e.newPortal("B", "b@example.com")
	k, err := e.svc.CreateClientKey(e.ctx, other, keys.NewClientKey{Description: "B dock"})
	if err != nil {
		t.Fatal(err)
	}
	moved, err := e.svc.UseSharedSecret(e.ctx, other, k.Key.ID)
	if kind, _ := protocol.ParseSecret(moved.Secret); err != nil || kind != protocol.KindShared {
		t.Fatalf("first shared secret: %v %v", kind, err)
	}
	e.wantAuth("new shared secret", moved.Secret, k.Key.ID, nil)

	// Revoked keys stay put; other portals and users cannot move keys.
	if _, err := e.svc.RevokeClientKey(e.ctx, other, k.Key.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.GiveOwnSecret(e.ctx, other, k.Key.ID); !errors.Is(err, keys.ErrConflict) {
		t.Errorf("revoked: %v", err)
	}
	if _, err := e.svc.GiveOwnSecret(e.ctx, e.admin, k.Key.ID); !errors.Is(err, keys.ErrNotFound) {
		t.Errorf("other portal: %v", err)
	}
	user, _ := e.createUser(e.admin, "u@example.com", keys.RoleUser)
	if _, err := e.svc.UseSharedSecret(e.ctx, user, dev.Key.ID); !errors.Is(err, keys.ErrForbidden) {
		t.Errorf("user: %v", err)
	}
	if n := len(auditOf(e, keys.ActionClientKeyOwnSecret)) + len(auditOf(e, keys.ActionClientKeySharedSecret)); n != 3 {
		t.Errorf("%d move audit entries, want 3", n)
	}
}

// TestSecondInstallation: a print client secret live from a second installation is audited; the policy
// decides whether it is refused; other kinds of keys are not concerned.
func TestSecondInstallation(t *testing.T) {
	e := newEnv(t)
	c := e.createKey(keys.NewClientKey{Description: "Dock 3"})
	p := e.actor(c.Secret).Principal
	if e.svc.SecondInstallation(e.ctx, p, "PC-DOCK-3", "PC-DOCK-7") {
		t.Error("refused without the policy")
	}
	if _, err := e.svc.UpdateSettings(e.ctx, e.admin, keys.Settings{OneInstallationPerSecret: true}); err != nil {
		t.Fatal(err)
	}
	if !e.svc.SecondInstallation(e.ctx, p, "PC-DOCK-3", "PC-DOCK-7") {
		t.Error("not refused under the policy")
	}
	if e.svc.SecondInstallation(e.ctx, e.admin.Principal, "laptop", "desktop") {
		t.Error("a personal API key refused")
	}
	got := auditOf(e, keys.ActionClientKeyInstallations)
	if len(got) != 2 || got[0] != `used_on="PC-DOCK-3" new="PC-DOCK-7" refused=true` {
		t.Errorf("audit %q", got)
	}
	if m := keys.InUseMessage("PC-DOCK-3"); m != "this secret is already used on PC-DOCK-3; ask your admin for a new one" {
		t.Errorf("message %q", m)
	}
}
