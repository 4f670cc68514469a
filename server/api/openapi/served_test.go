package openapi_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"printdock/server/api/openapi"
	"printdock/server/servertest"
)

func TestServedDocument(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	code, b := s.Do(t, http.MethodGet, openapi.Path, "", nil) // no authentication
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", openapi.Path, code, b)
	}
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") || doc.Paths["/api/v1/jobs/{id}"] == nil {
		t.Errorf("served document: openapi %q, %d paths", doc.OpenAPI, len(doc.Paths))
	}
	if secretShaped.Match(b) {
		t.Error("the document holds something shaped like a secret")
	}
}

// secretShaped matches what servertest's leak check takes for a secret.
var secretShaped = regexp.MustCompile(`pd[cusot]_[0-9A-Za-z]{20,}`)

// TestEmptyListsMatch calls every list endpoint of a fresh server: an empty list must still be what the
// document says ({"items":[]}, never null). servertest validates each answer.
func TestEmptyListsMatch(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	for _, path := range []string{"/api/v1/print-client-secrets", "/api/v1/shared-secret/devices",
		"/api/v1/oauth-clients", "/api/v1/clients", "/api/v1/printers", "/api/v1/jobs",
		"/api/v1/jobs?state=failed", "/api/v1/audit?action=nothing", "/api/v1/users"} {
		var out struct{ Items *[]json.RawMessage }
		s.JSON(t, http.MethodGet, path, s.AdminKey, nil, http.StatusOK, &out)
		if out.Items == nil {
			t.Errorf("GET %s: items is null or absent", path)
		}
	}
}
