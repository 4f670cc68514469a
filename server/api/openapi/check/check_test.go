package check_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"printdock/server/api/openapi/check"
)

func TestValidatorCatchesDrift(t *testing.T) {
	v, err := check.NewValidator()
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
