package portal

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"printdock/server/hub"
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
	if p := admin.post("/settings", admin.form("one_installation_per_secret", "on")); p.StatusCode != http.StatusSeeOther {
		t.Errorf("admin saves settings: %d", p.StatusCode)
	}
	if set, _ := e.svc.Settings(t.Context(), e.adminActor()); !set.OneInstallationPerSecret || set.NewKeysInactive {
		t.Errorf("settings after the form: %+v", set)
	}
	if p := user.post("/settings", user.form("new_keys_inactive", "on")); p.StatusCode != http.StatusForbidden {
		t.Errorf("user POST /settings: %d", p.StatusCode)
	}
	if p := admin.get("/integrations"); strings.Contains(p.body, "user@example.com") || !strings.Contains(p.body, "No integrations yet") {
		t.Errorf("integrations page: %d", p.StatusCode)
	}
}

// TestInstallationsByKey: only keys live from several installations are flagged, with their hosts.
func TestInstallationsByKey(t *testing.T) {
	got := installationsByKey([]hub.ClientInfo{
		{CredentialID: "key_a", InstallationID: "i1", Hostname: "PC-7"},
		{CredentialID: "key_a", InstallationID: "i2", Hostname: "PC-3"},
		{CredentialID: "key_b", InstallationID: "i3", Hostname: "PC-9"},
		{CredentialID: "key_b", InstallationID: "i3", Hostname: "PC-9"},
	})
	if len(got) != 1 || !slices.Equal(got["key_a"], []string{"PC-3", "PC-7"}) {
		t.Errorf("flags %v", got)
	}
}

// TestExpiryWarning: a key expiring within 14 days carries a warning on the keys page.
func TestExpiryWarning(t *testing.T) {
	e := newEnv(t, false)
	admin := e.client()
	admin.login(e.admin.AdminEmail, e.admin.AdminPassword)
	for _, d := range []time.Duration{3 * 24 * time.Hour, 30 * 24 * time.Hour} {
		k, err := e.svc.CreateClientKey(t.Context(), e.adminActor(), keys.NewClientKey{Description: "Dock " + d.String()})
		if err != nil {
			t.Fatal(err)
		}
		at := time.Now().Add(d)
		if err := e.svc.SetExpiry(t.Context(), e.adminActor(), k.Key.ID, &at); err != nil {
			t.Fatal(err)
		}
	}
	body := admin.get("/keys").body
	if n := strings.Count(body, `class="sub warn" data-expires`); n != 1 {
		t.Errorf("%d expiry warnings, want 1", n)
	}
	if n := strings.Count(body, "data-expires"); n != 2 {
		t.Errorf("%d expiry dates, want 2", n)
	}
}

// TestRotateIntegrationWithGrace: an integration's secret is rotated from the portal, with or without a
// grace period; the new secret is shown once, and during the grace the list says until when the old one
// works and whether it is still used.
func TestRotateIntegrationWithGrace(t *testing.T) {
	e := newEnv(t, false)
	admin := e.client()
	admin.login(e.admin.AdminEmail, e.admin.AdminPassword)
	oc, _, err := e.svc.CreateOAuthClientWith(t.Context(), e.adminActor(), keys.NewOAuthClient{Description: "WMS", Active: new(true)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		grace, intro string
		graced       bool
	}{
		{"3600", "keeps working until", true},
		{"0", "stopped working", false},
	} {
		p := admin.post("/integrations/"+oc.ID+"/rotate", admin.form("grace", tc.grace))
		if p.StatusCode != http.StatusOK || !strings.Contains(p.body, "Integration secret rotated") ||
			!strings.Contains(p.body, tc.intro) || !strings.Contains(p.body, "pdo_") {
			t.Fatalf("rotate with grace %s: %d", tc.grace, p.StatusCode)
		}
		list := admin.get("/integrations")
		if got := strings.Contains(list.body, "data-grace"); got != tc.graced {
			t.Errorf("grace %s: the list shows a grace: %v, want %v", tc.grace, got, tc.graced)
		}
	}
	if p := admin.post("/integrations/"+oc.ID+"/rotate", admin.form("grace", "999999")); p.StatusCode != http.StatusBadRequest {
		t.Errorf("grace beyond 24 h: %d, want 400", p.StatusCode)
	}
	_, pw := e.createUser("user2@example.com", keys.RoleUser)
	user := e.client()
	user.login("user2@example.com", pw)
	if p := user.post("/integrations/"+oc.ID+"/rotate", user.form("grace", "0")); p.StatusCode != http.StatusForbidden {
		t.Errorf("user rotates an integration: %d, want 403", p.StatusCode)
	}
}
