package api

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestFailStoreFault: a full disk answers 507, an unreachable database 503 with Retry-After, each with
// its code, instead of 500 (the chaos suite's diskfull and pgrestart scenarios found the 500s).
func TestFailStoreFault(t *testing.T) {
	a := &API{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, tc := range []struct {
		name       string
		err        error
		status     int
		code       string
		retryAfter string
	}{
		{"disk full", fmt.Errorf("sqlite: commit: %w", syscall.ENOSPC), http.StatusInsufficientStorage, "insufficient_storage", ""},
		{"database down", fmt.Errorf("postgres: create job: %w", &pgconn.PgError{Code: "57P01"}), http.StatusServiceUnavailable, "unavailable", faultRetryAfter},
		{"other", fmt.Errorf("boom"), http.StatusInternalServerError, "internal", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			a.fail(w, httptest.NewRequest(http.MethodPost, "/api/v1/printers/p/jobs", nil), tc.err)
			var body struct{ Error struct{ Code string } }
			_ = json.Unmarshal(w.Body.Bytes(), &body)
			if w.Code != tc.status || body.Error.Code != tc.code || w.Header().Get("Retry-After") != tc.retryAfter {
				t.Fatalf("fail(%v) = %d %q Retry-After %q, want %d %q %q", tc.err, w.Code, body.Error.Code,
					w.Header().Get("Retry-After"), tc.status, tc.code, tc.retryAfter)
			}
		})
	}
}
