package portal

// Sign-in with OpenID Connect (Options.OIDC; package oidclogin does the protocol). The pending sign-in
// lives in a cookie scoped to /login/oidc for oidclogin.PendingTTL; SameSite=Lax, since the provider's
// redirect back is a cross-site navigation. The session that follows is the same kind a password
// sign-in makes.
import (
	"errors"
	"net/http"
	"time"

	"printdock/server/httpx"
	"printdock/server/keys"
	"printdock/server/oidclogin"
)

const (
	oidcCookie   = "printdock_oidc"
	oidcPath     = "/login/oidc"
	oidcCallback = oidcPath + "/callback"
)

func (p *portal) oidcName() string {
	if p.opts.OIDC == nil {
		return ""
	}
	return p.opts.OIDC.Name()
}

func (p *portal) setOIDCCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: value, Path: oidcPath, MaxAge: maxAge, HttpOnly: true,
		Secure: p.secure(r), SameSite: http.SameSiteLaxMode})
}

// oidcStart sends the browser to the provider.
func (p *portal) oidcStart(w http.ResponseWriter, r *http.Request) {
	if p.opts.OIDC == nil {
		p.notFound(w, r)
		return
	}
	scheme := "http"
	if httpx.IsHTTPS(r) {
		scheme = "https"
	}
	authURL, pd, err := p.opts.OIDC.Start(r.Context(), scheme+"://"+r.Host+oidcCallback, safeNext(r.URL.Query().Get("next")), time.Now())
	if err != nil {
		p.log.Error("portal: start OpenID Connect sign-in", "err", err)
		p.oidcRefused(w, r, http.StatusBadGateway, "The identity provider cannot be reached. Try again later, or sign in with your password.")
		return
	}
	p.setOIDCCookie(w, r, pd.Encode(), int(oidclogin.PendingTTL.Seconds()))
	http.Redirect(w, r, authURL, http.StatusSeeOther)
}

// oidcCallback finishes the sign-in the provider sent the browser back from.
func (p *portal) oidcCallback(w http.ResponseWriter, r *http.Request) {
	if p.opts.OIDC == nil {
		p.notFound(w, r)
		return
	}
	var pd oidclogin.Pending
	c, err := r.Cookie(oidcCookie)
	if err != nil {
		err = oidclogin.ErrState // no sign-in started in this browser (or it expired)
	} else {
		pd, err = oidclogin.DecodePending(c.Value)
	}
	p.setOIDCCookie(w, r, "", -1) // one use
	addr := p.opts.RemoteAddr(r)
	var id oidclogin.Identity
	if err == nil {
		id, err = p.opts.OIDC.Finish(r.Context(), pd, r.URL.Query(), time.Now())
	}
	var pr keys.Principal
	if err == nil {
		pr, err = p.svc.ExternalLogin(r.Context(), keys.ExternalIdentity{Provider: p.opts.OIDC.Issuer(), Subject: id.Subject,
			Email: id.Email, Role: id.Role, Portal: p.opts.OIDCPortal}, addr)
	}
	switch {
	case err == nil:
	case errors.Is(err, oidclogin.ErrRefused):
		p.log.Info("portal: OpenID Connect sign-in refused", "err", err, "remote", addr)
		p.oidcRefused(w, r, http.StatusForbidden, errText(err))
		return
	case errors.Is(err, keys.ErrLastAdmin):
		p.oidcRefused(w, r, http.StatusForbidden, "The sign-in rules would make you a user, but you are this portal's last administrator. Sign in with your password.")
		return
	default:
		p.log.Error("portal: OpenID Connect sign-in", "err", httpx.RedactSecrets(err.Error()))
		p.oidcRefused(w, r, http.StatusBadGateway, "The sign-in could not be completed. Try again, or sign in with your password.")
		return
	}
	p.startSession(w, r, pr)
	// The session cookie is SameSite=Strict, and this response ends a navigation that came from the
	// provider's site: a redirect would not carry the cookie yet. A page of this site moves on instead.
	v := p.newView(nil, "Signed in", "", nil)
	v.Refresh = safeNext(pd.Next)
	p.render(w, r, http.StatusOK, "signed_in", v)
}

// oidcRefused shows the sign-in page with why the OpenID Connect sign-in failed.
func (p *portal) oidcRefused(w http.ResponseWriter, r *http.Request, status int, text string) {
	v := p.newView(nil, "Sign in", "", loginData{Next: "/", LoginCSRF: p.loginCSRF(w, r), OIDC: p.oidcName()})
	v.Error = text
	p.render(w, r, status, "login", v)
}

// errText is an oidclogin refusal as the person signing in reads it: "Sign-in refused: …".
func errText(err error) string {
	for _, e := range []error{oidclogin.ErrState, oidclogin.ErrToken, oidclogin.ErrUnverified, oidclogin.ErrNotAllowed, oidclogin.ErrProvider} {
		if errors.Is(err, e) {
			s := e.Error()
			return "S" + s[1:] + "."
		}
	}
	return "Sign-in refused."
}
