package portal

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"printdock/internal/testenv"
	"printdock/server/api"
	"printdock/server/hub"
	"printdock/server/jobs"
	"printdock/server/keys"
	"printdock/server/store/sqlite"
	"printdock/server/webhooks"
)

// env is a real server for tests: SQLite, keys.Service, the hub (fed by the service's events), the REST
// API with the agent websocket endpoint under /api/, and the portal at "/".
type env struct {
	t      *testing.T
	svc    *keys.Service
	jobs   *jobs.Service
	hub    *hub.Hub
	portal *portal
	srv    *httptest.Server
	admin  keys.InitResult
}

type envOpt func(*Options)

func newEnv(t *testing.T, tls bool, opts ...envOpt) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "printdock.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pepper := make([]byte, keys.PepperLen)
	rand.Read(pepper)
	svc, err := keys.New(st, pepper, keys.WithPasswordParams(keys.PasswordParams{Time: 1, Memory: 1024, Threads: 1}))
	if err != nil {
		t.Fatal(err)
	}
	init, err := svc.Init(ctx, "Test portal", "admin@example.com")
	if err != nil {
		t.Fatal(err)
	}
	logs := &testenv.SyncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	js := jobs.New(jobs.Options{Store: st, Log: log})
	h := hub.New(hub.Options{Keys: svc, Log: log, Jobs: js})
	events, cancel := svc.Subscribe()
	runCtx, stop := context.WithCancel(ctx)
	go h.Run(runCtx, events)

	o := Options{Logger: log, Jobs: js, Sessions: st, Webhooks: webhooks.New(webhooks.Options{Store: st, Pepper: pepper, Log: log})}
	for _, f := range opts {
		f(&o)
	}
	p := newPortal(svc, h, o)
	a := api.New(api.Options{Keys: svc, Jobs: js, Hub: h, Log: log})
	mux := http.NewServeMux()
	mux.Handle("/api/", a)
	mux.Handle("/", p)
	rec := &responses{}
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(rec.wrap(mux))
	} else {
		srv = httptest.NewServer(rec.wrap(mux))
	}
	t.Cleanup(func() {
		for _, leak := range rec.leaks(logs.String()) {
			t.Errorf("secret leak: %s", leak)
		}
		srv.CloseClientConnections()
		shutdownCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
		defer done()
		_ = h.Shutdown(shutdownCtx)
		srv.Close()
		stop()
		cancel()
	})
	return &env{t: t, svc: svc, jobs: js, hub: h, portal: p, srv: srv, admin: init}
}

// createUser adds a user with the admin's authority and returns e-mail and password.
func (e *env) createUser(email string, role keys.Role) (keys.User, string) {
	e.t.Helper()
	u, pw, _, err := e.svc.CreateUser(context.Background(), e.adminActor(), email, role)
	if err != nil {
		e.t.Fatal(err)
	}
	return u, pw
}

func (e *env) adminActor() keys.Actor {
	e.t.Helper()
	p, err := e.svc.PasswordLogin(context.Background(), e.admin.AdminEmail, e.admin.AdminPassword, "127.0.0.1")
	if err != nil {
		e.t.Fatal(err)
	}
	return keys.Actor{Principal: p, RemoteAddr: "127.0.0.1"}
}

// client is a plain HTTP client with a cookie jar that does not follow redirects.
type client struct {
	t    *testing.T
	e    *env
	c    *http.Client
	csrf string // the session's CSRF token, read from the last page that had one
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	c := new(http.Client)
	*c = *e.srv.Client() // a copy: the server's client is shared
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &client{t: e.t, e: e, c: c}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

type page struct {
	*http.Response
	body string
}

func (b *client) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindStringSubmatch(string(body)); m != nil && !strings.HasPrefix(req.URL.Path, "/login") {
		b.csrf = html.UnescapeString(m[1])
	}
	return page{Response: resp, body: string(body)}
}

func (b *client) get(path string) page {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.e.srv.URL+path, nil)
	return b.do(req)
}

// post submits a form; set csrf to b.csrf for a genuine form, or anything else to forge one.
func (b *client) post(path string, form url.Values, hdr ...string) page {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return b.do(req)
}

// form returns url.Values with the session's CSRF token and the given pairs.
func (b *client) form(kv ...string) url.Values {
	v := url.Values{"csrf": {b.csrf}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// login signs in through the form and fails the test unless it worked.
func (b *client) login(email, password string) {
	b.t.Helper()
	if p := b.tryLogin(email, password); p.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("sign-in as %s: status %d", email, p.StatusCode)
	}
	b.get("/profile") // picks up the session's CSRF token
}

func (b *client) tryLogin(email, password string) page {
	b.t.Helper()
	lp := b.get("/login")
	m := csrfRE.FindStringSubmatch(lp.body)
	if m == nil {
		b.t.Fatalf("no csrf on the sign-in page")
	}
	return b.post("/login", url.Values{"csrf": {html.UnescapeString(m[1])}, "email": {email}, "password": {password}})
}

// responses records every response body, to check that a secret is shown exactly once: in the one page
// that issued it, plus at most its one-time download.
type responses struct {
	mu     sync.Mutex
	bodies []recorded
}

type recorded struct{ what, body string }

var secretShaped = regexp.MustCompile(`pd[cusot]_[0-9A-Za-z]{20,}`)

func (rs *responses) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw := &tee{ResponseWriter: w}
		h.ServeHTTP(tw, r)
		if tw.status != http.StatusSwitchingProtocols {
			rs.mu.Lock()
			rs.bodies = append(rs.bodies, recorded{r.Method + " " + r.URL.Path, tw.buf.String()})
			rs.mu.Unlock()
		}
	})
}

func (rs *responses) leaks(log string) []string {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	var out []string
	if m := secretShaped.FindString(log); m != "" {
		out = append(out, "the log holds a secret-shaped string "+m[:8]+"…")
	}
	where := map[string][]string{}
	for _, b := range rs.bodies {
		if strings.HasPrefix(b.what, "POST /download/") {
			continue
		}
		seen := map[string]bool{}
		for _, s := range secretShaped.FindAllString(b.body, -1) {
			if !seen[s] {
				seen[s] = true
				where[s] = append(where[s], b.what)
			}
		}
	}
	for s, w := range where {
		if len(w) > 1 {
			out = append(out, fmt.Sprintf("secret %s… in %d responses: %v", s[:8], len(w), w))
		}
	}
	return out
}

type tee struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (t *tee) WriteHeader(code int) {
	if t.status == 0 {
		t.status = code
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *tee) Write(b []byte) (int, error) {
	if t.status == 0 {
		t.status = http.StatusOK
	}
	t.buf.Write(b)
	return t.ResponseWriter.Write(b)
}

func (t *tee) Unwrap() http.ResponseWriter { return t.ResponseWriter }
