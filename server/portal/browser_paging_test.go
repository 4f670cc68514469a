package portal

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"printdock/server/keys"
)

// TestBrowserPaging walks the users page and a filtered audit log page by page in headless Chromium:
// "Next page" shows the rest, keeps the filter, and "First page" comes back.
func TestBrowserPaging(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	e := newEnv(t, false)
	for i := range pageSize + 3 {
		e.createUser(fmt.Sprintf("paged%02d@example.com", i), keys.RoleUser)
	}
	u := newUITest(t, e)
	u.open("/login", http.StatusOK)
	u.do(chromedp.SendKeys(chromedp.ID("email"), e.admin.AdminEmail),
		chromedp.SendKeys(chromedp.ID("password"), e.admin.AdminPassword))
	u.submit("#signin", http.StatusOK)

	rows := func(table string) int {
		return int(u.eval(`document.querySelectorAll("` + table + ` tbody tr").length`).(float64))
	}
	u.open("/users", http.StatusOK)
	if n := rows("#users-table"); n != pageSize || u.present("#first-page") || !u.present("#next-page") {
		t.Fatalf("first page: %d rows, links first %v next %v", n, u.present("#first-page"), u.present("#next-page"))
	}
	first := u.text("#users-table tbody tr:first-child .strong")
	u.submit("#next-page", http.StatusOK)
	// pageSize+3 users and the administrator: 4 on the second page.
	if n := rows("#users-table"); n != 4 || u.present("#next-page") || !u.present("#first-page") {
		t.Fatalf("second page: %d rows, next link %v", n, u.present("#next-page"))
	}
	u.shot("users-page-2")
	if got := u.text("#users-table tbody tr:first-child .strong"); got == first {
		t.Fatalf("second page starts with the first page's %s", got)
	}
	u.submit("#first-page", http.StatusOK)
	if got := u.text("#users-table tbody tr:first-child .strong"); got != first || u.location() != "/users" {
		t.Fatalf("first page again: %s at %s", got, u.location())
	}

	u.open("/audit?action=user.create", http.StatusOK)
	u.submit("#next-page", http.StatusOK)
	loc, err := url.Parse(u.location())
	if err != nil || loc.Query().Get("action") != "user.create" || loc.Query().Get("after") == "" {
		t.Fatalf("audit next page at %s: the filter is lost", u.location())
	}
	// pageSize+3 users and the administrator made at initialisation: 4 on the second page.
	if n := rows("#audit-table"); n != 4 || u.value("#action") != "user.create" {
		t.Fatalf("audit second page: %d rows, filter %q", n, u.value("#action"))
	}
	for i := 1; i <= 4; i++ {
		if txt := u.text(fmt.Sprintf("#audit-table tbody tr:nth-child(%d)", i)); !strings.Contains(txt, "user.create") {
			t.Fatalf("audit row %d: %s", i, txt)
		}
	}
	u.open("/users?after=garbled!", http.StatusBadRequest)
	u.checkConsole()
}
