package openapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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

func TestValidatorCatchesDrift(t *testing.T) {
	v, err := openapi.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	json := http.Header{"Content-Type": {"application/json"}}
	job := `{"id":"job_1","printer_id":"prn_1","client_id":"cli_1","title":"","size":3,"copies":1,"created_by":"a@example.com","state":"queued","attempts":0,"created_at":"2026-12-05T10:00:00Z","updated_at":"2026-12-05T10:00:00Z","expires_at":"2026-12-19T10:00:00Z"}`
	for _, tc := range []struct {
		name, method, path string
		status             int
		body               string
		ok                 bool
	}{
		{"job", "GET", "/api/v1/jobs/job_1", 200, job, true},
		{"undocumented field", "GET", "/api/v1/jobs/job_1", 200, strings.Replace(job, `"size"`, `"bytes":1,"size"`, 1), false},
		{"unknown state", "GET", "/api/v1/jobs/job_1", 200, strings.Replace(job, `"queued"`, `"parked"`, 1), false},
		{"undocumented status", "GET", "/api/v1/jobs/job_1", 418, `{"error":{"code":"teapot","message":"x"}}`, false},
		{"error shape", "GET", "/api/v1/jobs/job_1", 404, `{"error":{"code":"not_found","message":"not found"}}`, true},
		{"wrong error shape", "GET", "/api/v1/jobs/job_1", 404, `{"message":"not found"}`, false},
		{"portal page is not checked", "GET", "/jobs", 200, `<html>`, true},
		{"empty id is not a route", "DELETE", "/api/v1/users", 405, `{}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, nil)
			err := v.Check(context.Background(), req, tc.status, json, []byte(tc.body), true)
			if (err == nil) != tc.ok {
				t.Errorf("Check = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

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
