package portal

import (
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"printdock/server/keys"
)

// TestChangePassword: a user changes their password with the current one; their other portal sessions
// end, this one stays; the old password stops working and the new one signs in.
func TestChangePassword(t *testing.T) {
	e := newEnv(t, false)
	u, pw := e.createUser("packer@example.com", keys.RoleUser)
	here, elsewhere := e.client(), e.client()
	here.login(u.Email, pw)
	elsewhere.login(u.Email, pw)

	for _, tt := range []struct {
		name, current, next, again string
		status                     int
		says                       string
	}{
		{"wrong current", "nope-not-this-one", "a-long-new-password", "a-long-new-password", http.StatusUnauthorized, "current password is wrong"},
		{"mismatch", pw, "a-long-new-password", "another-long-password", http.StatusBadRequest, "differ"},
		{"too short", pw, "short", "short", http.StatusBadRequest, "at least 12 characters"},
	} {
		here.get("/profile/password")
		p := here.post("/profile/password", here.form("current", tt.current, "new", tt.next, "again", tt.again))
		if p.StatusCode != tt.status || !strings.Contains(html.UnescapeString(p.body), tt.says) {
			t.Errorf("%s: %d, want %d saying %q", tt.name, p.StatusCode, tt.status, tt.says)
		}
	}
	if p := elsewhere.get("/profile"); p.StatusCode != http.StatusOK {
		t.Fatalf("a refused change ended the other session: %d", p.StatusCode)
	}

	here.get("/profile/password")
	p := here.post("/profile/password", here.form("current", pw, "new", "a-long-new-password", "again", "a-long-new-password"))
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/profile" {
		t.Fatalf("change: %d %q", p.StatusCode, p.Header.Get("Location"))
	}
	if p := here.get("/profile"); p.StatusCode != http.StatusOK || !strings.Contains(p.body, "password was changed") {
		t.Errorf("this session after the change: %d", p.StatusCode)
	}
	if p := elsewhere.get("/profile"); p.StatusCode != http.StatusSeeOther {
		t.Errorf("the other session survived the change: %d", p.StatusCode)
	}
	if p := e.client().tryLogin(u.Email, pw); p.StatusCode != http.StatusUnauthorized {
		t.Errorf("old password: %d", p.StatusCode)
	}
	e.client().login(u.Email, "a-long-new-password")
}

var passwordItem = regexp.MustCompile(`id="password"[^>]*value="([^"]+)"`)

// TestAdminResetsPassword: an administrator resets a user's password after a confirmation; the new one
// is shown once, the user is signed out, the old password stops working and the new one works. A plain
// user cannot reach the page.
func TestAdminResetsPassword(t *testing.T) {
	e := newEnv(t, false)
	u, pw := e.createUser("packer@example.com", keys.RoleUser)
	user := e.client()
	user.login(u.Email, pw)
	if p := user.get("/users/" + u.ID + "/reset-password"); p.StatusCode != http.StatusForbidden {
		t.Errorf("a plain user opened the reset page: %d", p.StatusCode)
	}

	admin := e.client()
	admin.login(e.admin.AdminEmail, e.admin.AdminPassword)
	if p := admin.get("/users"); !strings.Contains(p.body, "/users/"+u.ID+"/reset-password") {
		t.Fatal("the users page has no reset link")
	}
	if p := admin.post("/users/"+u.ID+"/reset-password", admin.form()); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset without confirmation: %d", p.StatusCode)
	}
	if p := e.client().tryLogin(u.Email, pw); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("an unconfirmed reset changed the password: %d", p.StatusCode)
	}
	confirm := admin.get("/users/" + u.ID + "/reset-password")
	if !strings.Contains(confirm.body, "confirm-reset-password") {
		t.Fatal("no confirmation page")
	}
	p := admin.post("/users/"+u.ID+"/reset-password", admin.form("confirm", "yes"))
	m := passwordItem.FindStringSubmatch(p.body)
	if p.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("reset: %d, password shown: %v", p.StatusCode, m != nil)
	}
	newPW := html.UnescapeString(m[1])
	if got := user.get("/profile"); got.StatusCode != http.StatusSeeOther {
		t.Errorf("the user's session survived the reset: %d", got.StatusCode)
	}
	if got := e.client().tryLogin(u.Email, pw); got.StatusCode != http.StatusUnauthorized {
		t.Errorf("old password after the reset: %d", got.StatusCode)
	}
	e.client().login(u.Email, newPW)
}
