package portal

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"printdock/server/api/openapi/check"
	"printdock/server/keys"
)

// TestAPIReference: /reference renders every documented operation for any signed-in user, and needs a
// session.
func TestAPIReference(t *testing.T) {
	e := newEnv(t, false)
	anon := e.client()
	if p := anon.get("/reference"); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("signed out: status %d, want a redirect to the sign-in page", p.StatusCode)
	}
	_, pw := e.createUser("reader@example.com", keys.RoleUser)
	b := e.client()
	b.login("reader@example.com", pw)
	p := b.get("/reference")
	if p.StatusCode != http.StatusOK {
		t.Fatalf("status %d", p.StatusCode)
	}
	doc, err := check.Document()
	if err != nil {
		t.Fatal(err)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if !strings.Contains(p.body, `id="`+op.OperationID+`"`) || !strings.Contains(p.body, "<code class=\"api-path\">"+path+"</code>") {
				t.Errorf("%s %s (%s) is not on the page", method, path, op.OperationID)
			}
		}
	}
	// The submission's section shows its body fields, an example and its answers with their schema.
	i := strings.Index(p.body, `id="submitJob"`)
	section := p.body[i : i+strings.Index(p.body[i:], "</article>")]
	for _, want := range []string{`<code>content_base64</code> <span class="api-req">required</span>`,
		`&#34;idempotency_key&#34;: &#34;order-1042-label&#34;`, `<span class="api-status">201</span>`,
		`<a href="#schema-Job">Job</a>`, `<span class="api-status api-status-error">409</span>`} {
		if !strings.Contains(section, want) {
			t.Errorf("submitJob section lacks %s", want)
		}
	}
	for _, want := range []string{`href="/reference" aria-current="page">API</a>`, `href="/api/v1/openapi.json"`, `id="schema-Job"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(p.body, "<script>") || strings.Contains(p.body, "style=") {
		t.Error("inline script or style on the page (the CSP refuses them)")
	}
}

// TestBrowserAPIReference renders /reference in Chromium under the portal's CSP: no console error or
// CSP violation, the stylesheet applied. PRINTDOCK_SCREENSHOTS=1 writes docs/screenshots/portal-api.png.
func TestBrowserAPIReference(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	e := newEnv(t, false)
	u := newUITest(t, e)
	u.open("/login", http.StatusOK)
	u.do(chromedp.SendKeys(chromedp.ID("email"), e.admin.AdminEmail),
		chromedp.SendKeys(chromedp.ID("password"), e.admin.AdminPassword))
	u.submit("#signin", http.StatusOK)
	u.open("/reference", http.StatusOK)
	u.checkConsole()
	if got := u.text(`nav.nav a[aria-current="page"]`); got != "API" {
		t.Errorf("current nav entry %q, want API", got)
	}
	if bg := u.eval(`getComputedStyle(document.querySelector(".api-method.api-GET")).backgroundColor`); bg != "rgb(29, 78, 216)" {
		t.Errorf("method badge background %v: api.css not applied", bg)
	}
	if !u.present("#submitJob") || !u.present("#schema-Job") {
		t.Error("submitJob or the Job schema is missing")
	}
	// Only the top of a long page: the layout, the table of contents and the first endpoints.
	u.do(chromedp.EmulateViewport(1280, 1700))
	u.eval(`window.scrollTo(0, 0)`)
	ctx, cancel := u.step()
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(u.shots, "portal-api.png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
	u.checkConsole()
}
