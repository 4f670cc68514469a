// Package oidclogin owns the portal's optional sign-in with OpenID Connect: the authorization code flow
// with PKCE against one identity provider, the pending sign-in kept in a short-lived cookie (state,
// nonce, PKCE verifier, where to go next), the verification of the ID token (signature, issuer, audience,
// expiry, nonce), the verified e-mail address, and the mapping of e-mail domains and groups to a role
// (Rules; deny by default). It knows nothing of users or sessions: the portal hands the Identity it
// returns to keys.Service.ExternalLogin. See docs/server.md ("Sign-in with OpenID Connect").
package oidclogin

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"printdock/internal/clip"
	"printdock/server/keys"
)

// PendingTTL is how long a started sign-in may take at the provider.
const PendingTTL = 10 * time.Minute

// Errors Finish returns; each wraps ErrRefused, and its text is fit to show the person signing in.
var (
	ErrRefused = errors.New("sign-in refused")
	// ErrState: the callback does not belong to a sign-in this browser started (no or expired cookie,
	// another state): a forged or replayed callback, or a sign-in that took too long.
	ErrState = fmt.Errorf("%w: this sign-in was not started here or took too long; start again", ErrRefused)
	// ErrToken: the ID token is missing or fails verification (signature, issuer, audience, expiry, nonce).
	ErrToken = fmt.Errorf("%w: the identity provider's answer could not be verified", ErrRefused)
	// ErrUnverified: the provider does not say the e-mail address is verified.
	ErrUnverified = fmt.Errorf("%w: the identity provider has not verified your e-mail address", ErrRefused)
	// ErrNotAllowed: the mapping gives the person no role.
	ErrNotAllowed = fmt.Errorf("%w: your account is not allowed to sign in to this portal", ErrRefused)
	// ErrProvider: the provider answered with an error (the person cancelled, or it refused).
	ErrProvider = fmt.Errorf("%w: the identity provider did not sign you in", ErrRefused)
)

// Config configures the sign-in. Issuer and ClientID are required.
type Config struct {
	Issuer       string // the provider's issuer URL (its discovery document is Issuer/.well-known/openid-configuration)
	ClientID     string
	ClientSecret string
	// RedirectURL is the absolute URL of the portal's callback, registered at the provider; empty: the
	// caller derives it from each request (Start's redirect).
	RedirectURL string
	// Name is the provider's name on the sign-in page ("Sign in with <Name>"); default the issuer's host.
	Name string
	// GroupsClaim is the claim listing the person's groups (default "groups"); Scopes are requested
	// besides openid, email and profile (e.g. "groups" where the provider needs it).
	GroupsClaim string
	Scopes      []string
	Rules       Rules
	// HTTPClient talks to the provider (default http.DefaultClient with a 10-second timeout).
	HTTPClient *http.Client
}

// Identity is a person the provider vouched for, with the role the rules give them.
type Identity struct {
	Subject string
	Email   string // verified by the provider
	Groups  []string
	Role    keys.Role
}

// Provider runs sign-ins against one identity provider. It discovers the provider on first use (a
// provider that is down when the server starts does not stop it) and is safe for concurrent use.
type Provider struct {
	cfg Config

	mu       sync.Mutex
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	oauth    oauth2.Config
}

// New checks cfg and returns a Provider.
func New(cfg Config) (*Provider, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" {
		return nil, errors.New("oidclogin: issuer and client ID are required")
	}
	iu, err := url.Parse(cfg.Issuer)
	if err != nil || (iu.Scheme != "https" && iu.Scheme != "http") || iu.Host == "" {
		return nil, fmt.Errorf("oidclogin: issuer %q is not an http(s) URL", cfg.Issuer)
	}
	if ru, err := url.Parse(cfg.RedirectURL); cfg.RedirectURL != "" && (err != nil || !ru.IsAbs()) {
		return nil, fmt.Errorf("oidclogin: redirect URL %q is not absolute", cfg.RedirectURL)
	}
	if err := cfg.Rules.check(); err != nil {
		return nil, err
	}
	if cfg.Name == "" {
		cfg.Name = iu.Hostname()
	}
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return &Provider{cfg: cfg}, nil
}

// Name is the provider's name for the sign-in page.
func (p *Provider) Name() string { return p.cfg.Name }

// Issuer is the provider's issuer URL.
func (p *Provider) Issuer() string { return p.cfg.Issuer }

func (p *Provider) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, p.cfg.HTTPClient)
}

// discover fetches the provider's configuration once (again after a failure).
func (p *Provider) discover(ctx context.Context) (*oidc.Provider, *oidc.IDTokenVerifier, oauth2.Config, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.provider == nil {
		// The provider's key set outlives this request: give it a context that is not cancelled with it.
		op, err := oidc.NewProvider(p.ctx(context.WithoutCancel(ctx)), p.cfg.Issuer)
		if err != nil {
			return nil, nil, oauth2.Config{}, fmt.Errorf("oidclogin: discover %s: %w", p.cfg.Issuer, err)
		}
		p.provider = op
		p.verifier = op.Verifier(&oidc.Config{ClientID: p.cfg.ClientID})
		p.oauth = oauth2.Config{ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret,
			Endpoint: op.Endpoint(), Scopes: append([]string{oidc.ScopeOpenID, "email", "profile"}, p.cfg.Scopes...)}
	}
	return p.provider, p.verifier, p.oauth, nil
}

// Pending is a started sign-in, kept by the browser in a cookie (Encode) until the callback.
type Pending struct {
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	Next     string    `json:"r"`
	Redirect string    `json:"u"` // the redirect URL the provider was given
	Expires  time.Time `json:"e"`
}

// Encode is the cookie value of p.
func (p Pending) Encode() string {
	b, _ := json.Marshal(p)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodePending reads a cookie value made by Encode.
func DecodePending(v string) (Pending, error) {
	var p Pending
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err == nil {
		err = json.Unmarshal(b, &p)
	}
	if err != nil || p.State == "" || p.Nonce == "" || p.Verifier == "" {
		return Pending{}, ErrState
	}
	return p, nil
}

func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Start begins a sign-in that returns to next (a path the caller checked): it returns the provider's
// authorization URL to send the browser to and the Pending sign-in for the browser's cookie. redirect is
// the callback URL derived from the request, used when Config.RedirectURL is empty.
func (p *Provider) Start(ctx context.Context, redirect, next string, now time.Time) (string, Pending, error) {
	_, _, oc, err := p.discover(ctx)
	if err != nil {
		return "", Pending{}, err
	}
	if p.cfg.RedirectURL != "" {
		redirect = p.cfg.RedirectURL
	}
	oc.RedirectURL = redirect
	pd := Pending{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier(), Next: next, Redirect: redirect,
		Expires: now.Add(PendingTTL)}
	u := oc.AuthCodeURL(pd.State, oauth2.S256ChallengeOption(pd.Verifier), oidc.Nonce(pd.Nonce))
	return u, pd, nil
}

// claims are the ID token's or the userinfo answer's claims that matter here.
type claims struct {
	Subject       string `json:"sub"`
	Email         string `json:"email"`
	EmailVerified any    `json:"email_verified"` // a boolean; some providers send "true"
	Groups        []string
}

func (c *claims) read(raw map[string]json.RawMessage, groupsClaim string) error {
	for name, dst := range map[string]any{"sub": &c.Subject, "email": &c.Email, "email_verified": &c.EmailVerified} {
		if v, ok := raw[name]; ok {
			if err := json.Unmarshal(v, dst); err != nil {
				return fmt.Errorf("claim %s: %w", name, err)
			}
		}
	}
	if v, ok := raw[groupsClaim]; ok {
		var one string
		if json.Unmarshal(v, &c.Groups) != nil && json.Unmarshal(v, &one) == nil {
			c.Groups = []string{one}
		}
	}
	return nil
}

func (c *claims) verified() bool {
	switch v := c.EmailVerified.(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true")
	}
	return false
}

// Finish completes the sign-in pd started with the provider's callback query q: the state must match,
// the code is exchanged with the PKCE verifier, the ID token is verified and must carry pd's nonce; the
// e-mail address (from the ID token, or else the userinfo endpoint) must be verified, and the rules
// must give the person a role. Errors wrap ErrRefused (see the Err values) unless the provider could
// not be reached.
func (p *Provider) Finish(ctx context.Context, pd Pending, q url.Values, now time.Time) (Identity, error) {
	if pd.State == "" || now.After(pd.Expires) || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(pd.State)) != 1 {
		return Identity{}, ErrState
	}
	if e := q.Get("error"); e != "" {
		return Identity{}, fmt.Errorf("%w (%s)", ErrProvider, clip.String(e, 64))
	}
	op, verifier, oc, err := p.discover(ctx)
	if err != nil {
		return Identity{}, err
	}
	ctx = p.ctx(ctx)
	oc.RedirectURL = pd.Redirect
	tok, err := oc.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(pd.Verifier))
	if err != nil {
		return Identity{}, fmt.Errorf("%w: exchange the code: %v", ErrToken, err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return Identity{}, fmt.Errorf("%w: no ID token", ErrToken)
	}
	idt, err := verifier.Verify(ctx, rawID)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %v", ErrToken, err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(pd.Nonce)) != 1 {
		return Identity{}, fmt.Errorf("%w: wrong nonce", ErrToken)
	}
	var raw map[string]json.RawMessage
	var c claims
	if err := idt.Claims(&raw); err != nil {
		return Identity{}, fmt.Errorf("%w: %v", ErrToken, err)
	}
	if err := c.read(raw, p.cfg.GroupsClaim); err != nil {
		return Identity{}, fmt.Errorf("%w: %v", ErrToken, err)
	}
	if c.Email == "" || c.EmailVerified == nil || c.Groups == nil {
		// Many providers put these only in the userinfo answer; it must describe the same person.
		ui, err := op.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return Identity{}, fmt.Errorf("oidclogin: userinfo: %w", err)
		}
		var uraw map[string]json.RawMessage
		if err := ui.Claims(&uraw); err != nil {
			return Identity{}, fmt.Errorf("%w: userinfo: %v", ErrToken, err)
		}
		var u claims
		if err := u.read(uraw, p.cfg.GroupsClaim); err != nil || u.Subject != idt.Subject {
			return Identity{}, fmt.Errorf("%w: the userinfo answer is about someone else", ErrToken)
		}
		if c.Email == "" {
			c.Email, c.EmailVerified = u.Email, u.EmailVerified
		} else if c.EmailVerified == nil && strings.EqualFold(c.Email, u.Email) {
			c.EmailVerified = u.EmailVerified
		}
		if c.Groups == nil {
			c.Groups = u.Groups
		}
	}
	if c.Email == "" || !c.verified() {
		return Identity{}, ErrUnverified
	}
	id := Identity{Subject: idt.Subject, Email: strings.ToLower(c.Email), Groups: c.Groups}
	role, ok := p.cfg.Rules.Role(id.Email, id.Groups)
	if !ok {
		return Identity{}, ErrNotAllowed
	}
	id.Role = role
	return id, nil
}
