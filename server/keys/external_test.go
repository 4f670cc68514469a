package keys_test

import (
	"errors"
	"testing"

	"printdock/server/keys"
)

// TestExternalLogin: a first sign-in creates the user (no password) in the named portal, later ones
// make the role follow the mapping (audited), the last administrator is never demoted by it, and a
// portal that cannot be found refuses a first sign-in.
func TestExternalLogin(t *testing.T) {
	e := newEnv(t)
	id := keys.ExternalIdentity{Provider: "https://idp.example", Subject: "s1", Email: "Ann@Corp.Example",
		Role: keys.RoleUser, Portal: e.init.AdminEmail}
	p, err := e.svc.ExternalLogin(e.ctx, id, "192.0.2.1")
	if err != nil || p.Email != "ann@corp.example" || p.Role != keys.RoleUser || p.PortalID != e.init.PortalID ||
		p.Kind != keys.KindSession {
		t.Fatalf("first sign-in = %+v, %v", p, err)
	}
	if _, err := e.svc.PasswordLogin(e.ctx, "ann@corp.example", "", "192.0.2.1"); !errors.Is(err, keys.ErrUnauthenticated) {
		t.Errorf("password sign-in of a user without a password = %v", err)
	}
	id.Role = keys.RoleAdmin
	if p, err = e.svc.ExternalLogin(e.ctx, id, "192.0.2.1"); err != nil || p.Role != keys.RoleAdmin {
		t.Fatalf("promoted sign-in = %+v, %v", p, err)
	}
	// ann is now one of two admins: demoting her is fine; demoting the last one is not.
	id.Role = keys.RoleUser
	if p, err = e.svc.ExternalLogin(e.ctx, id, ""); err != nil || p.Role != keys.RoleUser {
		t.Fatalf("demoted sign-in = %+v, %v", p, err)
	}
	last := keys.ExternalIdentity{Provider: "https://idp.example", Email: e.init.AdminEmail, Role: keys.RoleUser}
	if _, err := e.svc.ExternalLogin(e.ctx, last, ""); !errors.Is(err, keys.ErrLastAdmin) {
		t.Errorf("last admin demoted: %v", err)
	}
	// The portal for new people must exist.
	for _, ref := range []string{"nobody@example.com", "prt_missing"} {
		bad := keys.ExternalIdentity{Provider: "https://idp.example", Email: "new@corp.example", Role: keys.RoleUser, Portal: ref}
		if _, err := e.svc.ExternalLogin(e.ctx, bad, ""); !errors.Is(err, keys.ErrNotFound) {
			t.Errorf("portal %q: %v", ref, err)
		}
	}
	// By portal ID too.
	byID := keys.ExternalIdentity{Provider: "https://idp.example", Email: "bob@corp.example", Role: keys.RoleUser, Portal: e.init.PortalID}
	if p, err := e.svc.ExternalLogin(e.ctx, byID, ""); err != nil || p.PortalID != e.init.PortalID {
		t.Errorf("portal by ID: %+v, %v", p, err)
	}
	var creates, roles int
	for _, a := range e.allAudit() {
		switch a.Action {
		case keys.ActionUserCreate:
			creates++
		case keys.ActionUserRole:
			roles++
		}
	}
	if creates != 3 || roles != 2 { // the bootstrap admin, ann, bob; ann up and down
		t.Errorf("audit: %d user.create, %d user.set_role", creates, roles)
	}
}
