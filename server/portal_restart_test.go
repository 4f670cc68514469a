package server_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"

	"printdock/server"
	"printdock/server/keys"
)

// TestPortalSessionSurvivesRestart: portal sessions live in the database, so a server restart signs
// nobody out.
func TestPortalSessionSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := server.Config{DataDir: dir, KeysOptions: []keys.Option{
		keys.WithPasswordParams(keys.PasswordParams{Time: 1, Memory: 1024, Threads: 1})}}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(base, path string) (int, string) {
		t.Helper()
		resp, err := browser.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	start := func() (*server.Server, *httptest.Server) {
		s, err := server.New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s, httptest.NewServer(s.Handler())
	}

	s1, srv1 := start()
	res, _, err := s1.Bootstrap(ctx, "admin@example.com")
	if err != nil {
		t.Fatal(err)
	}
	_, login := get(srv1.URL, "/login")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(login)
	if m == nil {
		t.Fatal("no csrf on the sign-in page")
	}
	resp, err := browser.PostForm(srv1.URL+"/login", url.Values{"csrf": {html.UnescapeString(m[1])},
		"email": {res.AdminEmail}, "password": {res.AdminPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if code, _ := get(srv1.URL, "/profile"); resp.StatusCode != http.StatusSeeOther || code != http.StatusOK {
		t.Fatalf("sign-in: %d, then profile %d", resp.StatusCode, code)
	}
	srv1.Close()
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}

	s2, srv2 := start() // cookies are per host, not per port: the browser sends its session cookie
	defer s2.Close()
	defer srv2.Close()
	if code, _ := get(srv2.URL, "/profile"); code != http.StatusOK {
		t.Errorf("profile after a restart: %d, want 200 (still signed in)", code)
	}
}
