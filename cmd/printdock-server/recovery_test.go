package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"printdock/server/keys"
	"printdock/server/servertest"
	"printdock/server/store/postgres/pgtest"
)

// runJSON runs printdock-server with args and decodes its --json answer into out (when not nil).
func runJSON(t *testing.T, out any, args ...string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, stderr.String())
	}
	if out != nil {
		if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
			t.Fatalf("%v: %v: %q", args, err, stdout.String())
		}
	}
}

// A locked-out administrator (password and API key lost) gets back in: reset-password on the server
// machine prints a one-time password, and the real portal signs them in with it. On SQLite and on
// PostgreSQL (a fresh schema of the test command's cluster; the pepper stays in the data directory).
func TestLockedOutAdminGetsBackIn(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { lockedOut(t, []string{"--data-dir", t.TempDir()}) })
	t.Run("postgres", func(t *testing.T) {
		lockedOut(t, []string{"--data-dir", t.TempDir(), "--database", pgtest.FreshSchema(t)})
	})
}

func lockedOut(t *testing.T, st []string) {
	var first keys.InitResult
	runJSON(t, &first, append([]string{"init", "--admin-email", "boss@example.com", "--json"}, st...)...)

	var reset struct{ UserID, Email, Password string }
	runJSON(t, &reset, append([]string{"users", "reset-password", "--email", "Boss@Example.com", "--json"}, st...)...)
	if reset.Email != "boss@example.com" || len(reset.Password) < 16 || reset.Password == first.AdminPassword {
		t.Fatalf("reset: %+v", reset)
	}
	// Text output shows it once, with a warning.
	var text bytes.Buffer
	if err := run(context.Background(), append([]string{"users", "reset-password", "--email", "boss@example.com"}, st...), &text, &text); err != nil ||
		!strings.Contains(text.String(), "new password:") || !strings.Contains(text.String(), "Shown only now") {
		t.Fatalf("text: %v %q", err, text.String())
	}
	pw := strings.TrimSpace(strings.SplitN(strings.SplitN(text.String(), "new password:", 2)[1], "\n", 2)[0])

	base := serveDir(t, st)
	if code := portalSignIn(t, base, "boss@example.com", first.AdminPassword); code != http.StatusUnauthorized {
		t.Fatalf("the lost password still works: %d", code)
	}
	if code := portalSignIn(t, base, "boss@example.com", reset.Password); code != http.StatusUnauthorized {
		t.Fatalf("the first reset's password still works: %d", code)
	}
	if code := portalSignIn(t, base, "boss@example.com", pw); code != http.StatusOK {
		t.Fatalf("sign-in with the new password: %d", code)
	}
}

// serveDir serves the store until the test ends and returns its base URL.
func serveDir(t *testing.T, st []string) string {
	t.Helper()
	addrc := make(chan net.Addr, 1)
	onListen = func(a net.Addr) { addrc <- a }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0"}, st...), &bytes.Buffer{}, &bytes.Buffer{})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		onListen = nil
	})
	select {
	case a := <-addrc:
		return "http://" + a.String()
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("serve did not listen")
	}
	return ""
}

// portalSignIn signs in through the portal's form and returns the status of the page it lands on.
func portalSignIn(t *testing.T, base, email, password string) int {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := hc.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	u, _ := url.Parse(base + "/login")
	csrf := ""
	for _, c := range jar.Cookies(u) {
		if strings.Contains(c.Name, "csrf") {
			csrf = c.Value
		}
	}
	if csrf == "" {
		t.Fatal("no sign-in CSRF cookie")
	}
	resp, err = hc.PostForm(base+"/login", url.Values{"csrf": {csrf}, "email": {email}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK && !strings.HasPrefix(resp.Request.URL.Path, "/keys") {
		t.Fatalf("signed in but landed on %s", resp.Request.URL)
	}
	return resp.StatusCode
}

// keys: the lifecycle through keys.Service on the store (the portal named by its ID, which needs nothing
// beyond today's keys API); an agent's key rotated offline no longer connects, the new secret does.
func TestKeysOffline(t *testing.T) {
	dir := t.TempDir()
	st := []string{"--data-dir", dir}
	var first keys.InitResult
	runJSON(t, &first, append([]string{"init", "--admin-email", "boss@example.com", "--json"}, st...)...)

	var k struct{ ID, Secret, Status string }
	runJSON(t, &k, append([]string{"keys", "create", "--description", "dock 1", "--portal", first.PortalID, "--json"}, st...)...)
	if !strings.HasPrefix(k.Secret, "pdc_") || k.Status != "active" {
		t.Fatalf("keys create: %+v", k)
	}
	var r struct{ ID, Secret string }
	runJSON(t, &r, append([]string{"keys", "rotate", "--id", k.ID, "--portal", first.PortalID, "--json"}, st...)...)
	if r.ID != k.ID || r.Secret == k.Secret || !strings.HasPrefix(r.Secret, "pdc_") {
		t.Fatalf("rotate: %+v", r)
	}
	var list struct {
		Items []struct {
			ID, Status, Secret string
			CreatedBy          string `json:"created_by"`
		}
	}
	runJSON(t, &list, append([]string{"keys", "list", "--portal", first.PortalID, "--json"}, st...)...)
	if len(list.Items) != 1 || list.Items[0].Secret != "" || !strings.HasPrefix(list.Items[0].CreatedBy, "local:") {
		t.Fatalf("keys list: %+v", list)
	}

	// The server sees what recovery did: the old secret is refused, the new one connects.
	base := serveDir(t, st)
	s := servertest.Attach(base, first.AdminAPIKey)
	if _, err := s.TryConnect(context.Background(), k.Secret, servertest.DialOptions{}); err == nil {
		t.Fatal("the rotated-out secret connected")
	}
	a, err := s.TryConnect(context.Background(), r.Secret, servertest.DialOptions{})
	if err != nil {
		t.Fatalf("the new secret: %v", err)
	}
	a.Conn.CloseNow()
	var revoked struct{ Status string }
	runJSON(t, &revoked, append([]string{"keys", "revoke", "--id", k.ID, "--portal", first.PortalID, "--json"}, st...)...)
	if revoked.Status != "revoked" {
		t.Fatalf("revoke: %+v", revoked)
	}
	for _, args := range [][]string{
		{"keys"}, {"keys", "frob"}, {"keys", "list"}, {"keys", "rotate", "--portal", first.PortalID},
		{"keys", "create", "--portal", first.PortalID},
	} {
		err := run(context.Background(), append(args, st...), &bytes.Buffer{}, &bytes.Buffer{})
		if _, ok := err.(usageError); !ok {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}

// users: create, set-role and list, the portal named by ID or by a member's e-mail.
func TestUsersOffline(t *testing.T) {
	dir := t.TempDir()
	st := []string{"--data-dir", dir}
	var first keys.InitResult
	runJSON(t, &first, append([]string{"init", "--admin-email", "boss@example.com", "--json"}, st...)...)

	var created struct {
		ID, Email, Role, Password string
		APIKey                    string `json:"api_key"`
	}
	runJSON(t, &created, append([]string{"users", "create", "--email", "clerk@example.com", "--portal", first.PortalID, "--json"}, st...)...)
	if created.Role != "user" || created.Password == "" || !strings.HasPrefix(created.APIKey, "pdu_") {
		t.Fatalf("create: %+v", created)
	}
	var role struct{ Role string }
	runJSON(t, &role, append([]string{"users", "set-role", "--email", "clerk@example.com", "--role", "admin", "--json"}, st...)...)
	if role.Role != "admin" {
		t.Fatalf("set-role: %+v", role)
	}
	var users struct {
		Items []struct{ Email, Role string }
	}
	runJSON(t, &users, append([]string{"users", "list", "--portal", "clerk@example.com", "--json"}, st...)...)
	if len(users.Items) != 2 || users.Items[1].Email != "clerk@example.com" || users.Items[1].Role != "admin" {
		t.Fatalf("list: %+v", users)
	}
	for _, args := range [][]string{{"users"}, {"users", "frob"}, {"users", "list"}, {"users", "reset-password"}, {"users", "set-role", "--email", "x@example.com"}} {
		err := run(context.Background(), append(args, st...), &bytes.Buffer{}, &bytes.Buffer{})
		if _, ok := err.(usageError); !ok {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
	if err := run(context.Background(), append([]string{"users", "reset-password", "--email", "nobody@example.com"}, st...), &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
		t.Error("reset-password of an unknown user")
	}
}
