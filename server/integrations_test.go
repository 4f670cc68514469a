package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"printdock/server/servertest"
)

type oauthClientJSON struct {
	ID             string  `json:"id"`
	Status         string  `json:"status"`
	Prefix         string  `json:"prefix"`
	ClientSecret   string  `json:"client_secret"`
	LastAccessedAt *string `json:"last_accessed_at"`
	Checked        bool    `json:"checked"`
}

// TestOAuthClientActivation walks an integration's REST lifecycle: created inactive, refused a token with
// a message that says why, activated, checked by its first token, deactivated (its token stops working).
func TestOAuthClientActivation(t *testing.T) {
	s := servertest.New(t, servertest.Options{AuthFailureBurst: 1000})
	var c oauthClientJSON
	s.JSON(t, http.MethodPost, "/api/v1/oauth-clients", s.AdminKey, map[string]any{"description": "WMS", "active": false}, http.StatusCreated, &c)
	if c.Status != "inactive" || c.Checked || !strings.HasPrefix(c.ClientSecret, c.Prefix) || c.Prefix == "" {
		t.Fatalf("created %+v", c)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ID}, "client_secret": {c.ClientSecret}}
	if code, b := postForm(t, s, form, ""); code != http.StatusUnauthorized || !strings.Contains(string(b), "inactive") {
		t.Fatalf("token of an inactive client: %d %s", code, b)
	}
	s.JSON(t, http.MethodPost, "/api/v1/oauth-clients/"+c.ID+"/activate", s.AdminKey, nil, http.StatusOK, &c)
	if c.Status != "active" {
		t.Fatalf("activated %+v", c)
	}
	code, b := postForm(t, s, form, "")
	if code != http.StatusOK {
		t.Fatalf("token after activation: %d %s", code, b)
	}
	var list struct{ Items []oauthClientJSON }
	s.JSON(t, http.MethodGet, "/api/v1/oauth-clients", s.AdminKey, nil, http.StatusOK, &list)
	if len(list.Items) != 1 || !list.Items[0].Checked || list.Items[0].LastAccessedAt == nil {
		t.Errorf("list after a token: %+v", list.Items)
	}
	s.JSON(t, http.MethodPost, "/api/v1/oauth-clients/"+c.ID+"/deactivate", s.AdminKey, nil, http.StatusOK, &c)
	if code, b := postForm(t, s, form, ""); code != http.StatusUnauthorized {
		t.Errorf("token after deactivation: %d %s", code, b)
	}
	s.JSON(t, http.MethodPost, "/api/v1/oauth-clients/"+c.ID+"/revoke", s.AdminKey, nil, http.StatusOK, nil)
	if code, b := s.Do(t, http.MethodPost, "/api/v1/oauth-clients/"+c.ID+"/activate", s.AdminKey, nil); code != http.StatusConflict {
		t.Errorf("activate revoked: %d %s", code, b)
	}
}

// TestEmptyDescriptionREST: every create refuses an empty description with 400 and says so.
func TestEmptyDescriptionREST(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	for _, path := range []string{"/api/v1/print-client-secrets", "/api/v1/oauth-clients"} {
		for _, body := range []map[string]any{{}, {"description": "  "}} {
			code, b := s.Do(t, http.MethodPost, path, s.AdminKey, body)
			e := decodeError(t, path, b)
			if code != http.StatusBadRequest || !strings.Contains(e.Error.Message, "description is required") {
				t.Errorf("%s %v: %d %s", path, body, code, b)
			}
		}
	}
}
