package portal

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"printdock/internal/testenv"
	"printdock/protocol"
	"printdock/server/keys"
)

// signIn signs the admin in through the sign-in page.
func (u *uiTest) signIn() {
	u.t.Helper()
	u.open("/login", http.StatusOK)
	u.do(chromedp.SendKeys(chromedp.ID("email"), u.e.admin.AdminEmail),
		chromedp.SendKeys(chromedp.ID("password"), u.e.admin.AdminPassword))
	u.submit("#signin", http.StatusOK)
}

// TestBrowserIntegrations walks the settings and Integrations pages in Chromium: "new keys start
// inactive", an integration created inactive with its secret shown once (Copy, one-time Download),
// activated and checked by its first token, deactivated, revoked and deleted after confirmations.
func TestBrowserIntegrations(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	e := newEnv(t, false)
	u := newUITest(t, e)
	ctx := context.Background()
	const name = "Shop backend"
	var clientID, secret string
	row := func() string { return `tr[data-client="` + clientID + `"] ` }
	steps := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"settings: new keys start inactive", func(t *testing.T) {
			u.signIn()
			u.open("/settings", http.StatusOK)
			u.do(chromedp.Click(chromedp.ID("new_keys_inactive")))
			u.submit("#save-settings", http.StatusOK)
			if !strings.Contains(u.text("#flash"), "saved") || u.eval(`document.getElementById("new_keys_inactive").checked`) != true {
				t.Fatalf("settings not saved: %q", u.text("#flash"))
			}
			u.shot("settings")
			u.open("/keys", http.StatusOK)
			if u.eval(`document.getElementById("inactive").checked`) != true {
				t.Error("the keys page's Create inactive box does not follow the setting")
			}
		}},
		{"create an integration", func(t *testing.T) {
			u.open("/integrations", http.StatusOK)
			u.do(chromedp.SendKeys(chromedp.ID("description"), name))
			u.submit("#add-integration", http.StatusOK)
			secret, clientID = u.value("#secret"), u.value("#client-id")
			if kind, err := protocol.ParseSecret(secret); err != nil || kind != protocol.KindOAuthClient || !strings.HasPrefix(clientID, "oac_") {
				t.Fatalf("client %q secret kind %v %v", clientID, kind, err)
			}
			if !strings.Contains(u.text(".alert-warn"), "cannot be shown again") || !strings.Contains(u.text("main"), "inactive") {
				t.Error("no shown-once warning or inactive note")
			}
			u.shot("integration-secret")
			u.do(chromedp.Click(chromedp.CSS(`button[data-copy="secret"]`)))
			testenv.WaitFor(t, "the Copy button to react", func() bool {
				l := u.text(`button[data-copy="secret"]`)
				return l == "Copied" || l == "Press Ctrl+C"
			})
			u.do(chromedp.Click(chromedp.CSS(`button[data-download="secret"]`)))
			file := filepath.Join(u.dlDir, "printdock-oauth-client-Shop-backend.txt")
			testenv.WaitFor(t, "the download", func() bool {
				b, err := os.ReadFile(file)
				return err == nil && string(b) == secret+"\n"
			})
			u.submit("#done", http.StatusOK)
			if got := u.text(row() + "[data-status]"); got != "inactive" {
				t.Errorf("new integration is %q, want inactive (portal setting)", got)
			}
			if _, _, err := e.svc.IssueToken(ctx, clientID, secret, "192.0.2.1"); err == nil {
				t.Error("an inactive integration got a token")
			}
		}},
		{"activate and check", func(t *testing.T) {
			u.submit(row()+`button[data-action="activate"]`, http.StatusOK)
			if got := u.text(row() + "[data-token-check]"); got != "no token yet since activation" {
				t.Errorf("after activation: %q", got)
			}
			if _, _, err := e.svc.IssueToken(ctx, clientID, secret, "192.0.2.1"); err != nil {
				t.Fatalf("token after activation: %v", err)
			}
			u.open("/integrations", http.StatusOK)
			if got := u.text(row() + "[data-token-check]"); got != "token issued since activation" {
				t.Errorf("after a token: %q", got)
			}
			if got := u.text(row() + "[data-last]"); got == "never" {
				t.Error("last accessed not shown")
			}
			u.shot("integrations")
		}},
		{"deactivate, revoke, delete", func(t *testing.T) {
			u.submit(row()+`button[data-action="deactivate"]`, http.StatusOK)
			if got := u.text(row() + "[data-status]"); got != "inactive" || !strings.Contains(u.text("#flash"), "deactivated") {
				t.Errorf("after deactivate: %q, flash %q", got, u.text("#flash"))
			}
			u.submit(row()+`a[data-action="revoke"]`, http.StatusOK)
			if !strings.Contains(u.text("h1"), name) || !strings.Contains(u.text("main"), "permanent") {
				t.Errorf("revoke confirmation %q", u.text("h1"))
			}
			u.shot("integration-revoke")
			u.submit("#confirm-revoke", http.StatusOK)
			if got := u.text(row() + "[data-status]"); got != "revoked" || u.present(row()+`button[data-action="activate"]`) {
				t.Errorf("after revoke: %q", got)
			}
			u.submit(row()+`a[data-action="delete"]`, http.StatusOK)
			u.submit("#confirm-delete", http.StatusOK)
			if u.present(row()) {
				t.Error("deleted integration still listed")
			}
			if _, err := e.svc.GetOAuthClient(ctx, e.adminActor(), clientID); err == nil {
				t.Error("integration not deleted")
			}
		}},
		{"a shared-secret device gets its own secret and goes back", func(t *testing.T) {
			dev, err := e.svc.CreateClientKey(ctx, e.adminActor(), keys.NewClientKey{Description: "Dock 3", UseSharedSecret: true, Active: new(true)})
			if err != nil {
				t.Fatal(err)
			}
			id := dev.Key.ID
			agent, _, err := dialAgent(t, e.srv.URL, dev.Secret, id, "dock-3", nil)
			if err != nil {
				t.Fatal(err)
			}
			u.open("/keys", http.StatusOK)
			u.submit(`tr[data-key="`+id+`"] button[data-action="own-secret"]`, http.StatusOK)
			own := u.value("#secret")
			if kind, err := protocol.ParseSecret(own); err != nil || kind != protocol.KindPrintClient {
				t.Fatalf("own secret on the page: %v %v", kind, err)
			}
			u.shot("own-secret")
			agent.expectLogout(t, protocol.ReasonOwnSecret)
			if agent, _, err = dialAgent(t, e.srv.URL, own, "", "dock-3", nil); err != nil || !e.hub.Connected(id) {
				t.Fatalf("own secret, same device ID: %v", err)
			}
			u.submit("#done", http.StatusOK)
			u.submit(`tr[data-key="`+id+`"] button[data-action="use-shared"]`, http.StatusOK)
			if got := u.value("#device-id"); got != id {
				t.Errorf("device ID shown %q, want %q", got, id)
			}
			agent.expectLogout(t, protocol.ReasonSharedSecret)
			if _, _, err := dialAgent(t, e.srv.URL, dev.Secret, id, "dock-3", nil); err != nil {
				t.Fatalf("shared secret again: %v", err)
			}
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.fn) {
			break
		}
		u.checkConsole()
	}
}
