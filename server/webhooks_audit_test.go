package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"printdock/server/servertest"
	"printdock/server/webhooks"
)

// TestWebhookAudit: creating, changing and deleting a webhook and resending a delivery each write one
// audit entry naming the actor and the webhook; none holds the signing secret or the URL's query.
func TestWebhookAudit(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	wh := createWebhook(t, s, "https://erp.example.invalid/hook?token=receiver-token", "key.rotated")
	s.JSON(t, http.MethodPatch, "/api/v1/webhooks/"+wh.ID, s.AdminKey, map[string]any{"events": []string{"key.rotated", "key.revoked"}}, http.StatusOK, nil)
	s.KeyAction(t, s.CreatePrintClient(t, "Desk").ID, "rotate") // one key.rotated delivery
	ds := deliveries(t, s, wh.ID)
	if len(ds) != 1 {
		t.Fatalf("%d deliveries, want 1", len(ds))
	}
	s.JSON(t, http.MethodPost, fmt.Sprintf("/api/v1/webhooks/%s/deliveries/%d/resend", wh.ID, ds[0].ID), s.AdminKey, nil, http.StatusAccepted, nil)
	s.JSON(t, http.MethodDelete, "/api/v1/webhooks/"+wh.ID, s.AdminKey, nil, http.StatusNoContent, nil)

	for _, tc := range []struct{ action, detail string }{
		{webhooks.ActionCreate, "url=https://erp.example.invalid/hook?… events=key.rotated enabled=true"},
		{webhooks.ActionUpdate, "events=key.rotated,key.revoked enabled=true"},
		{webhooks.ActionResend, fmt.Sprintf("delivery=%d event=%d", ds[0].ID, ds[0].EventID)},
		{webhooks.ActionDelete, "url=https://erp.example.invalid/hook?…"},
	} {
		var out struct {
			Items []struct{ Actor, Target, Detail string } `json:"items"`
		}
		code, body := s.Do(t, http.MethodGet, "/api/v1/audit?action="+tc.action, s.AdminKey, nil)
		if err := json.Unmarshal(body, &out); err != nil || code != http.StatusOK || len(out.Items) != 1 {
			t.Fatalf("audit %s: %d %s", tc.action, code, body)
		}
		e := out.Items[0]
		if e.Target != wh.ID || e.Actor == "" || !strings.Contains(e.Detail, tc.detail) {
			t.Errorf("audit %s = %+v, want target %s and detail with %q", tc.action, e, wh.ID, tc.detail)
		}
		secret := strings.TrimPrefix(wh.Secret, webhooks.SecretPrefix)
		if strings.Contains(string(body), secret) || strings.Contains(string(body), "receiver-token") {
			t.Errorf("audit %s holds the secret or the URL's token: %s", tc.action, body)
		}
	}
}
