package portal

import (
	"net/http"
	"strings"
	"testing"

	"printdock/server/keys"
)

// TestIntegrationsForms: without a browser, the Integrations and settings forms refuse an empty name, are
// for administrators only, and the revoke confirmation of a print client key is a page of its own.
func TestIntegrationsForms(t *testing.T) {
	e := newEnv(t, false)
	admin := e.client()
	admin.login(e.admin.AdminEmail, e.admin.AdminPassword)
	if p := admin.post("/integrations", admin.form("description", "  ")); p.StatusCode != http.StatusBadRequest || !strings.Contains(p.body, "Enter a name") {
		t.Errorf("empty name: %d", p.StatusCode)
	}
	if p := admin.post("/keys", admin.form("description", "")); p.StatusCode != http.StatusBadRequest {
		t.Errorf("empty key description: %d", p.StatusCode)
	}
	k, err := e.svc.CreateClientKey(t.Context(), e.adminActor(), keys.NewClientKey{Description: "Dock 1"})
	if err != nil {
		t.Fatal(err)
	}
	if p := admin.get("/keys/" + k.Key.ID + "/revoke"); p.StatusCode != http.StatusOK || !strings.Contains(p.body, `id="confirm-revoke"`) {
		t.Errorf("revoke confirmation: %d", p.StatusCode)
	}
	_, pw := e.createUser("user@example.com", keys.RoleUser)
	user := e.client()
	user.login("user@example.com", pw)
	for _, path := range []string{"/integrations", "/settings"} {
		if p := user.get(path); p.StatusCode != http.StatusForbidden {
			t.Errorf("user GET %s: %d", path, p.StatusCode)
		}
	}
	if p := user.post("/settings", user.form("new_keys_inactive", "on")); p.StatusCode != http.StatusForbidden {
		t.Errorf("user POST /settings: %d", p.StatusCode)
	}
	if p := admin.get("/integrations"); strings.Contains(p.body, "user@example.com") || !strings.Contains(p.body, "No integrations yet") {
		t.Errorf("integrations page: %d", p.StatusCode)
	}
}
