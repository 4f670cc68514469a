package server_test

import (
	"net/http"
	"testing"
	"time"

	"printdock/server/servertest"
)

// TestRESTRollWithGrace: a personal API key rolled over REST with grace_seconds keeps working beside the
// new one, and the answer says until when; without a grace the old key stops at once.
func TestRESTRollWithGrace(t *testing.T) {
	s := servertest.New(t, servertest.Options{AuthFailureBurst: 1000})
	var r struct {
		APIKey             string     `json:"api_key"`
		PreviousValidUntil *time.Time `json:"previous_valid_until"`
	}
	s.JSON(t, http.MethodPost, "/api/v1/me/api-key/rotate", s.AdminKey, map[string]any{"confirm": true, "grace_seconds": 3600}, http.StatusOK, &r)
	if r.PreviousValidUntil == nil || time.Until(*r.PreviousValidUntil) <= 0 {
		t.Fatalf("previous_valid_until = %v", r.PreviousValidUntil)
	}
	for name, key := range map[string]string{"old": s.AdminKey, "new": r.APIKey} {
		if code, b := s.Do(t, http.MethodGet, "/api/v1/me", key, nil); code != http.StatusOK {
			t.Errorf("%s key in grace: %d %s", name, code, b)
		}
	}
	var r2 struct {
		APIKey             string     `json:"api_key"`
		PreviousValidUntil *time.Time `json:"previous_valid_until"`
	}
	s.JSON(t, http.MethodPost, "/api/v1/me/api-key/rotate", r.APIKey, map[string]any{"confirm": true}, http.StatusOK, &r2)
	if r2.PreviousValidUntil != nil {
		t.Errorf("previous_valid_until without grace = %v", r2.PreviousValidUntil)
	}
	for key, want := range map[string]int{s.AdminKey: 401, r.APIKey: 401, r2.APIKey: 200} {
		if code, b := s.Do(t, http.MethodGet, "/api/v1/me", key, nil); code != want {
			t.Errorf("after immediate roll: %d, want %d: %s", code, want, b)
		}
	}
}
