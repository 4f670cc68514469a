package openapi_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"printdock/protocol"
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

// TestJobAnswersMatch drives the answers of a job's life that the main tests rarely reach — a PDF the
// server cannot render (422), a duplicate submission (200), a cancellation (200), a conflict (409), a
// wrong body (400) — through servertest, which validates each against the document.
func TestJobAnswersMatch(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	k := s.CreatePrintClient(t, "dock")
	a := s.Connect(t, k.Secret, servertest.DialOptions{Printers: []protocol.Printer{servertest.SimPrinter("openapi")}})
	p := s.WaitPrinter(t, a, "sim://openapi", true)
	jobs := "/api/v1/printers/" + p.ID + "/jobs"
	pdf := map[string]any{"content_type": "pdf", "content_base64": "JVBERi0xLjQK"}
	if code, b := s.Do(t, http.MethodPost, jobs, s.AdminKey, pdf); code != http.StatusUnprocessableEntity {
		t.Errorf("PDF for a printer of unknown language: %d %s", code, b)
	}
	req := servertest.JobRequest([]byte("^XA^XZ\n"), servertest.JobOptions{})
	req["idempotency_key"] = "openapi-1"
	var j struct{ ID string }
	s.JSON(t, http.MethodPost, jobs, s.AdminKey, req, http.StatusCreated, &j)
	s.JSON(t, http.MethodPost, jobs, s.AdminKey, req, http.StatusOK, nil)
	req["title"] = "another"
	s.JSON(t, http.MethodPost, jobs, s.AdminKey, req, http.StatusConflict, nil)
	s.JSON(t, http.MethodPost, jobs, s.AdminKey, `{"titel":"x"}`, http.StatusBadRequest, nil)
	s.JSON(t, http.MethodGet, "/api/v1/jobs?limit=0", s.AdminKey, nil, http.StatusBadRequest, nil)
	s.JSON(t, http.MethodGet, "/api/v1/jobs/"+j.ID+"/events", s.AdminKey, nil, http.StatusOK, nil)
	s.JSON(t, http.MethodGet, "/api/v1/jobs/job_nope", s.AdminKey, nil, http.StatusNotFound, nil)
	s.JSON(t, http.MethodGet, "/api/v1/jobs", "", nil, http.StatusUnauthorized, nil)
}
