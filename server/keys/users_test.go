package keys_test

import (
	"errors"
	"testing"

	"printdock/protocol"
	"printdock/server/keys"
	"printdock/server/store"
)

func TestPersonalAPIKeyRotation(t *testing.T) {
	e := newEnv(t)
	user, userKey := e.createUser(e.admin, "packer@example.com", keys.RoleUser)

	// Self-rotation needs confirmation.
	if _, err := e.svc.RotateOwnAPIKey(e.ctx, user, false); !errors.Is(err, keys.ErrConfirmationRequired) {
		t.Fatalf("rotate without confirm = %v", err)
	}
	e.wantAuth("key after refused rotation", userKey, "", nil)
	e.noEvent()
	newKey, err := e.svc.RotateOwnAPIKey(e.ctx, user, true)
	if err != nil {
		t.Fatal(err)
	}
	e.wantAuth("old own key", userKey, "", keys.ErrUnauthenticated)
	e.wantAuth("new own key", newKey, "", nil)
	if ev := e.nextEvent(); ev.Reason != protocol.ReasonRotated || ev.CredentialIDs[0] != user.CredentialID || ev.BeforeGeneration != 2 {
		t.Errorf("self rotation event %+v", ev)
	}
	me, err := e.svc.Me(e.ctx, e.actor(newKey))
	if err != nil || me.Email != "packer@example.com" || me.APIKeyPrefix != protocol.SecretPrefix(newKey) || me.Role != keys.RoleUser {
		t.Errorf("me = %+v, %v", me, err)
	}

	// A user may not rotate someone else's key.
	if _, err := e.svc.RotateUserAPIKey(e.ctx, user, e.admin.UserID); !errors.Is(err, keys.ErrForbidden) {
		t.Errorf("user rotates admin's key = %v", err)
	}
	// An admin rotates another user's key without confirmation.
	adminMade, err := e.svc.RotateUserAPIKey(e.ctx, e.admin, user.UserID)
	if err != nil {
		t.Fatal(err)
	}
	e.wantAuth("key rotated by admin (old)", newKey, "", keys.ErrUnauthenticated)
	e.wantAuth("key rotated by admin (new)", adminMade, "", nil)
	if ev := e.nextEvent(); ev.Reason != protocol.ReasonRotated || ev.CredentialIDs[0] != user.CredentialID || ev.BeforeGeneration != 3 {
		t.Errorf("admin rotation event %+v", ev)
	}
	// Devices and OAuth clients have no own key.
	dev := e.createKey(keys.NewClientKey{Description: "d"})
	devActor := e.actor(dev.Secret)
	if _, err := e.svc.RotateOwnAPIKey(e.ctx, devActor, true); !errors.Is(err, keys.ErrForbidden) {
		t.Errorf("device rotates own key = %v", err)
	}
	if _, err := e.svc.Me(e.ctx, devActor); !errors.Is(err, keys.ErrForbidden) {
		t.Errorf("device me = %v", err)
	}
}

func TestUsers(t *testing.T) {
	e := newEnv(t)
	u, pw, key, err := e.svc.CreateUser(e.ctx, e.admin, " Second@Example.com", keys.RoleAdmin)
	if err != nil || u.Email != "second@example.com" || pw == "" || key == "" {
		t.Fatalf("create user = %+v, %v", u, err)
	}
	if _, _, _, err := e.svc.CreateUser(e.ctx, e.admin, "second@example.com", keys.RoleUser); !errors.Is(err, keys.ErrConflict) {
		t.Errorf("duplicate e-mail = %v", err)
	}
	for _, bad := range []struct {
		email string
		role  keys.Role
	}{{"not-an-email", keys.RoleUser}, {"x@example.com", "owner"}} {
		if _, _, _, err := e.svc.CreateUser(e.ctx, e.admin, bad.email, bad.role); !errors.Is(err, keys.ErrInvalid) {
			t.Errorf("create %q/%q = %v, want ErrInvalid", bad.email, bad.role, err)
		}
	}
	if p, err := e.svc.PasswordLogin(e.ctx, "second@example.com", pw, "192.0.2.9:1"); err != nil || p.UserID != u.ID {
		t.Errorf("login new user = %+v, %v", p, err)
	}
	list, err := e.svc.ListUsers(e.ctx, e.admin, store.Page{})
	if err != nil || len(list) != 2 || list[1].ID != u.ID || list[1].APIKeyPrefix != protocol.SecretPrefix(key) {
		t.Fatalf("list users = %+v, %v", list, err)
	}
	// Demote; the last admin cannot be demoted or deleted.
	if got, err := e.svc.SetUserRole(e.ctx, e.admin, u.ID, keys.RoleUser); err != nil || got.Role != keys.RoleUser {
		t.Fatalf("demote = %+v, %v", got, err)
	}
	// A role change logs nobody out (Reason ""), but tells caches of the user's key (authcache.go).
	if ev := e.nextEvent(); ev.Reason != "" || len(ev.CredentialIDs) != 1 || ev.CredentialIDs[0] != u.ID {
		t.Errorf("role change event %+v", ev)
	}
	if _, err := e.svc.SetUserRole(e.ctx, e.admin, e.admin.UserID, keys.RoleUser); !errors.Is(err, keys.ErrConflict) {
		t.Errorf("demote last admin = %v", err)
	}
	if err := e.svc.DeleteUser(e.ctx, e.admin, e.admin.UserID); !errors.Is(err, keys.ErrConflict) {
		t.Errorf("delete last admin = %v", err)
	}
	// Deleting a user logs out sessions using their key and their portal sessions.
	userActor := e.actor(key)
	if err := e.svc.DeleteUser(e.ctx, e.admin, u.ID); err != nil {
		t.Fatal(err)
	}
	ev := e.nextEvent()
	if ev.Reason != protocol.ReasonDeleted || len(ev.CredentialIDs) != 2 || ev.CredentialIDs[0] != userActor.CredentialID || ev.CredentialIDs[1] != u.ID {
		t.Errorf("delete user event %+v", ev)
	}
	e.wantAuth("deleted user's key", key, "", keys.ErrUnauthenticated)
	if _, err := e.svc.PasswordLogin(e.ctx, "second@example.com", pw, ""); !errors.Is(err, keys.ErrUnauthenticated) {
		t.Errorf("deleted user login = %v", err)
	}
	if err := e.svc.StillValid(e.ctx, userActor.Principal); !errors.Is(err, keys.ErrUnauthenticated) || !errors.Is(err, keys.ErrDeleted) {
		t.Errorf("deleted user's principal still valid: %v", err)
	}
}

func TestRoleChecks(t *testing.T) {
	e := newEnv(t)
	user, _ := e.createUser(e.admin, "user@example.com", keys.RoleUser)
	k := e.createKey(keys.NewClientKey{Description: "k"})
	device := e.actor(k.Secret)
	oc, sec, err := e.svc.CreateOAuthClient(e.ctx, e.admin, "WMS")
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := e.svc.IssueToken(e.ctx, oc.ID, sec, "")
	if err != nil {
		t.Fatal(err)
	}
	oauth := e.actor(tok)
	adminOnly := map[string]func(a keys.Actor) error{
		"CreateClientKey": func(a keys.Actor) error {
			_, err := e.svc.CreateClientKey(e.ctx, a, keys.NewClientKey{Description: "x"})
			return err
		},
		"ListClientKeys":     func(a keys.Actor) error { _, err := e.svc.ListClientKeys(e.ctx, a, store.Page{}); return err },
		"GetClientKey":       func(a keys.Actor) error { _, err := e.svc.GetClientKey(e.ctx, a, k.Key.ID); return err },
		"RotateClientKey":    func(a keys.Actor) error { _, err := e.svc.RotateClientKey(e.ctx, a, k.Key.ID); return err },
		"SetClientKeyActive": func(a keys.Actor) error { _, err := e.svc.SetClientKeyActive(e.ctx, a, k.Key.ID, false); return err },
		"RevokeClientKey":    func(a keys.Actor) error { _, err := e.svc.RevokeClientKey(e.ctx, a, k.Key.ID); return err },
		"DeleteClientKey":    func(a keys.Actor) error { return e.svc.DeleteClientKey(e.ctx, a, k.Key.ID) },
		"ListUsers":          func(a keys.Actor) error { _, err := e.svc.ListUsers(e.ctx, a, store.Page{}); return err },
		"CreateUser": func(a keys.Actor) error {
			_, _, _, err := e.svc.CreateUser(e.ctx, a, "new@example.com", keys.RoleAdmin)
			return err
		},
		"SetUserRole":      func(a keys.Actor) error { _, err := e.svc.SetUserRole(e.ctx, a, a.UserID, keys.RoleAdmin); return err },
		"DeleteUser":       func(a keys.Actor) error { return e.svc.DeleteUser(e.ctx, a, e.admin.UserID) },
		"RotateUserAPIKey": func(a keys.Actor) error { _, err := e.svc.RotateUserAPIKey(e.ctx, a, e.admin.UserID); return err },
		"ResetSharedSecret": func(a keys.Actor) error {
			_, err := e.svc.ResetSharedSecret(e.ctx, a, keys.SharedResetConfirmation, true)
			return err
		},
		"SharedDevices":     func(a keys.Actor) error { _, err := e.svc.SharedDevices(e.ctx, a, store.Page{}); return err },
		"CreateOAuthClient": func(a keys.Actor) error { _, _, err := e.svc.CreateOAuthClient(e.ctx, a, "x"); return err },
		"ListOAuthClients":  func(a keys.Actor) error { _, err := e.svc.ListOAuthClients(e.ctx, a, store.Page{}); return err },
		"RevokeOAuthClient": func(a keys.Actor) error { _, err := e.svc.RevokeOAuthClient(e.ctx, a, oc.ID); return err },
		"DeleteOAuthClient": func(a keys.Actor) error { return e.svc.DeleteOAuthClient(e.ctx, a, oc.ID) },
		"Audit":             func(a keys.Actor) error { _, err := e.svc.Audit(e.ctx, a, keys.AuditFilter{}); return err },
	}
	actors := map[string]keys.Actor{"user": user, "device": device, "oauth": oauth, "nobody": {}}
	for name, fn := range adminOnly {
		for an, a := range actors {
			if err := fn(a); !errors.Is(err, keys.ErrForbidden) {
				t.Errorf("%s by %s = %v, want ErrForbidden", name, an, err)
			}
		}
	}
	// Nothing changed.
	e.wantAuth("key after refused ops", k.Secret, "", nil)
	if oauth.Role != keys.RoleUser || oauth.Kind != keys.KindOAuth || oauth.UserID != e.admin.UserID {
		t.Errorf("oauth principal %+v", oauth.Principal)
	}
}

func TestPortalIsolation(t *testing.T) {
	e := newEnv(t)
	adminB := e.newPortal("Warehouse B", "boss@b.example")
	if adminB.PortalID == e.admin.PortalID || !adminB.IsAdmin() {
		t.Fatalf("portal B admin %+v", adminB.Principal)
	}
	k := e.createKey(keys.NewClientKey{Description: "A's printer"})
	dev := e.createKey(keys.NewClientKey{Description: "A's shared device", UseSharedSecret: true})
	userA, _ := e.createUser(e.admin, "a-user@example.com", keys.RoleUser)
	oc, _, err := e.svc.CreateOAuthClient(e.ctx, e.admin, "A's WMS")
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]func() error{
		"GetClientKey":       func() error { _, err := e.svc.GetClientKey(e.ctx, adminB, k.Key.ID); return err },
		"RotateClientKey":    func() error { _, err := e.svc.RotateClientKey(e.ctx, adminB, k.Key.ID); return err },
		"SetClientKeyActive": func() error { _, err := e.svc.SetClientKeyActive(e.ctx, adminB, k.Key.ID, false); return err },
		"RevokeClientKey":    func() error { _, err := e.svc.RevokeClientKey(e.ctx, adminB, dev.Key.ID); return err },
		"DeleteClientKey":    func() error { return e.svc.DeleteClientKey(e.ctx, adminB, k.Key.ID) },
		"RotateUserAPIKey":   func() error { _, err := e.svc.RotateUserAPIKey(e.ctx, adminB, userA.UserID); return err },
		"SetUserRole":        func() error { _, err := e.svc.SetUserRole(e.ctx, adminB, userA.UserID, keys.RoleAdmin); return err },
		"DeleteUser":         func() error { return e.svc.DeleteUser(e.ctx, adminB, userA.UserID) },
		"RevokeOAuthClient":  func() error { _, err := e.svc.RevokeOAuthClient(e.ctx, adminB, oc.ID); return err },
		"DeleteOAuthClient":  func() error { return e.svc.DeleteOAuthClient(e.ctx, adminB, oc.ID) },
		// a client key ID is not an OAuth client ID and vice versa
		"GetClientKey(oauth id)": func() error { _, err := e.svc.GetClientKey(e.ctx, e.admin, oc.ID); return err },
		"GetClientKey(user key)": func() error { _, err := e.svc.GetClientKey(e.ctx, e.admin, userA.CredentialID); return err },
	}
	for name, fn := range checks {
		if err := fn(); !errors.Is(err, keys.ErrNotFound) {
			t.Errorf("%s across portals = %v, want ErrNotFound", name, err)
		}
	}
	for name, n := range map[string]func() (int, error){
		"ListClientKeys": func() (int, error) { l, err := e.svc.ListClientKeys(e.ctx, adminB, store.Page{}); return len(l), err },
		"ListUsers":      func() (int, error) { l, err := e.svc.ListUsers(e.ctx, adminB, store.Page{}); return len(l), err },
		"ListOAuth":      func() (int, error) { l, err := e.svc.ListOAuthClients(e.ctx, adminB, store.Page{}); return len(l), err },
		"SharedDevices":  func() (int, error) { l, err := e.svc.SharedDevices(e.ctx, adminB, store.Page{}); return len(l), err },
	} {
		got, err := n()
		want := 0
		if name == "ListUsers" {
			want = 1 // B's admin
		}
		if err != nil || got != want {
			t.Errorf("%s in B = %d, %v; want %d", name, got, err, want)
		}
	}
	au, err := e.svc.Audit(e.ctx, adminB, keys.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range au {
		if a.PortalID != adminB.PortalID {
			t.Errorf("B sees audit entry of %s: %+v", a.PortalID, a)
		}
	}
	// B's shared secret is not A's: a device of A does not authenticate with B's shared secret.
	sB, err := e.svc.ResetSharedSecret(e.ctx, adminB, keys.SharedResetConfirmation, false)
	if err != nil {
		t.Fatal(err)
	}
	e.wantAuth("A's device with B's shared secret", sB, dev.Key.ID, keys.ErrUnauthenticated)
	e.wantAuth("A's device with A's shared secret", dev.Secret, dev.Key.ID, nil)
	e.wantAuth("A's key still there", k.Secret, "", nil)
}
