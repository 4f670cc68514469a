// Package oidctest runs a real OpenID provider for tests: github.com/zitadel/oidc's provider (pkg/op)
// with its example in-memory storage and login page, serving users the test defines (e-mail, whether it
// is verified, groups, password). Only tests import it.
package oidctest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// User is a person the provider knows. They sign in on its login page with Email and Password.
type User struct {
	Email    string
	Verified bool // the provider's email_verified
	Groups   []string
	Password string
}

// IdP is a running provider with one confidential web client.
type IdP struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	srv          *httptest.Server
}

// Start runs a provider for users, whose client accepts the redirect URIs given; it stops when the test
// ends.
func Start(t testing.TB, users []User, redirectURIs ...string) *IdP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// localhost, where the relying party is at 127.0.0.1: another site, as a real provider is, so that
	// SameSite cookies are tested as they will be used.
	port := ln.Addr().(*net.TCPAddr).Port
	idp := &IdP{Issuer: fmt.Sprintf("http://localhost:%d", port), ClientID: "printdock-portal", ClientSecret: "test-client-secret"}
	us := userStore{}
	groups := map[string][]string{}
	for i, u := range users {
		id := "user" + string(rune('a'+i))
		us[id] = &storage.User{ID: id, Username: u.Email, Password: u.Password, FirstName: "Test", LastName: u.Email,
			Email: u.Email, EmailVerified: u.Verified, PreferredLanguage: language.English}
		groups[id] = u.Groups
	}
	client := storage.WebClient(idp.ClientID, idp.ClientSecret, redirectURIs...)
	st := &groupStorage{Storage: storage.NewStorageWithClients(us, map[string]*storage.Client{idp.ClientID: client}), groups: groups}
	h := exampleop.SetupServer(idp.Issuer, st, nil, false)
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	idp.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: mux}}
	idp.srv.Start()
	t.Cleanup(idp.srv.Close)
	return idp
}

// SignIn follows the redirects from start as a browser would with c (which must not follow redirects
// itself; give it a cookie jar where cookies matter), signs in on the provider's login page with email
// and password, and returns the first URL it is sent to that starts with stop (the relying party's
// callback), without requesting it.
func (idp *IdP) SignIn(t testing.TB, c *http.Client, start, email, password, stop string) *url.URL {
	t.Helper()
	next, err := url.Parse(start)
	if err != nil {
		t.Fatal(err)
	}
	var form url.Values
	for range 10 {
		if strings.HasPrefix(next.String(), stop) {
			return next
		}
		var resp *http.Response
		if form != nil {
			resp, err = c.PostForm(next.String(), form)
			form = nil
		} else {
			resp, err = c.Get(next.String())
		}
		if err != nil {
			t.Fatalf("oidctest: %s: %v", next, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			loc, err := next.Parse(resp.Header.Get("Location"))
			if err != nil {
				t.Fatalf("oidctest: %s: redirect: %v", next, err)
			}
			next = loc
		case resp.StatusCode == http.StatusOK && strings.HasPrefix(next.String(), idp.Issuer+"/login/username"):
			form = url.Values{"id": {next.Query().Get("authRequestID")}, "username": {email}, "password": {password}}
			next, _ = url.Parse(idp.Issuer + "/login/username")
		default:
			t.Fatalf("oidctest: %s: %d %s", next, resp.StatusCode, body)
		}
	}
	t.Fatalf("oidctest: too many redirects; last %s", next)
	return nil
}

// userStore is storage.UserStore over a map of user ID → user.
type userStore map[string]*storage.User

func (u userStore) GetUserByID(id string) *storage.User { return u[id] }

func (u userStore) GetUserByUsername(name string) *storage.User {
	for _, x := range u {
		if strings.EqualFold(x.Username, name) {
			return x
		}
	}
	return nil
}

func (userStore) ExampleClientID() string { return storage.ServiceUserID }

// groupStorage adds a "groups" claim to the userinfo the example storage gives.
type groupStorage struct {
	*storage.Storage
	groups map[string][]string
}

func (s *groupStorage) addGroups(ui *oidc.UserInfo, userID string) {
	if g := s.groups[userID]; g != nil {
		ui.AppendClaims("groups", g)
	}
}

func (s *groupStorage) SetUserinfoFromScopes(ctx context.Context, ui *oidc.UserInfo, userID, clientID string, scopes []string) error {
	if err := s.Storage.SetUserinfoFromScopes(ctx, ui, userID, clientID, scopes); err != nil {
		return err
	}
	s.addGroups(ui, userID)
	return nil
}

func (s *groupStorage) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, token op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, ui, token, scopes); err != nil {
		return err
	}
	s.addGroups(ui, token.GetSubject())
	return nil
}

func (s *groupStorage) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, ui, tokenID, subject, origin); err != nil {
		return err
	}
	s.addGroups(ui, subject)
	return nil
}
