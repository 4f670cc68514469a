package portal

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"printdock/server/keys"
)

// gatedLogin holds every PasswordLogin until release is closed, so a test can see how many sign-ins
// the portal lets through to the (slow, in production argon2) password check at once.
type gatedLogin struct {
	keyService
	release     chan struct{}
	calls       atomic.Int32
	inFlight    atomic.Int32
	maxInFlight atomic.Int32
}

func (g *gatedLogin) PasswordLogin(ctx context.Context, email, password, addr string) (keys.Principal, error) {
	g.calls.Add(1)
	n := g.inFlight.Add(1)
	defer g.inFlight.Add(-1)
	for {
		m := g.maxInFlight.Load()
		if n <= m || g.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	select {
	case <-g.release:
	case <-ctx.Done():
	}
	return g.keyService.PasswordLogin(ctx, email, password, addr)
}

// loginForm returns the sign-in CSRF token of a fresh client (the cookie stays in the client's jar).
func (b *client) loginForm() string {
	b.t.Helper()
	m := csrfRE.FindStringSubmatch(b.get("/login").body)
	if m == nil {
		b.t.Fatal("no csrf on the sign-in page")
	}
	return html.UnescapeString(m[1])
}

// postLogin posts the sign-in form from the client address addr (see withTestAddr) without failing the
// test (safe in goroutines); it returns the status.
func (b *client) postLogin(csrf, email, password, addr string) (int, error) {
	form := url.Values{"csrf": {csrf}, "email": {email}, "password": {password}}
	req, _ := http.NewRequest("POST", b.e.srv.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if addr != "" {
		req.Header.Set("X-Test-Addr", addr)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// withTestAddr takes the client address from the X-Test-Addr header (the TCP peer is always loopback).
func withTestAddr(o *Options) {
	o.RemoteAddr = func(r *http.Request) string {
		if a := r.Header.Get("X-Test-Addr"); a != "" {
			return a
		}
		return "127.0.0.1"
	}
}

// TestLoginParallelGuesses: 60 wrong passwords sent at once for one account reach the password check
// at most PerAccount times — the attempt is counted before the check, and only a few run at a time —
// and the same for many accounts guessed at once from one address.
func TestLoginParallelGuesses(t *testing.T) {
	for _, tc := range []struct {
		name     string
		accounts bool // a different e-mail address per request
		max      int32
	}{
		{"one account", false, 2},                   // DefaultLoginLimits.InFlightPerAccount
		{"many accounts from one address", true, 4}, // DefaultLoginLimits.InFlightPerAddress
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, false, func(o *Options) {
				o.Login = LoginLimits{PerAccount: 5, PerAddress: 1000, Window: time.Hour, Lockout: time.Hour}
			})
			g := &gatedLogin{keyService: e.portal.svc, release: make(chan struct{})}
			e.portal.svc = g
			b := e.client()
			csrf := b.loginForm()
			const n = 60
			var answered atomic.Int32
			codes := make([]int, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					email := e.admin.AdminEmail
					if tc.accounts {
						email = fmt.Sprintf("guess%d@example.com", i)
					}
					codes[i], errs[i] = b.postLogin(csrf, email, "wrong", "")
					answered.Add(1)
				}()
			}
			// Every request is either answered or waiting in the password check; then let them finish.
			deadline := time.Now().Add(10 * time.Second)
			for answered.Load()+g.inFlight.Load() < n {
				if time.Now().After(deadline) {
					close(g.release)
					t.Fatalf("answered %d, in the password check %d, of %d", answered.Load(), g.inFlight.Load(), n)
				}
				time.Sleep(time.Millisecond)
			}
			close(g.release)
			wg.Wait()
			var wrong, limited int32
			for i, c := range codes {
				switch {
				case errs[i] != nil:
					t.Fatalf("request %d: %v", i, errs[i])
				case c == http.StatusUnauthorized:
					wrong++
				case c == http.StatusTooManyRequests:
					limited++
				default:
					t.Fatalf("request %d: status %d", i, c)
				}
			}
			if calls := g.calls.Load(); calls > 5 || wrong != calls {
				t.Errorf("password checks %d, 401s %d, 429s %d: want at most 5 checks", calls, wrong, limited)
			}
			if m := g.maxInFlight.Load(); m > tc.max {
				t.Errorf("%d password checks ran at once, want at most %d", m, tc.max)
			}
		})
	}
}

// TestLoginLockIsPerAddress: failures lock the account only for the address they came from (an IPv6
// address for its whole /64); its owner signs in from elsewhere. The per-address limit still locks an
// address that guesses across accounts.
func TestLoginLockIsPerAddress(t *testing.T) {
	e := newEnv(t, false, withTestAddr, func(o *Options) {
		o.Login = LoginLimits{PerAccount: 5, PerAddress: 8, Window: time.Hour, Lockout: time.Hour}
	})
	other, otherPW := e.createUser("other@example.com", keys.RoleUser)
	login := func(email, password, addr string) int {
		t.Helper()
		b := e.client()
		code, err := b.postLogin(b.loginForm(), email, password, addr)
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	const attacker, attacker6 = "192.0.2.66", "2001:db8:1:2::66"
	for _, addr := range []string{attacker, attacker6} {
		for i := range 5 {
			if c := login(e.admin.AdminEmail, "wrong", addr); c != http.StatusUnauthorized {
				t.Fatalf("%s attempt %d: %d", addr, i, c)
			}
		}
	}
	// The attacker's address (and its /64) is locked for this account, even with the right password…
	for _, addr := range []string{attacker, attacker6, "2001:db8:1:2::67"} {
		if c := login(e.admin.AdminEmail, e.admin.AdminPassword, addr); c != http.StatusTooManyRequests {
			t.Errorf("right password from the guessing address %s: %d, want 429", addr, c)
		}
	}
	// …but the owner signs in from another address, IPv4 or another /64.
	for _, addr := range []string{"198.51.100.7", "2001:db8:1:3::1"} {
		if c := login(e.admin.AdminEmail, e.admin.AdminPassword, addr); c != http.StatusSeeOther {
			t.Errorf("owner from %s: %d, want 303", addr, c)
		}
	}
	// The guessing address may still sign in to another account until its address limit (8).
	if c := login(other.Email, otherPW, attacker); c != http.StatusSeeOther {
		t.Fatalf("other account from the guessing address: %d", c)
	}
	for i := range 3 {
		if c := login(fmt.Sprintf("nobody%d@example.com", i), "wrong", attacker); c != http.StatusUnauthorized {
			t.Fatalf("spray %d: %d", i, c)
		}
	}
	if c := login(other.Email, otherPW, attacker); c != http.StatusTooManyRequests {
		t.Errorf("other account after the address limit: %d, want 429", c)
	}
	if c := login(other.Email, otherPW, "198.51.100.7"); c != http.StatusSeeOther {
		t.Errorf("other account from another address: %d", c)
	}
}

// TestStatusOfRedacts: an error page never shows a secret-shaped string from an error's text (keys
// errors may quote what the user typed, e.g. a secret pasted into the wrong field).
func TestStatusOfRedacts(t *testing.T) {
	const secret = "pdu_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
	for _, err := range []error{
		fmt.Errorf("%w: invalid e-mail address %q", keys.ErrInvalid, secret),
		fmt.Errorf("%w: a user %s already exists", keys.ErrConflict, secret),
	} {
		_, msg := statusOf(err)
		if strings.Contains(msg, secret) || !strings.Contains(msg, "pdu_[redacted]") {
			t.Errorf("statusOf(%v) = %q", err, msg)
		}
	}
}
