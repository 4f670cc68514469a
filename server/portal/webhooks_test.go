package portal

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"printdock/server/keys"
)

// TestBrowserWebhooks: an administrator adds a webhook (its secret shown once), disables and enables it,
// and resends a delivery from its delivery log, in real Chromium.
func TestBrowserWebhooks(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	e := newEnv(t, false)
	u := newUITest(t, e)
	u.open("/login", http.StatusOK)
	u.do(chromedp.SendKeys(chromedp.ID("email"), e.admin.AdminEmail), chromedp.SendKeys(chromedp.ID("password"), e.admin.AdminPassword))
	u.submit("#signin", http.StatusOK)

	u.open("/webhooks", http.StatusOK)
	u.do(chromedp.SendKeys(chromedp.ID("url"), "ftp://nope"))
	u.submit("#add-webhook", http.StatusBadRequest)
	if !strings.Contains(u.text("#form-error"), "http or https") {
		t.Errorf("bad URL message %q", u.text("#form-error"))
	}
	u.do(chromedp.SetValue(chromedp.ID("url"), "https://shop.example.com/printdock/webhook"),
		chromedp.SendKeys(chromedp.ID("description"), "Shop backend"))
	u.submit("#add-webhook", http.StatusOK)
	if secret := u.value("#secret"); !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret on the page %q", secret)
	}
	u.shot("webhook-secret")
	u.submit("#done", http.StatusOK)

	hooks, err := e.portal.opts.Webhooks.List(context.Background(), e.adminActor())
	if err != nil || len(hooks) != 1 {
		t.Fatalf("webhooks: %v %v", hooks, err)
	}
	id := hooks[0].ID
	row := `tr[data-webhook="` + id + `"] `
	u.submit(row+`button[data-action="disable"]`, http.StatusOK)
	if got := u.text(row + "[data-status]"); got != "disabled" {
		t.Errorf("status after disable %q", got)
	}
	u.submit(row+`button[data-action="enable"]`, http.StatusOK)
	if got := u.text(row + "[data-status]"); got != "enabled" {
		t.Errorf("status after enable %q", got)
	}
	// An event: a delivery (no sender runs here, so it stays pending).
	k, err := e.svc.CreateClientKey(context.Background(), e.adminActor(), keys.NewClientKey{Description: "rotated"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RotateClientKey(context.Background(), e.adminActor(), k.Key.ID); err != nil {
		t.Fatal(err)
	}
	u.shot("webhooks")
	u.open("/webhooks/"+id, http.StatusOK)
	if !u.present(`#deliveries-table tr[data-delivery]`) {
		t.Fatal("no delivery listed")
	}
	u.shot("webhook-deliveries")
	u.submit(`#deliveries-table button[data-action="resend"]`, http.StatusOK)
	if !strings.Contains(u.text(".alert"), "will be sent again") {
		t.Errorf("resend message %q", u.text(".alert"))
	}
	u.open("/webhooks", http.StatusOK)
	u.submit(row+`button[data-action="delete"]`, http.StatusOK)
	if u.present(row) {
		t.Error("deleted webhook still listed")
	}
}
