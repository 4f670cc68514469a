package portal

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"printdock/server/httpx"
	"printdock/server/keys"
)

type loginData struct {
	Email     string
	Next      string
	LoginCSRF string
	SignedOut bool
	OIDC      string // the OpenID provider's name when its sign-in is configured
}

// safeNext accepts only a path on this site as the place to go after signing in; anything else goes to
// "/". Browsers drop tabs and newlines and read a backslash as a slash, so "/\t/evil.example" would become
// "//evil.example", another site: every control character and backslash is refused, and the value must
// parse as a path with no scheme or host.
func safeNext(next string) string {
	if next == "" || len(next) > 2048 || next[0] != '/' || strings.HasPrefix(next, "/login") || !utf8.ValidString(next) {
		return "/"
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f || c == '\\' || (c >= 0x80 && c < 0xa0) || c == '\u2028' || c == '\u2029' {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || u.User != nil ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return next
}

// loginCSRF returns the sign-in form's token: a random value kept in a short-lived cookie and repeated in
// the form (there is no session yet to hold it). A forged cross-site form cannot read or set the cookie.
func (p *portal) loginCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(loginCSRFCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	tok := randomToken(32)
	http.SetCookie(w, &http.Cookie{
		Name: loginCSRFCookie, Value: tok, Path: "/login", MaxAge: 3600,
		HttpOnly: true, Secure: p.secure(r), SameSite: http.SameSiteStrictMode,
	})
	return tok
}

func (p *portal) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := p.sessions.get(p.sessionToken(r)); ok {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	d := loginData{Next: safeNext(r.URL.Query().Get("next")), LoginCSRF: p.loginCSRF(w, r),
		SignedOut: r.URL.Query().Get("signed_out") == "1", OIDC: p.oidcName()}
	p.render(w, r, http.StatusOK, "login", p.newView(nil, "Sign in", "", d))
}

func (p *portal) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		p.errorPage(w, r, nil, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return
	}
	c, err := r.Cookie(loginCSRFCookie)
	if err != nil || !tokensEqual(r.PostForm.Get("csrf"), c.Value) {
		p.errorPage(w, r, nil, http.StatusForbidden, "Request refused",
			"The sign-in form's security token is missing or wrong. Open the sign-in page again.")
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	password := r.PostForm.Get("password")
	next := safeNext(r.PostForm.Get("next"))
	addr := p.opts.RemoteAddr(r)
	d := loginData{Email: email, Next: next, LoginCSRF: c.Value, OIDC: p.oidcName()}
	v := p.newView(nil, "Sign in", "", nil)

	if email == "" || password == "" {
		v.Error = "Enter your e-mail address and password."
		v.D = d
		p.render(w, r, http.StatusBadRequest, "login", v)
		return
	}
	// The attempt is counted before the password is checked, so parallel guesses cannot all pass the
	// limit check before the first failure is recorded.
	at, wait := p.limiter.begin(email, addr)
	if at == nil {
		v.Error = tooManyText(wait)
		v.D = d
		w.Header().Set("Retry-After", fmt.Sprint(int(math.Ceil(wait.Seconds()))))
		p.render(w, r, http.StatusTooManyRequests, "login", v)
		return
	}
	pr, err := p.svc.PasswordLogin(r.Context(), email, password, addr)
	at.end(err == nil)
	if err != nil {
		if !errors.Is(err, keys.ErrUnauthenticated) && !errors.Is(err, keys.ErrForbidden) {
			p.log.Error("portal: sign-in", "err", httpx.RedactSecrets(err.Error()))
		}
		v.Error = "Wrong e-mail address or password."
		v.D = d
		p.render(w, r, http.StatusUnauthorized, "login", v)
		return
	}
	p.startSession(w, r, pr)
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Path: "/login", MaxAge: -1, HttpOnly: true,
		Secure: p.secure(r), SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// startSession signs the browser in as pr: a new token on every sign-in (no session fixation); an old
// session of this browser ends.
func (p *portal) startSession(w http.ResponseWriter, r *http.Request, pr keys.Principal) {
	if old, ok := p.sessions.get(p.sessionToken(r)); ok {
		p.sessions.destroy(old.key)
	}
	token, _ := p.sessions.create(pr)
	p.setSessionCookie(w, r, token, int(p.opts.SessionMaxAge.Seconds()))
}

// tooManyText tells a refused sign-in how long to wait.
func tooManyText(wait time.Duration) string {
	if wait < time.Minute {
		return "Too many sign-in attempts at once. Try again in a moment."
	}
	mins := int(math.Ceil(wait.Minutes()))
	return fmt.Sprintf("Too many failed sign-ins. Try again in %d minute%s.", mins, map[bool]string{true: "", false: "s"}[mins == 1])
}

func (p *portal) logout(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	p.sessions.destroy(c.sess.key)
	p.setSessionCookie(w, r, "", -1)
	http.Redirect(w, r, "/login?signed_out=1", http.StatusSeeOther)
}

func (p *portal) home(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if c.admin() {
		http.Redirect(w, r, "/keys", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/profile", http.StatusSeeOther)
}
