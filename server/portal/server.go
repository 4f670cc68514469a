package portal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"printdock/server/httpx"
	"printdock/server/keys"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// contentSecurityPolicy allows only same-origin scripts, styles and images, no framing, and forms that
// post back to the portal.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

const maxFormBytes = 64 << 10

type portal struct {
	svc      keyService
	hub      HubView
	opts     Options
	log      *slog.Logger
	sessions *sessions
	limiter  *limiter
	pages    map[string]*template.Template
	assetVer string
	previews *previews
	handler  http.Handler
}

func newPortal(svc keyService, hub HubView, opts Options) *portal {
	opts.defaults()
	if hub == nil {
		hub = noHub{}
	}
	p := &portal{
		svc:      svc,
		hub:      hub,
		opts:     opts,
		log:      opts.Logger,
		sessions: newSessions(opts.SessionIdleTimeout, opts.SessionMaxAge),
		limiter:  newLimiter(opts.Login),
		assetVer: assetVersion(),
		previews: newPreviews(),
	}
	p.sessions.st, p.sessions.log = opts.Sessions, opts.Logger
	p.pages = mustParsePages()

	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticHandler(http.FileServerFS(static))))
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/favicon.svg", http.StatusMovedPermanently)
	})

	mux.HandleFunc("GET /login", p.loginPage)
	mux.HandleFunc("POST /login", p.login)
	mux.HandleFunc("POST /logout", p.user(p.logout))
	mux.HandleFunc("GET /login/oidc", p.oidcStart)
	mux.HandleFunc("GET /login/oidc/callback", p.oidcCallback)
	mux.HandleFunc("GET /{$}", p.user(p.home))

	mux.HandleFunc("GET /keys", p.admin(p.keysPage))
	mux.HandleFunc("GET /keys/status", p.wrap(true, false, p.keysStatus)) // a background poll: keeps no session alive
	mux.HandleFunc("POST /keys", p.admin(p.createKey))
	mux.HandleFunc("POST /keys/{id}/rotate", p.admin(p.rotateKey))
	mux.HandleFunc("POST /keys/{id}/activate", p.admin(p.setKeyActive(true)))
	mux.HandleFunc("POST /keys/{id}/deactivate", p.admin(p.setKeyActive(false)))
	mux.HandleFunc("POST /keys/{id}/revoke", p.admin(p.revokeKey))
	mux.HandleFunc("GET /keys/{id}/delete", p.admin(p.deleteKeyPage))
	mux.HandleFunc("POST /keys/{id}/delete", p.admin(p.deleteKey))
	mux.HandleFunc("GET /keys/{id}/revoke", p.admin(p.revokeKeyPage))
	mux.HandleFunc("POST /keys/{id}/own-secret", p.admin(p.giveOwnSecret))
	mux.HandleFunc("POST /keys/{id}/use-shared-secret", p.admin(p.useSharedSecret))
	mux.HandleFunc("POST /download/{ticket}", p.user(p.download))

	mux.HandleFunc("GET /integrations", p.admin(p.integrationsPage))
	mux.HandleFunc("POST /integrations", p.admin(p.createIntegration))
	mux.HandleFunc("POST /integrations/{id}/activate", p.admin(p.setIntegrationActive(true)))
	mux.HandleFunc("POST /integrations/{id}/deactivate", p.admin(p.setIntegrationActive(false)))
	mux.HandleFunc("POST /integrations/{id}/rotate", p.admin(p.rotateIntegration))
	mux.HandleFunc("GET /integrations/{id}/revoke", p.admin(p.integrationConfirm(true)))
	mux.HandleFunc("POST /integrations/{id}/revoke", p.admin(p.revokeIntegration))
	mux.HandleFunc("GET /integrations/{id}/delete", p.admin(p.integrationConfirm(false)))
	mux.HandleFunc("POST /integrations/{id}/delete", p.admin(p.deleteIntegration))
	mux.HandleFunc("GET /settings", p.admin(p.settingsPage))
	mux.HandleFunc("POST /settings", p.admin(p.updateSettings))

	mux.HandleFunc("GET /profile", p.user(p.profilePage))
	mux.HandleFunc("GET /profile/rotate", p.user(p.rotateOwnPage))
	mux.HandleFunc("POST /profile/rotate", p.user(p.rotateOwn))
	mux.HandleFunc("GET /profile/password", p.user(p.passwordPage))
	mux.HandleFunc("POST /profile/password", p.user(p.changePassword))

	mux.HandleFunc("GET /users", p.admin(p.usersPage))
	mux.HandleFunc("POST /users", p.admin(p.createUser))
	mux.HandleFunc("POST /users/{id}/role", p.admin(p.setRole))
	mux.HandleFunc("POST /users/{id}/rotate", p.admin(p.rotateUserKey))
	mux.HandleFunc("GET /users/{id}/reset-password", p.admin(p.resetPasswordPage))
	mux.HandleFunc("POST /users/{id}/reset-password", p.admin(p.resetPassword))

	mux.HandleFunc("GET /shared", p.admin(p.sharedPage))
	mux.HandleFunc("POST /shared/reset", p.admin(p.resetShared))

	mux.HandleFunc("GET /clients", p.user(p.clientsPage))
	mux.HandleFunc("GET /jobs", p.user(p.jobsPage))
	mux.HandleFunc("GET /jobs/{id}/preview.png", p.user(p.jobPreview))
	mux.HandleFunc("GET /audit", p.admin(p.auditPage))
	mux.HandleFunc("GET /reference", p.user(p.apiPage))
	p.webhookRoutes(mux)

	mux.HandleFunc("/", p.notFound)

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.errorPage(w, r, nil, http.StatusForbidden, "Cross-origin request refused",
			"This form was submitted from another site. Open the portal directly and try again.")
	}))
	p.handler = httpx.HSTS(securityHeaders(cop.Handler(mux)))
	return p
}

func (p *portal) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.handler.ServeHTTP(w, r) }

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			// Every page carries a CSRF token or user data; pages showing a secret must never be cached.
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

func staticHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("v") != "" {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "public, max-age=300")
		}
		next.ServeHTTP(w, r)
	})
}

// assetVersion is a digest of the embedded assets, appended to their URLs so browsers cache them safely.
func assetVersion() string {
	h := sha256.New()
	_ = fs.WalkDir(staticFS, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(path)
		if err != nil {
			return err
		}
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// reqCtx is a signed-in request.
type reqCtx struct {
	sess  session
	me    keys.User
	actor keys.Actor
}

func (c *reqCtx) admin() bool { return c.actor.Role == keys.RoleAdmin }

type handlerFunc func(w http.ResponseWriter, r *http.Request, c *reqCtx)

func (p *portal) secure(r *http.Request) bool { return httpx.IsHTTPS(r) || p.opts.SecureCookies }

func (p *portal) sessionCookieName(r *http.Request) string {
	if p.secure(r) {
		return secureCookieName
	}
	return cookieName
}

func (p *portal) sessionToken(r *http.Request) string {
	c, err := r.Cookie(p.sessionCookieName(r))
	if err != nil {
		return ""
	}
	return c.Value
}

func (p *portal) setSessionCookie(w http.ResponseWriter, r *http.Request, token string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name:     p.sessionCookieName(r),
		Value:    token,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   p.secure(r),
		SameSite: http.SameSiteStrictMode,
	})
}

// user wraps a handler for any signed-in user: it loads the session, re-reads the user (so a role change or
// a removed account takes effect on the next request) and checks the CSRF token of every POST.
func (p *portal) user(h handlerFunc) http.HandlerFunc { return p.wrap(false, true, h) }

// admin is user plus the administrator role. keys.Service checks the role again for every action.
func (p *portal) admin(h handlerFunc) http.HandlerFunc { return p.wrap(true, true, h) }

// wrap loads the session; activity says whether the request counts as use for the idle timeout.
func (p *portal) wrap(adminOnly, activity bool, h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		post := r.Method == http.MethodPost
		if post {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		}
		sess, ok := p.sessions.lookup(p.sessionToken(r), activity)
		if !ok {
			if post {
				p.errorPage(w, r, nil, http.StatusForbidden, "Not signed in",
					"Your session has ended. Sign in again and repeat the action.")
				return
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		c := &reqCtx{sess: sess, actor: keys.Actor{Principal: sess.p, RemoteAddr: p.opts.RemoteAddr(r)}}
		if post {
			// Check the token before anything else happens, including reading the user.
			if err := r.ParseForm(); err != nil {
				p.errorPage(w, r, c, http.StatusBadRequest, "Bad request", "The form could not be read.")
				return
			}
			if !tokensEqual(r.PostForm.Get("csrf"), sess.csrf) {
				p.errorPage(w, r, c, http.StatusForbidden, "Request refused",
					"The form's security token is missing or wrong. Reload the page and try again.")
				return
			}
		}
		me, err := p.svc.Me(r.Context(), c.actor)
		switch {
		case errors.Is(err, keys.ErrNotFound), errors.Is(err, keys.ErrUnauthenticated), errors.Is(err, keys.ErrForbidden):
			p.sessions.destroy(sess.key)
			p.setSessionCookie(w, r, "", -1)
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		case err != nil:
			p.fail(w, r, c, err)
			return
		}
		c.me = me
		if me.Role != sess.p.Role || me.Email != sess.p.Email {
			c.actor.Role, c.actor.Email = me.Role, me.Email
			p.sessions.update(sess.key, c.actor.Principal)
		}
		if adminOnly && !c.admin() {
			p.errorPage(w, r, c, http.StatusForbidden, "Administrators only",
				"This page is for portal administrators. Ask an administrator if you need access.")
			return
		}
		h(w, r, c)
	}
}

// view is what every template receives.
type view struct {
	Title    string
	Nav      string
	Signed   bool
	Email    string
	Admin    bool
	CSRF     string
	Flash    *flash
	Error    string
	AssetVer string
	Refresh  string         // a same-site path the page moves on to at once (meta refresh)
	Alerts   []printerAlert // printers in alert (alerts.go), on the home pages
	D        any
}

func (p *portal) newView(c *reqCtx, title, nav string, d any) view {
	v := view{Title: title, Nav: nav, AssetVer: p.assetVer, D: d}
	if c != nil {
		v.Signed = true
		v.Email = c.actor.Email
		v.Admin = c.admin()
		v.CSRF = c.sess.csrf
		v.Flash = p.sessions.takeFlash(c.sess.key)
	}
	return v
}

func (p *portal) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	t, ok := p.pages[page]
	if !ok {
		panic("portal: no template " + page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		p.log.Error("portal: render", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

type errorData struct {
	Heading string
	Text    string
}

func (p *portal) errorPage(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, heading, text string) {
	p.render(w, r, status, "error", p.newView(c, heading, "", errorData{Heading: heading, Text: text}))
}

func (p *portal) notFound(w http.ResponseWriter, r *http.Request) {
	var c *reqCtx
	if sess, ok := p.sessions.get(p.sessionToken(r)); ok {
		c = &reqCtx{sess: sess, actor: keys.Actor{Principal: sess.p}}
	}
	p.errorPage(w, r, c, http.StatusNotFound, "Page not found", "There is no page at this address.")
}

// statusOf maps a keys error to an HTTP status and a message safe to show.
func statusOf(err error) (int, string) {
	switch {
	case errors.Is(err, keys.ErrForbidden):
		return http.StatusForbidden, "You are not allowed to do this."
	case errors.Is(err, keys.ErrInactive):
		return http.StatusForbidden, "This key is inactive."
	case errors.Is(err, keys.ErrRevoked):
		return http.StatusForbidden, "This key is revoked."
	case errors.Is(err, keys.ErrNotFound):
		return http.StatusNotFound, "It does not exist (any more)."
	case errors.Is(err, keys.ErrConflict):
		return http.StatusConflict, "This conflicts with what exists: " + httpx.RedactSecrets(err.Error())
	case errors.Is(err, keys.ErrConfirmationRequired):
		return http.StatusBadRequest, "Please confirm this action."
	case errors.Is(err, keys.ErrInvalid):
		return http.StatusBadRequest, "Please check your input: " + httpx.RedactSecrets(err.Error())
	case errors.Is(err, keys.ErrUnauthenticated):
		return http.StatusUnauthorized, "Please sign in again."
	case errors.Is(err, context.Canceled):
		return 499, "The request was cancelled."
	}
	return http.StatusInternalServerError, "Something went wrong on the server. The error was logged."
}

// fail renders an error page for err from package keys.
func (p *portal) fail(w http.ResponseWriter, r *http.Request, c *reqCtx, err error) {
	status, msg := statusOf(err)
	if status >= 500 {
		p.log.Error("portal: request failed", "method", r.Method, "path", httpx.RedactSecrets(r.URL.Path),
			"err", httpx.RedactSecrets(err.Error()))
	}
	heading := http.StatusText(status)
	if heading == "" {
		heading = "Error"
	}
	p.errorPage(w, r, c, status, heading, msg)
}

// when formats a time (time.Time or *time.Time) for the pages, to the minute.
func when(t any) string {
	switch v := t.(type) {
	case time.Time:
		if v.IsZero() {
			return "—"
		}
		return v.UTC().Format("2006-01-02 15:04 UTC")
	case *time.Time:
		if v == nil || v.IsZero() {
			return "never"
		}
		return v.UTC().Format("2006-01-02 15:04 UTC")
	}
	return fmt.Sprint(t)
}

// redirectWith sets a one-time message for the next page and redirects there (POST → redirect → GET).
func (p *portal) redirectWith(w http.ResponseWriter, r *http.Request, c *reqCtx, to, kind, text string) {
	p.sessions.setFlash(c.sess.key, flash{Kind: kind, Text: text})
	http.Redirect(w, r, to, http.StatusSeeOther)
}

var funcs = template.FuncMap{
	"when": when,
	// expiresSoon: the portal warns from 14 days before a key's expiry (keys.ExpiryWarnings).
	"expiresSoon": func(t *time.Time) bool { return keys.ExpiresSoon(t, time.Now()) },
	"inGrace":     func(g *keys.Grace) bool { return g != nil && time.Now().Before(g.ValidUntil) },
	// stamp is when with seconds (job timestamps).
	"stamp": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if !v.IsZero() {
				return v.UTC().Format(time.DateTime)
			}
		case *time.Time:
			if v != nil && !v.IsZero() {
				return v.UTC().Format(time.DateTime)
			}
		}
		return "—"
	},
	"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"human": func(s string) string { return strings.ReplaceAll(s, "_", " ") },
}

func mustParsePages() map[string]*template.Template {
	base := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	pages := map[string]*template.Template{}
	entries, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		name := strings.TrimSuffix(strings.TrimPrefix(e, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		pages[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, e))
	}
	return pages
}
