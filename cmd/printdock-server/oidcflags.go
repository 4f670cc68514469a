package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"printdock/server/oidclogin"
)

// oidcSecretEnv carries the OpenID client secret when --oidc-client-secret-file is not set (there is
// no flag for the secret itself: it would show in the process list).
const oidcSecretEnv = envPrefix + "OIDC_CLIENT_SECRET"

// oidcFlags are serve's flags for the portal's sign-in with OpenID Connect (docs/server.md, "Sign-in with OpenID Connect").
type oidcFlags struct {
	issuer, clientID, secretFile, redirect, name, groupsClaim, portal string
	scopes, adminDomains, userDomains, adminGroups, userGroups        multiFlag
}

func (f *oidcFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.issuer, "oidc-issuer", "", "OpenID Connect issuer `URL`: offer the portal's sign-in with this provider (off when empty)")
	fs.StringVar(&f.clientID, "oidc-client-id", "", "the portal's client ID at the OpenID provider")
	fs.StringVar(&f.secretFile, "oidc-client-secret-file", "", "`file` holding the portal's client secret at the OpenID provider (or set "+oidcSecretEnv+")")
	fs.StringVar(&f.redirect, "oidc-redirect-url", "", "the callback `URL` registered at the provider (default: https://HOST/login/oidc/callback from each request)")
	fs.StringVar(&f.name, "oidc-name", "", "the provider's name on the sign-in button (default: the issuer's host)")
	fs.StringVar(&f.groupsClaim, "oidc-groups-claim", "groups", "the claim that lists a person's groups")
	fs.Var(&f.scopes, "oidc-scopes", "scopes to request besides openid, email and profile (comma-separated)")
	fs.Var(&f.adminDomains, "oidc-admin-domains", "e-mail `domains` whose people sign in as administrators (comma-separated)")
	fs.Var(&f.userDomains, "oidc-user-domains", "e-mail `domains` whose people sign in as users (comma-separated)")
	fs.Var(&f.adminGroups, "oidc-admin-groups", "`groups` whose members sign in as administrators (comma-separated)")
	fs.Var(&f.userGroups, "oidc-user-groups", "`groups` whose members sign in as users (comma-separated)")
	fs.StringVar(&f.portal, "oidc-portal", "", "the portal people join at their first OpenID sign-in: its `ID` or a member's e-mail (default: --admin-email's portal)")
}

// config returns the sign-in's configuration, nil when --oidc-issuer is not set.
func (f *oidcFlags) config(getenv func(string) string) (*oidclogin.Config, error) {
	if f.issuer == "" {
		return nil, nil
	}
	if f.clientID == "" {
		return nil, usageError{"--oidc-issuer needs --oidc-client-id"}
	}
	secret := getenv(oidcSecretEnv)
	if f.secretFile != "" {
		b, err := os.ReadFile(f.secretFile)
		if err != nil {
			return nil, fmt.Errorf("read the OpenID client secret: %w", err)
		}
		secret = strings.TrimSpace(string(b))
	}
	cfg := &oidclogin.Config{Issuer: f.issuer, ClientID: f.clientID, ClientSecret: secret, RedirectURL: f.redirect,
		Name: f.name, GroupsClaim: f.groupsClaim, Scopes: f.scopes, Rules: oidclogin.Rules{
			AdminDomains: f.adminDomains, UserDomains: f.userDomains, AdminGroups: f.adminGroups, UserGroups: f.userGroups}}
	if _, err := oidclogin.New(*cfg); err != nil {
		return nil, usageError{strings.TrimPrefix(err.Error(), "oidclogin: ")}
	}
	return cfg, nil
}
