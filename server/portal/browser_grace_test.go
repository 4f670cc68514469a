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
	row := `tr[data-email="erp@example.com"] `
	if !strings.HasPrefix(u.rollWithGrace("/users", row+`button[data-action="rotate-user"]`, "#api-key"), "pdu_") {
		t.Fatal("no new pdu_ key shown")
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
	row := `tr[data-client="` + oc.ID + `"] `
	newSecret := u.rollWithGrace("/integrations", row+`button[data-action="rotate"]`, "#secret")
	if !strings.HasPrefix(newSecret, "pdo_") || newSecret == oldSecret {
		t.Fatal("no new pdo_ secret shown")
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

// rollWithGrace signs in, opens page and presses rotate (a row's button) with "1 h grace" chosen in the
// row's select; it checks the result says until when the old secret works and returns the new one (the
// field shown).
func (u *uiTest) rollWithGrace(page, rotate, shown string) string {
	u.t.Helper()
	u.signIn()
	u.open(page, http.StatusOK)
	row, _, _ := strings.Cut(rotate, " button")
	u.do(chromedp.SetValue(chromedp.CSS(row+` select[name="grace"]`), "3600"))
	u.submit(rotate, http.StatusOK)
	if !strings.Contains(u.text("main"), "keeps working until") {
		u.t.Fatalf("rotated with grace: %q", u.text("main"))
	}
	return u.value(shown)
}
