package portal

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"printdock/server/keys"
)

// TestBrowserRollWithGrace walks the users page's rotate with "keep the old key working for" 1 hour in
// Chromium: the new key is shown with until when the old one works, and after the old key is used the users
// page says "old key valid until … — last used … from …".
func TestBrowserRollWithGrace(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	e := newEnv(t, false)
	u := newUITest(t, e)
	_, _, oldKey, err := e.svc.CreateUser(context.Background(), e.adminActor(), "erp@example.com", "user")
	if err != nil {
		t.Fatal(err)
	}
	u.signIn()
	u.open("/users", http.StatusOK)
	row := `tr[data-email="erp@example.com"] `
	u.do(chromedp.SetValue(chromedp.CSS(row+`select[name="grace"]`), "3600"))
	u.submit(row+`button[data-action="rotate-user"]`, http.StatusOK)
	if !strings.HasPrefix(u.value("#api-key"), "pdu_") || !strings.Contains(u.text("main"), "keeps working until") {
		t.Fatalf("rotated with grace: %q", u.text("main"))
	}
	if _, err := e.svc.Authenticate(context.Background(), oldKey, "", "198.51.100.8:4321"); err != nil {
		t.Fatalf("old key in grace: %v", err)
	}
	u.open("/users", http.StatusOK)
	if got := u.text(row + "[data-grace]"); !strings.Contains(got, "old key valid until") || !strings.Contains(got, "from 198.51.100.8:4321") {
		t.Errorf("users page during grace: %q", got)
	}
	u.shot("users-grace")
}

// TestBrowserRollIntegrationWithGrace walks the Integrations page's "Rotate secret" with 1 h grace in
// Chromium: the new secret is shown once with until when the old one works; both secrets get tokens; and
// after the integration used the old one, its row says "old secret valid until … — last used … from …".
func TestBrowserRollIntegrationWithGrace(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	e := newEnv(t, false)
	u := newUITest(t, e)
	ctx := context.Background()
	oc, oldSecret, err := e.svc.CreateOAuthClientWith(ctx, e.adminActor(), keys.NewOAuthClient{Description: "WMS", Active: new(true)})
	if err != nil {
		t.Fatal(err)
	}
	u.signIn()
	u.open("/integrations", http.StatusOK)
	row := `tr[data-client="` + oc.ID + `"] `
	u.do(chromedp.SetValue(chromedp.CSS(row+`select[name="grace"]`), "3600"))
	u.submit(row+`button[data-action="rotate"]`, http.StatusOK)
	newSecret := u.value("#secret")
	if !strings.HasPrefix(newSecret, "pdo_") || newSecret == oldSecret || !strings.Contains(u.text("main"), "keeps working until") {
		t.Fatalf("rotated with grace: %q", u.text("main"))
	}
	u.shot("integration-rotated")
	for name, secret := range map[string]string{"old (in grace)": oldSecret, "new": newSecret} {
		if _, _, err := e.svc.IssueToken(ctx, oc.ID, secret, "198.51.100.9:5000"); err != nil {
			t.Errorf("token with the %s secret: %v", name, err)
		}
	}
	u.submit("#done", http.StatusOK)
	if got := u.text(row + "[data-grace]"); !strings.Contains(got, "old secret valid until") || !strings.Contains(got, "from 198.51.100.9") {
		t.Errorf("integrations page during grace: %q", got)
	}
	u.shot("integration-grace")
}
