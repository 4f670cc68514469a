package keys_test

import (
	"errors"
	"testing"

	"printdock/server/keys"
)

func TestChangePassword(t *testing.T) {
	e := newEnv(t)
	_, pw, _, err := e.svc.CreateUser(e.ctx, e.admin, "packer@example.com", keys.RoleUser)
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.svc.PasswordLogin(e.ctx, "packer@example.com", pw, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	user := keys.Actor{Principal: p, RemoteAddr: "192.0.2.1"}
	for _, tt := range []struct {
		name     string
		current  string
		next     string
		want     error
		actor    keys.Actor
		oldStill bool
	}{
		{"wrong current password", "not-it", "a-long-new-password", keys.ErrWrongPassword, user, true},
		{"too short", pw, "short", keys.ErrInvalid, user, true},
		{"e-mail as password", pw, "Packer@Example.com", keys.ErrInvalid, user, true},
		{"too long", pw, string(make([]byte, keys.MaxPasswordLen+1)), keys.ErrInvalid, user, true},
		{"no user (an OAuth token)", pw, "a-long-new-password", keys.ErrForbidden, keys.Actor{Principal: keys.Principal{PortalID: p.PortalID, Kind: keys.KindOAuth}}, true},
		{"changed", pw, "a-long-new-password", nil, user, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := e.svc.ChangePassword(e.ctx, tt.actor, tt.current, tt.next)
			if !errors.Is(err, tt.want) && !(tt.want == nil && err == nil) {
				t.Fatalf("ChangePassword = %v, want %v", err, tt.want)
			}
			_, oldErr := e.svc.PasswordLogin(e.ctx, "packer@example.com", pw, "192.0.2.1")
			if (oldErr == nil) != tt.oldStill {
				t.Fatalf("old password works = %v, want %v", oldErr == nil, tt.oldStill)
			}
		})
	}
	if _, err := e.svc.PasswordLogin(e.ctx, "packer@example.com", "a-long-new-password", "192.0.2.1"); err != nil {
		t.Fatalf("new password: %v", err)
	}
}

func TestResetUserPassword(t *testing.T) {
	e := newEnv(t)
	u, oldPW, _, err := e.svc.CreateUser(e.ctx, e.admin, "packer@example.com", keys.RoleUser)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := e.createUser(e.admin, "plain@example.com", keys.RoleUser)
	other := e.newPortal("Warehouse B", "admin-b@example.com")
	if _, _, err := e.svc.ResetUserPassword(e.ctx, plain, u.ID); !errors.Is(err, keys.ErrForbidden) {
		t.Errorf("a plain user reset a password: %v", err)
	}
	if _, _, err := e.svc.ResetUserPassword(e.ctx, other, u.ID); !errors.Is(err, keys.ErrNotFound) {
		t.Errorf("another portal's admin reset a password: %v", err)
	}
	got, pw, err := e.svc.ResetUserPassword(e.ctx, e.admin, u.ID)
	if err != nil || got.ID != u.ID || len(pw) < keys.MinPasswordLen {
		t.Fatalf("reset = %+v %d chars, %v", got, len(pw), err)
	}
	if _, err := e.svc.PasswordLogin(e.ctx, "packer@example.com", oldPW, "192.0.2.1"); err == nil {
		t.Error("the old password still works")
	}
	if _, err := e.svc.PasswordLogin(e.ctx, "packer@example.com", pw, "192.0.2.1"); err != nil {
		t.Errorf("the reset password: %v", err)
	}
	n := 0
	for _, a := range e.allAudit() {
		if a.Action == keys.ActionPasswordReset && a.Target == u.ID {
			n++
			if a.Detail != "email=packer@example.com" {
				t.Errorf("audit detail %q", a.Detail)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d password_reset audit rows, want 1", n)
	}
}
