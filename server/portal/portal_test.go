package portal

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"printdock/protocol"
	"printdock/server/keys"
	"printdock/server/store"
)

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, false)
	b := e.client()
	for _, path := range []string{"/login", "/keys", "/nope", "/static/portal.css"} {
		p := b.get(path)
		h := p.Header
		if got := h.Get("Content-Security-Policy"); got != contentSecurityPolicy {
			t.Errorf("%s: CSP %q", path, got)
		}
		for k, want := range map[string]string{
			"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
		} {
			if got := h.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", path, k, got, want)
			}
		}
		if path != "/static/portal.css" && h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", path, h.Get("Cache-Control"))
		}
	}
	if !strings.Contains(contentSecurityPolicy, "script-src 'self'") || strings.Contains(contentSecurityPolicy, "unsafe") {
		t.Errorf("CSP must allow only same-origin scripts: %s", contentSecurityPolicy)
	}
	if p := b.get("/keys"); p.StatusCode != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/login?next=") {
		t.Errorf("signed out /keys: %d %s", p.StatusCode, p.Header.Get("Location"))
	}
}

func TestSessionCookieFlags(t *testing.T) {
	for _, tc := range []struct {
		name       string
		tls        bool
		forceSec   bool
		wantName   string
		wantSecure bool
	}{
		{"plain http", false, false, cookieName, false},
		{"plain http behind tls proxy", false, true, secureCookieName, true},
		{"tls", true, false, secureCookieName, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.tls, func(o *Options) { o.SecureCookies = tc.forceSec })
			b := e.client()
			lp := b.get("/login")
			var loginCookie *http.Cookie
			for _, c := range lp.Cookies() {
				if c.Name == loginCSRFCookie {
					loginCookie = c
				}
			}
			if loginCookie == nil || !loginCookie.HttpOnly || loginCookie.SameSite != http.SameSiteStrictMode || loginCookie.Secure != tc.wantSecure {
				t.Errorf("sign-in CSRF cookie: %+v", loginCookie)
			}
			p := b.tryLogin(e.admin.AdminEmail, e.admin.AdminPassword)
			if p.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-in: %d", p.StatusCode)
			}
			var sc *http.Cookie
			for _, c := range p.Cookies() {
				if c.Name == tc.wantName {
					sc = c
				}
			}
			if sc == nil {
				t.Fatalf("no %s cookie in %v", tc.wantName, p.Header["Set-Cookie"])
			}
			if !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode || sc.Secure != tc.wantSecure || sc.Path != "/" || sc.Domain != "" {
				t.Errorf("session cookie flags: %+v", sc)
			}
			if len(sc.Value) < 43 {
				t.Errorf("session token too short: %d chars", len(sc.Value))
			}
			if tc.tls && p.Header.Get("Strict-Transport-Security") == "" {
				t.Errorf("no HSTS over TLS")
			}
		})
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, false)
	b := e.client()
	b.login(e.admin.AdminEmail, e.admin.AdminPassword)
	if b.csrf == "" {
		t.Fatal("no CSRF token on the page")
	}
	good := b.csrf
	wrong := good[:len(good)-1] + "A"
	if wrong == good {
		wrong = good[:len(good)-1] + "B"
	}
	for _, tc := range []struct {
		name string
		form url.Values
		hdr  []string
		want int
	}{
		{"no token", url.Values{"description": {"x"}}, nil, http.StatusForbidden},
		{"empty token", url.Values{"csrf": {""}, "description": {"x"}}, nil, http.StatusForbidden},
		{"wrong token", url.Values{"csrf": {wrong}, "description": {"x"}}, nil, http.StatusForbidden},
		{"token in query only", url.Values{"description": {"x"}}, nil, http.StatusForbidden},
		{"cross-site with the right token", url.Values{"csrf": {good}, "description": {"x"}},
			[]string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"good", url.Values{"csrf": {good}, "description": {"x"}}, nil, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/keys"
			if tc.name == "token in query only" {
				path += "?csrf=" + url.QueryEscape(good)
			}
			p := b.post(path, tc.form, tc.hdr...)
			if p.StatusCode != tc.want {
				t.Errorf("status %d, want %d", p.StatusCode, tc.want)
			}
		})
	}
	keysList, err := e.svc.ListClientKeys(context.Background(), e.adminActor(), store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(keysList) != 1 {
		t.Errorf("forged posts created keys: %d keys, want 1", len(keysList))
	}

	// Sign-in form: token from its own cookie.
	c := e.client()
	c.get("/login")
	p := c.post("/login", url.Values{"email": {e.admin.AdminEmail}, "password": {e.admin.AdminPassword}})
	if p.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in without token: %d, want 403", p.StatusCode)
	}
	// Sign-out is a form too.
	if p := b.post("/logout", url.Values{}); p.StatusCode != http.StatusForbidden {
		t.Errorf("sign-out without token: %d, want 403", p.StatusCode)
	}
}

func TestSignOutEndsSession(t *testing.T) {
	e := newEnv(t, false)
	b := e.client()
	b.login(e.admin.AdminEmail, e.admin.AdminPassword)
	u, _ := url.Parse(e.srv.URL)
	old := b.c.Jar.Cookies(u)
	if p := b.post("/logout", b.form()); p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/login?signed_out=1" {
		t.Fatalf("sign-out: %d %s", p.StatusCode, p.Header.Get("Location"))
	}
	// Replaying the old cookie does not work: the session is gone on the server.
	c := e.client()
	c.c.Jar.SetCookies(u, old)
	if p := c.get("/keys"); p.StatusCode != http.StatusSeeOther {
		t.Errorf("old cookie after sign-out: %d, want a redirect to sign-in", p.StatusCode)
	}
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t, false, func(o *Options) {
		o.Login = LoginLimits{PerAccount: 3, PerAddress: 6, Window: time.Hour, Lockout: time.Hour}
	})
	other, otherPW := e.createUser("other@example.com", keys.RoleUser)
	b := e.client()
	for i := range 3 {
		if p := b.tryLogin(e.admin.AdminEmail, "wrong"); p.StatusCode != http.StatusUnauthorized ||
			!strings.Contains(p.body, "Wrong e-mail address or password.") {
			t.Fatalf("attempt %d: %d", i, p.StatusCode)
		}
	}
	// The account is locked, even with the right password.
	p := b.tryLogin(e.admin.AdminEmail, e.admin.AdminPassword)
	if p.StatusCode != http.StatusTooManyRequests || p.Header.Get("Retry-After") == "" {
		t.Fatalf("locked account: %d", p.StatusCode)
	}
	// Another account from the same address still works until the address limit.
	if p := e.client().tryLogin(other.Email, otherPW); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("other account: %d", p.StatusCode)
	}
	for i := range 3 { // 3 more failures on other accounts: 6 from this address
		b.tryLogin("nobody"+string(rune('a'+i))+"@example.com", "wrong")
	}
	if p := e.client().tryLogin(other.Email, otherPW); p.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("locked address: %d", p.StatusCode)
	}
}

func TestPlainUserCannotAdminister(t *testing.T) {
	e := newEnv(t, false)
	u, pw := e.createUser("user@example.com", keys.RoleUser)
	b := e.client()
	b.login(u.Email, pw)
	for _, path := range []string{"/keys", "/users", "/shared", "/audit", "/keys/status", "/keys/key_x/delete"} {
		if p := b.get(path); p.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s: %d, want 403", path, p.StatusCode)
		}
	}
	for _, path := range []string{"/profile", "/clients", "/jobs"} {
		if p := b.get(path); p.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d, want 200", path, p.StatusCode)
		}
	}
	if p := b.get("/"); p.Header.Get("Location") != "/profile" {
		t.Errorf("home of a user: %s", p.Header.Get("Location"))
	}
	// Navigation shows only what the user may use.
	p := b.get("/profile")
	for _, link := range []string{`href="/keys"`, `href="/users"`, `href="/shared"`, `href="/audit"`} {
		if strings.Contains(p.body, link) {
			t.Errorf("user's navigation has %s", link)
		}
	}
	key, err := e.svc.CreateClientKey(context.Background(), e.adminActor(), keys.NewClientKey{Description: "k"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, kv string }{
		{"/keys", "description=x"},
		{"/keys/" + key.Key.ID + "/rotate", ""},
		{"/keys/" + key.Key.ID + "/deactivate", ""},
		{"/keys/" + key.Key.ID + "/revoke", ""},
		{"/keys/" + key.Key.ID + "/delete", ""},
		{"/users", "email=x@example.com&role=admin"},
		{"/users/" + u.ID + "/role", "role=admin"},
		{"/users/" + u.ID + "/rotate", ""},
		{"/shared/reset", "confirmation=Yes%2C+I+do+confirm+it&reset_devices=on"},
	} {
		form, _ := url.ParseQuery(tc.kv)
		if p := b.post(tc.path, form); p.StatusCode != http.StatusForbidden {
			t.Errorf("forged POST %s without token: %d, want 403", tc.path, p.StatusCode)
		}
		form.Set("csrf", b.csrf)
		if p := b.post(tc.path, form); p.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s with token: %d, want 403", tc.path, p.StatusCode)
		}
	}
	got, err := e.svc.GetClientKey(context.Background(), e.adminActor(), key.Key.ID)
	if err != nil || got.Status != keys.StatusActive {
		t.Errorf("key after the user's attempts: %+v %v", got, err)
	}
	if me, _ := e.svc.Me(context.Background(), keys.Actor{Principal: keys.Principal{PortalID: u.PortalID, UserID: u.ID, Kind: keys.KindSession}}); me.Role != keys.RoleUser {
		t.Errorf("user's role changed to %s", me.Role)
	}
}

// The keys.Service authorizes every action as well: even with the portal's role gate bypassed, a plain
// user's session cannot administer.
func TestServiceAuthorizesToo(t *testing.T) {
	e := newEnv(t, false)
	u, pw := e.createUser("user@example.com", keys.RoleUser)
	pr, err := e.svc.PasswordLogin(context.Background(), u.Email, pw, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	_, sess := e.portal.sessions.create(pr)
	c := &reqCtx{sess: sess, actor: keys.Actor{Principal: pr}}
	for name, h := range map[string]handlerFunc{"create key": e.portal.createKey, "users": e.portal.usersPage, "reset": e.portal.resetShared} {
		rec := httptest.NewRecorder()
		req, _ := http.NewRequest("POST", "/", strings.NewReader("description=x&confirmation=Yes%2C+I+do+confirm+it"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.ParseForm()
		h(rec, req, c)
		if rec.Code != http.StatusForbidden {
			t.Errorf("%s called directly for a user: %d, want 403", name, rec.Code)
		}
	}
}

var ticketRE = regexp.MustCompile(`action="/download/([^"]+)"`)
var secretRE = regexp.MustCompile(`id="secret" value="([^"]+)"`)

func TestSecretShownOnceAndDownloadOnce(t *testing.T) {
	e := newEnv(t, false)
	b := e.client()
	b.login(e.admin.AdminEmail, e.admin.AdminPassword)
	p := b.post("/keys", b.form("description", "Packing 4 / Zebra"))
	if p.StatusCode != http.StatusOK || p.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create: %d, Cache-Control %q", p.StatusCode, p.Header.Get("Cache-Control"))
	}
	secret := secretRE.FindStringSubmatch(p.body)[1]
	if _, err := protocol.ParseSecret(secret); err != nil || !strings.HasPrefix(secret, "pdc_") {
		t.Fatalf("secret on the page: %v", err)
	}
	if !strings.Contains(p.body, "cannot be shown again") || !strings.Contains(p.body, "Each installation should get its own secret") {
		t.Error("the page lacks the shown-once warning or the one-secret-per-installation advice")
	}
	ticket := ticketRE.FindStringSubmatch(p.body)[1]
	// The list shows only the prefix.
	if l := b.get("/keys"); strings.Contains(l.body, secret) || !strings.Contains(l.body, secret[:8]) {
		t.Error("the list must show the prefix and never the secret")
	}
	if d := b.post("/download/"+ticket, url.Values{}); d.StatusCode != http.StatusForbidden {
		t.Errorf("download without token: %d", d.StatusCode)
	}
	other := e.client()
	other.login(e.admin.AdminEmail, e.admin.AdminPassword)
	if d := other.post("/download/"+ticket, other.form()); d.StatusCode != http.StatusGone {
		t.Errorf("another session's download: %d, want 410", d.StatusCode)
	}
	d := b.post("/download/"+ticket, b.form())
	if d.StatusCode != http.StatusOK || d.body != secret+"\n" {
		t.Fatalf("download: %d %q", d.StatusCode, d.body)
	}
	if cd := d.Header.Get("Content-Disposition"); cd != `attachment; filename="printdock-client-secret-Packing-4-Zebra.txt"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	if ct := d.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" || d.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("download headers: %q %q", ct, d.Header.Get("Cache-Control"))
	}
	if d := b.post("/download/"+ticket, b.form()); d.StatusCode != http.StatusGone {
		t.Errorf("second download: %d, want 410", d.StatusCode)
	}
}

func TestRoleChangeTakesEffectAtOnce(t *testing.T) {
	e := newEnv(t, false)
	u, pw := e.createUser("second-admin@example.com", keys.RoleAdmin)
	b := e.client()
	b.login(u.Email, pw)
	if p := b.get("/keys"); p.StatusCode != http.StatusOK {
		t.Fatalf("admin /keys: %d", p.StatusCode)
	}
	if _, err := e.svc.SetUserRole(context.Background(), e.adminActor(), u.ID, keys.RoleUser); err != nil {
		t.Fatal(err)
	}
	if p := b.get("/keys"); p.StatusCode != http.StatusForbidden {
		t.Errorf("demoted admin's session still reaches /keys: %d", p.StatusCode)
	}
	if err := e.svc.DeleteUser(context.Background(), e.adminActor(), u.ID); err != nil {
		t.Fatal(err)
	}
	if p := b.get("/profile"); p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/login" {
		t.Errorf("deleted user's session: %d %s", p.StatusCode, p.Header.Get("Location"))
	}
}

func TestSharedResetNeedsExactConfirmation(t *testing.T) {
	e := newEnv(t, false)
	b := e.client()
	b.login(e.admin.AdminEmail, e.admin.AdminPassword)
	for _, typed := range []string{"", "yes, i do confirm it", "Yes, I do confirm it ", "Yes I do confirm it"} {
		if p := b.post("/shared/reset", b.form("confirmation", typed)); p.StatusCode != http.StatusBadRequest ||
			!strings.Contains(p.body, "form-error") {
			t.Errorf("confirmation %q: %d", typed, p.StatusCode)
		}
	}
	p := b.post("/shared/reset", b.form("confirmation", keys.SharedResetConfirmation))
	if p.StatusCode != http.StatusOK {
		t.Fatalf("reset: %d", p.StatusCode)
	}
	if s := secretRE.FindStringSubmatch(p.body); s == nil || !strings.HasPrefix(s[1], "pds_") {
		t.Error("no shared secret on the page")
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                  "/",
		"/keys":             "/keys",
		"/audit?actor=a":    "/audit?actor=a",
		"//evil.example/":   "/",
		"/\\evil.example":   "/",
		"https://evil.ex/":  "/",
		"keys":              "/",
		"/login?next=/x":    "/",
		"/\t/evil.example":  "/", // the reported open redirect: browsers drop the tab
		"/\n/evil.example":  "/",
		"/\r/evil.example":  "/",
		"/\x00/evil":        "/",
		"/\x7f/evil":        "/",
		"/\u0085/evil":      "/",
		"/%2F/evil.example": "/", // decodes to the path //evil.example
		"/%2f%2fevil":       "/",
		"/ok%20page":        "/ok%20page",
		"/\xff":             "/", // invalid UTF-8
		"/jobs#frag":        "/jobs#frag",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSessionExpiry(t *testing.T) {
	now := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	s := newSessions(30*time.Minute, 12*time.Hour)
	s.nowFunc = func() time.Time { return now }
	tok, _ := s.create(keys.Principal{UserID: "u"})
	steps := []struct {
		advance time.Duration
		live    bool
	}{
		{29 * time.Minute, true}, // active use keeps it alive …
		{29 * time.Minute, true},
		{31 * time.Minute, false}, // … idleness ends it
	}
	for i, st := range steps {
		now = now.Add(st.advance)
		if _, ok := s.get(tok); ok != st.live {
			t.Errorf("step %d: live %v, want %v", i, ok, st.live)
		}
	}
	tok, _ = s.create(keys.Principal{UserID: "u"})
	for range 25 { // active every 29 minutes for over 12 hours
		now = now.Add(29 * time.Minute)
		s.get(tok)
	}
	if _, ok := s.get(tok); ok {
		t.Error("session outlived its maximum age")
	}
	// The page's background poll does not count as activity.
	tok, _ = s.create(keys.Principal{UserID: "u"})
	for range 3 {
		now = now.Add(20 * time.Minute)
		s.lookup(tok, false)
	}
	if _, ok := s.get(tok); ok {
		t.Error("background polls kept an idle session alive")
	}
	if _, ok := s.get("forged"); ok {
		t.Error("unknown token accepted")
	}
}

func TestTokensEqual(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{{"", "", false}, {"abc", "", false}, {"", "abc", false}, {"abc", "abd", false}, {"abc", "abc", true}, {"abc", "abcd", false}} {
		if got := tokensEqual(tc.a, tc.b); got != tc.want {
			t.Errorf("tokensEqual(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}
