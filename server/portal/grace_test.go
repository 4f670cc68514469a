package portal

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// Rolling a personal API key with "keep the old key working for": the old key keeps working, the users
// page and the profile say until when and whether it was used; an out-of-range choice is refused.
func TestRotateWithGrace(t *testing.T) {
	e := newEnv(t, false)
	u, pw := e.createUser("erp@example.com", "user")
	wms, _, oldKey, err := e.svc.CreateUser(context.Background(), e.adminActor(), "wms@example.com", "user")
	if err != nil {
		t.Fatal(err)
	}
	wmsID := wms.ID
	b := e.client()
	b.login(e.admin.AdminEmail, e.admin.AdminPassword)
	if p := b.post("/users/"+wmsID+"/rotate", b.form("grace", "86401")); p.StatusCode != http.StatusBadRequest {
		t.Errorf("grace out of range: %d", p.StatusCode)
	}
	p := b.post("/users/"+wmsID+"/rotate", b.form("grace", "3600"))
	if p.StatusCode != http.StatusOK || !strings.Contains(p.body, "keeps working until") {
		t.Fatalf("rotate with grace: %d %.300s", p.StatusCode, p.body)
	}
	if _, err := e.svc.Authenticate(context.Background(), oldKey, "", "198.51.100.4:99"); err != nil {
		t.Fatalf("old key in grace: %v", err)
	}
	if p := b.get("/users"); !strings.Contains(p.body, "old key valid until") || !strings.Contains(p.body, "from 198.51.100.4:99") {
		t.Errorf("users page during grace lacks the old key's line")
	}

	// The profile's rotate page offers the choice and the profile shows the grace.
	ub := e.client()
	ub.login(u.Email, pw)
	if p := ub.get("/profile/rotate"); !strings.Contains(p.body, "Keep the old key working for") {
		t.Errorf("rotate page without the grace choice")
	}
	if p := ub.post("/profile/rotate", ub.form("confirm", "yes", "grace", "86400")); p.StatusCode != http.StatusOK {
		t.Fatalf("own rotate with grace: %d", p.StatusCode)
	}
	if p := ub.get("/profile"); !strings.Contains(p.body, `id="api-key-grace"`) || !strings.Contains(p.body, "not used since the roll") {
		t.Errorf("profile during grace lacks the old key's line")
	}
}
