package keys_test

import (
	"errors"
	"slices"
	"testing"

	"printdock/protocol"
	"printdock/server/keys"
	"printdock/server/store"
)

func TestSharedSecret(t *testing.T) {
	e := newEnv(t)
	// The first sharing device creates the shared secret and gets it once.
	a := e.createKey(keys.NewClientKey{Description: "shared A", UseSharedSecret: true})
	if k, err := protocol.ParseSecret(a.Secret); err != nil || k != protocol.KindShared || !a.Key.UseSharedSecret {
		t.Fatalf("first sharing device: kind %q %v %+v", k, err, a.Key)
	}
	s1 := a.Secret
	b := e.createKey(keys.NewClientKey{Description: "shared B", UseSharedSecret: true})
	if b.Secret != "" || b.Key.Prefix != protocol.SecretPrefix(s1) {
		t.Fatalf("second sharing device got a secret or wrong prefix: %+v", b.Key)
	}
	unique := e.createKey(keys.NewClientKey{Description: "unique"})

	e.wantAuth("A with S1", s1, a.Key.ID, nil)
	e.wantAuth("B with S1", s1, b.Key.ID, nil)
	e.wantAuth("S1 without device", s1, "", keys.ErrUnauthenticated)
	e.wantAuth("S1 with unknown device", s1, "dev_nonexistent", keys.ErrUnauthenticated)
	e.wantAuth("S1 with a non-sharing key's ID", s1, unique.Key.ID, keys.ErrUnauthenticated)
	p, err := e.svc.Authenticate(e.ctx, s1, a.Key.ID, "")
	if err != nil || p.Kind != keys.KindSharedDev || p.CredentialID != a.Key.ID || p.Generation != 1 || p.Description != "shared A" {
		t.Fatalf("shared principal %+v, %v", p, err)
	}

	// Wrong confirmation text is refused and changes nothing.
	for _, c := range []string{"", "yes, i do confirm it", "Yes, I do confirm it ", "Yes I do confirm it"} {
		if _, err := e.svc.ResetSharedSecret(e.ctx, e.admin, c, true); !errors.Is(err, keys.ErrConfirmationRequired) {
			t.Errorf("confirmation %q = %v", c, err)
		}
	}
	e.wantAuth("A with S1 after refused resets", s1, a.Key.ID, nil)

	// Reset without reset_devices: A and B keep S1; new devices get S2.
	s2, err := e.svc.ResetSharedSecret(e.ctx, e.admin, keys.SharedResetConfirmation, false)
	if err != nil {
		t.Fatal(err)
	}
	e.noEvent()
	c := e.createKey(keys.NewClientKey{Description: "shared C", UseSharedSecret: true})
	if c.Secret != "" || c.Key.Prefix != protocol.SecretPrefix(s2) {
		t.Fatalf("device after reset: %+v, got a secret: %t", c.Key, c.Secret != "")
	}
	e.wantAuth("A with S1 after soft reset", s1, a.Key.ID, nil)
	e.wantAuth("B with S1 after soft reset", s1, b.Key.ID, nil)
	e.wantAuth("A with S2", s2, a.Key.ID, keys.ErrUnauthenticated)
	e.wantAuth("C with S2", s2, c.Key.ID, nil)
	e.wantAuth("C with S1", s1, c.Key.ID, keys.ErrUnauthenticated)

	// Inactive sharing device: created inactive, its secret is right but the status refuses.
	d := e.createKey(keys.NewClientKey{Description: "shared D", UseSharedSecret: true, Inactive: true})
	e.wantAuth("inactive D", s2, d.Key.ID, keys.ErrInactive)
	if _, err := e.svc.RotateClientKey(e.ctx, e.admin, d.Key.ID); !errors.Is(err, keys.ErrInvalid) {
		t.Errorf("rotate a sharing device = %v, want ErrInvalid", err)
	}

	// Reset with reset_devices: everyone moves to S3, one event names them all.
	s3, err := e.svc.ResetSharedSecret(e.ctx, e.admin, keys.SharedResetConfirmation, true)
	if err != nil {
		t.Fatal(err)
	}
	ev := e.nextEvent()
	want := []string{a.Key.ID, b.Key.ID, c.Key.ID, d.Key.ID}
	slices.Sort(want)
	if ev.Reason != protocol.ReasonRotated || ev.BeforeGeneration != 3 || !slices.Equal(ev.CredentialIDs, want) {
		t.Errorf("reset event %+v, want rotated gen 3 for %v", ev, want)
	}
	for _, dev := range []keys.Created{a, b, c} {
		e.wantAuth(dev.Key.Description+" with S1 after hard reset", s1, dev.Key.ID, keys.ErrUnauthenticated)
		e.wantAuth(dev.Key.Description+" with S2 after hard reset", s2, dev.Key.ID, keys.ErrUnauthenticated)
		e.wantAuth(dev.Key.Description+" with S3", s3, dev.Key.ID, nil)
	}
	e.wantAuth("unique key untouched", unique.Secret, "", nil)
	devs, err := e.svc.SharedDevices(e.ctx, e.admin, store.Page{})
	if err != nil || len(devs) != 4 {
		t.Fatalf("shared devices = %d, %v", len(devs), err)
	}
	for _, dv := range devs {
		if dv.Prefix != protocol.SecretPrefix(s3) {
			t.Errorf("device %s prefix %q, want S3's", dv.ID, dv.Prefix)
		}
	}
	// Revoking and deleting a sharing device works like any key.
	if _, err := e.svc.RevokeClientKey(e.ctx, e.admin, a.Key.ID); err != nil {
		t.Fatal(err)
	}
	e.wantAuth("revoked A", s3, a.Key.ID, keys.ErrRevoked)
	if ev := e.nextEvent(); ev.Reason != protocol.ReasonRevoked || ev.CredentialIDs[0] != a.Key.ID {
		t.Errorf("revoke event %+v", ev)
	}
	if err := e.svc.DeleteClientKey(e.ctx, e.admin, b.Key.ID); err != nil {
		t.Fatal(err)
	}
	e.wantAuth("deleted B", s3, b.Key.ID, keys.ErrUnauthenticated)
}
