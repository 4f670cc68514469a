package oidclogin_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"printdock/server/keys"
	"printdock/server/oidclogin"
	"printdock/server/oidclogin/oidctest"
)

const callback = "http://127.0.0.1:1/login/oidc/callback" // never requested: SignIn stops there

var users = []oidctest.User{
	{Email: "ann@corp.example", Verified: true, Password: "pw-ann"},
	{Email: "ops@contractor.example", Verified: true, Groups: []string{"printdock-admins"}, Password: "pw-ops"},
	{Email: "eve@elsewhere.example", Verified: true, Groups: []string{"staff"}, Password: "pw-eve"},
	{Email: "new@corp.example", Verified: false, Password: "pw-new"},
}

func newProvider(t *testing.T) (*oidclogin.Provider, *oidctest.IdP) {
	t.Helper()
	idp := oidctest.Start(t, users, callback)
	p, err := oidclogin.New(oidclogin.Config{Issuer: idp.Issuer, ClientID: idp.ClientID, ClientSecret: idp.ClientSecret,
		Name: "Test IdP", Rules: oidclogin.Rules{UserDomains: []string{"corp.example"}, AdminGroups: []string{"printdock-admins"}}})
	if err != nil {
		t.Fatal(err)
	}
	return p, idp
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout: 20 * time.Second}

// signIn starts a sign-in, signs in at the provider as email and returns the pending sign-in and the
// callback's query.
func signIn(t *testing.T, p *oidclogin.Provider, idp *oidctest.IdP, email, password string) (oidclogin.Pending, url.Values) {
	t.Helper()
	authURL, pd, err := p.Start(context.Background(), callback, "/jobs", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cb := idp.SignIn(t, noRedirects, authURL, email, password, callback)
	return pd, cb.Query()
}

// TestFinish drives the authorization code flow with PKCE against a real OpenID provider: the rules
// give roles by domain and group, deny anyone else, and a callback that is not this sign-in's (another
// state, another nonce, too late, an error from the provider) or an unverified e-mail is refused.
func TestFinish(t *testing.T) {
	p, idp := newProvider(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		user    oidctest.User
		tamper  func(*oidclogin.Pending, url.Values)
		want    keys.Role
		wantErr error
	}{
		{name: "allowed domain", user: users[0], want: keys.RoleUser},
		{name: "admin group", user: users[1], want: keys.RoleAdmin},
		{name: "other domain and group", user: users[2], wantErr: oidclogin.ErrNotAllowed},
		{name: "unverified e-mail", user: users[3], wantErr: oidclogin.ErrUnverified},
		{name: "tampered state", user: users[0], wantErr: oidclogin.ErrState,
			tamper: func(_ *oidclogin.Pending, q url.Values) { q.Set("state", q.Get("state")+"x") }},
		{name: "wrong nonce", user: users[0], wantErr: oidclogin.ErrToken,
			tamper: func(pd *oidclogin.Pending, _ url.Values) { pd.Nonce = "another-nonce" }},
		{name: "wrong PKCE verifier", user: users[0], wantErr: oidclogin.ErrToken,
			tamper: func(pd *oidclogin.Pending, _ url.Values) { pd.Verifier += "x" }},
		{name: "expired", user: users[0], wantErr: oidclogin.ErrState,
			tamper: func(pd *oidclogin.Pending, _ url.Values) { pd.Expires = time.Now().Add(-time.Second) }},
		{name: "provider error", user: users[0], wantErr: oidclogin.ErrProvider,
			tamper: func(_ *oidclogin.Pending, q url.Values) { q.Del("code"); q.Set("error", "access_denied") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pd, q := signIn(t, p, idp, tc.user.Email, tc.user.Password)
			if tc.tamper != nil {
				tc.tamper(&pd, q)
			}
			// The pending sign-in survives its cookie.
			pd, err := oidclogin.DecodePending(pd.Encode())
			if err != nil {
				t.Fatal(err)
			}
			id, err := p.Finish(ctx, pd, q, time.Now())
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !errors.Is(err, oidclogin.ErrRefused) {
					t.Fatalf("Finish = %+v, %v; want %v", id, err, tc.wantErr)
				}
				return
			}
			if err != nil || id.Role != tc.want || id.Email != tc.user.Email || id.Subject == "" {
				t.Fatalf("Finish = %+v, %v; want %s as %s", id, err, tc.user.Email, tc.want)
			}
		})
	}
	// A code is good for one exchange only.
	pd, q := signIn(t, p, idp, users[0].Email, users[0].Password)
	if _, err := p.Finish(ctx, pd, q, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Finish(ctx, pd, q, time.Now()); !errors.Is(err, oidclogin.ErrToken) {
		t.Fatalf("replayed code: %v", err)
	}
	if _, err := oidclogin.DecodePending("garbage"); !errors.Is(err, oidclogin.ErrState) {
		t.Fatalf("garbage cookie: %v", err)
	}
}

func TestRules(t *testing.T) {
	r := oidclogin.Rules{AdminDomains: []string{"it.example"}, UserDomains: []string{"@corp.example"},
		AdminGroups: []string{"admins"}, UserGroups: []string{"printing"}}
	for _, tc := range []struct {
		email  string
		groups []string
		want   keys.Role
		ok     bool
	}{
		{"a@it.example", nil, keys.RoleAdmin, true},
		{"a@IT.Example", nil, keys.RoleAdmin, true},
		{"a@corp.example", nil, keys.RoleUser, true},
		{"a@corp.example", []string{"admins"}, keys.RoleAdmin, true},
		{"a@other.example", []string{"printing"}, keys.RoleUser, true},
		{"a@other.example", []string{"Admins"}, "", false}, // groups match exactly
		{"a@sub.corp.example", nil, "", false},             // no subdomains
		{"a@corp.example.evil", nil, "", false},
		{"corp.example", nil, "", false},
		{"", nil, "", false},
	} {
		got, ok := r.Role(tc.email, tc.groups)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Role(%q, %v) = %q, %v; want %q, %v", tc.email, tc.groups, got, ok, tc.want, tc.ok)
		}
	}
	if _, err := oidclogin.New(oidclogin.Config{Issuer: "https://idp.example", ClientID: "x"}); err == nil {
		t.Error("New without any rule: no error (nobody could sign in)")
	}
	for _, bad := range []string{"", "ftp://idp.example", "idp.example"} {
		if _, err := oidclogin.New(oidclogin.Config{Issuer: bad, ClientID: "x", Rules: r}); err == nil {
			t.Errorf("issuer %q accepted", bad)
		}
	}
}
