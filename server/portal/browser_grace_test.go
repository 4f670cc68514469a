package portal

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
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
