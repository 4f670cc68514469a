package portal

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"printdock/internal/testenv"
	"printdock/server/keys"
	"printdock/server/oidclogin"
	"printdock/server/oidclogin/oidctest"
)

var oidcUsers = []oidctest.User{
	{Email: "ann@corp.example", Verified: true, Password: "pw-ann"},
	{Email: "ops@contractor.example", Verified: true, Groups: []string{"printdock-admins"}, Password: "pw-ops"},
	{Email: "eve@elsewhere.example", Verified: true, Groups: []string{"staff"}, Password: "pw-eve"},
	{Email: "new@corp.example", Verified: false, Password: "pw-new"},
}

// withOIDC starts a real OpenID provider for e's portal and configures the portal's sign-in with it:
// corp.example people are users, members of printdock-admins administrators.
func withOIDC(t *testing.T, e *env) *oidctest.IdP {
	t.Helper()
	idp := oidctest.Start(t, oidcUsers, e.srv.URL+oidcCallback)
	prov, err := oidclogin.New(oidclogin.Config{Issuer: idp.Issuer, ClientID: idp.ClientID, ClientSecret: idp.ClientSecret,
		Name: "Test IdP", Rules: oidclogin.Rules{UserDomains: []string{"corp.example"}, AdminGroups: []string{"printdock-admins"}}})
	if err != nil {
		t.Fatal(err)
	}
	e.portal.opts.OIDC, e.portal.opts.OIDCPortal = prov, e.admin.AdminEmail // before any request
	return idp
}

// oidcSignIn runs the sign-in in b up to the callback and returns the callback URL, not yet requested.
func oidcSignIn(t *testing.T, e *env, idp *oidctest.IdP, b *client, u oidctest.User, next string) *url.URL {
	t.Helper()
	return idp.SignIn(t, b.c, e.srv.URL+oidcPath+"?next="+url.QueryEscape(next), u.Email, u.Password, e.srv.URL+oidcCallback)
}

func (b *client) getURL(u *url.URL) page {
	b.t.Helper()
	req, _ := http.NewRequest("GET", u.String(), nil)
	return b.do(req)
}

func auditActions(t *testing.T, e *env, action string) []keys.AuditEntry {
	t.Helper()
	es, err := e.svc.Audit(context.Background(), e.adminActor(), keys.AuditFilter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// TestOIDCSignIn (HTTP, cookie jar): the mapping decides who signs in and as what; the user is created
// at the first sign-in, their role follows the mapping, and a sign-in makes a normal session. Refusals
// (another domain, an unverified e-mail, a tampered state or nonce, no pending cookie) say why and
// make no session.
func TestOIDCSignIn(t *testing.T) {
	e := newEnv(t, false)
	idp := withOIDC(t, e)

	lp := e.client().get("/login")
	if !strings.Contains(lp.body, "Sign in with Test IdP") {
		t.Fatalf("sign-in page has no OpenID button:\n%s", lp.body)
	}

	// A corp.example user: created as a user, lands where they wanted to go.
	b := e.client()
	done := b.getURL(oidcSignIn(t, e, idp, b, oidcUsers[0], "/jobs"))
	if done.StatusCode != http.StatusOK || !strings.Contains(done.body, `url=/jobs`) {
		t.Fatalf("callback: %d\n%s", done.StatusCode, done.body)
	}
	if p := b.get("/jobs"); p.StatusCode != http.StatusOK || !strings.Contains(p.body, oidcUsers[0].Email) {
		t.Fatalf("after sign-in /jobs: %d", p.StatusCode)
	}
	if p := b.get("/users"); p.StatusCode != http.StatusForbidden {
		t.Errorf("a user reached /users: %d", p.StatusCode)
	}
	u, err := e.svc.UserByEmail(context.Background(), oidcUsers[0].Email)
	if err != nil || u.Role != keys.RoleUser || u.PortalID != e.admin.PortalID {
		t.Fatalf("created user = %+v, %v", u, err)
	}
	// The user has no password: password sign-in fails.
	if p := e.client().tryLogin(oidcUsers[0].Email, ""); p.StatusCode == http.StatusSeeOther {
		t.Error("password sign-in of an OpenID user with an empty password worked")
	}

	// A group member signs in as administrator; the admin later loses the group → user next time.
	admin := e.client()
	admin.getURL(oidcSignIn(t, e, idp, admin, oidcUsers[1], "/"))
	if p := admin.get("/users"); p.StatusCode != http.StatusOK {
		t.Fatalf("group admin /users: %d", p.StatusCode)
	}
	if n := len(auditActions(t, e, keys.ActionUserCreate)); n < 3 {
		t.Errorf("%d user.create audit rows", n)
	}
	oidcLogins := 0
	for _, a := range auditActions(t, e, keys.ActionAuthLogin) {
		if strings.Contains(a.Detail, "openid connect sign-in (issuer "+idp.Issuer) {
			oidcLogins++
		}
	}
	if oidcLogins != 2 {
		t.Errorf("%d OpenID auth.login audit rows, want 2", oidcLogins)
	}

	for _, tc := range []struct {
		name   string
		user   oidctest.User
		tamper func(b *client, cb *url.URL)
		status int
		text   string
	}{
		{"other domain and group", oidcUsers[2], nil, http.StatusForbidden, "not allowed to sign in"},
		{"unverified e-mail", oidcUsers[3], nil, http.StatusForbidden, "not verified your e-mail"},
		{"tampered state", oidcUsers[0], func(_ *client, cb *url.URL) {
			q := cb.Query()
			q.Set("state", "forged")
			cb.RawQuery = q.Encode()
		}, http.StatusForbidden, "not started here"},
		{"wrong nonce", oidcUsers[0], func(b *client, cb *url.URL) {
			site, _ := url.Parse(e.srv.URL + oidcPath)
			for _, c := range b.c.Jar.Cookies(site) {
				if c.Name == oidcCookie {
					pd, err := oidclogin.DecodePending(c.Value)
					if err != nil {
						t.Fatal(err)
					}
					pd.Nonce = "another"
					b.c.Jar.SetCookies(site, []*http.Cookie{{Name: oidcCookie, Value: pd.Encode(), Path: oidcPath}})
				}
			}
		}, http.StatusForbidden, "could not be verified"},
		{"no pending cookie", oidcUsers[0], func(b *client, _ *url.URL) {
			b.c.Jar, _ = cookiejar.New(nil)
		}, http.StatusForbidden, "not started here"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := e.client()
			cb := oidcSignIn(t, e, idp, b, tc.user, "/")
			if tc.tamper != nil {
				tc.tamper(b, cb)
			}
			p := b.getURL(cb)
			if p.StatusCode != tc.status || !strings.Contains(p.body, tc.text) {
				t.Fatalf("callback: %d, want %d with %q:\n%s", p.StatusCode, tc.status, tc.text, p.body)
			}
			if p := b.get("/profile"); p.StatusCode != http.StatusSeeOther {
				t.Fatalf("a session after a refusal: /profile %d", p.StatusCode)
			}
		})
	}
	if _, err := e.svc.UserByEmail(context.Background(), oidcUsers[2].Email); err == nil {
		t.Error("a refused person was created as a user")
	}
}

// TestOIDCSignInBrowser: the happy path in real Chromium, with the provider on another site: the
// button, the provider's login page, the redirect back, the session cookie (SameSite=Strict) in place
// on the page the person is sent on to.
func TestOIDCSignInBrowser(t *testing.T) {
	e := newEnv(t, false)
	withOIDC(t, e)
	u := newUITest(t, e)
	u.open("/login?next=/jobs", http.StatusOK)
	if got := u.text("#signin-oidc"); got != "Sign in with Test IdP" {
		t.Fatalf("button %q", got)
	}
	u.submit("#signin-oidc", http.StatusOK) // the provider's login page
	u.do(chromedp.SendKeys(chromedp.ID("username"), oidcUsers[1].Email),
		chromedp.SendKeys(chromedp.ID("password"), oidcUsers[1].Password))
	u.submit(`button[type="submit"]`, http.StatusOK)
	testenv.WaitFor(t, "the portal's /jobs page", func() bool { return u.location() == "/jobs" })
	ctx, cancel := context.WithTimeout(u.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("header.topbar"))); err != nil {
		t.Fatalf("signed-in page: %v", err)
	}
	if !strings.Contains(u.text("header.topbar"), oidcUsers[1].Email) || !u.present(`a[href="/users"]`) {
		t.Fatalf("not signed in as the administrator %s: %q", oidcUsers[1].Email, u.text("header.topbar"))
	}
	u.checkConsole()
}
