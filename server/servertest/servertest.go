// Package servertest runs a whole printdock-server in-process for tests: real SQLite in a temporary
// directory, the real keys.Service, hub and API behind an httptest.Server, a bootstrapped portal and
// administrator, and helpers to call the REST API and to connect fake agents over real websockets.
//
// Every server it starts records all of its log output and every HTTP response body; when the test ends
// it fails the test if a secret (anything shaped like pdc_/pdu_/pds_/pdo_/pdt_…, or an issued password)
// appears in a log line, in more than the one response that issued it, or in any websocket message. It
// also fails the test for every REST response that does not match the OpenAPI document
// (server/api/openapi; Options.NoOpenAPICheck turns that off).
package servertest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"printdock/internal/testenv"
	"printdock/protocol"
	"printdock/server"
	"printdock/server/keys"
)

// Server is a running in-process printdock-server.
type Server struct {
	URL   string // http://127.0.0.1:PORT
	WSURL string // ws://127.0.0.1:PORT/api/v1/agent/ws

	PortalID      string
	AdminEmail    string
	AdminPassword string
	AdminKey      string // the administrator's personal API key (Bearer for the REST API)

	S    *server.Server
	HTTP *httptest.Server

	rec *Recorder
}

// Options configure New.
type Options struct {
	Heartbeat             time.Duration // agent ping interval (default 15 s)
	HelloTimeout          time.Duration
	WriteTimeout          time.Duration
	AuthFailuresPerMinute int
	AuthFailureBurst      int
	// NoLeakCheck turns off the end-of-test secret scan (for tests that inspect it themselves).
	NoLeakCheck bool
	// NoRecording records no responses or websocket messages and skips the scan (benchmarks with
	// thousands of sessions).
	NoRecording bool
	// JobClock is the job queue's clock (time.Now when nil): tests move it to expire jobs.
	JobClock func() time.Time
	// Config, when set, adjusts the server configuration last.
	Config func(*server.Config)
	// LogLevel of the captured log (default debug, so the scan sees everything).
	LogLevel slog.Level
	// ReadTimeout replaces the HTTP server's ReadTimeout (server.HTTPServer's when zero): tests of slow
	// request bodies and of websocket sessions outliving it.
	ReadTimeout time.Duration
	// NoOpenAPICheck turns off the check of every REST response against the OpenAPI document
	// (server/api/openapi), which otherwise fails the test at its end on an undocumented answer.
	NoOpenAPICheck bool
}

// CheapPasswords are argon2id parameters fast enough for tests.
var CheapPasswords = keys.PasswordParams{Time: 1, Memory: 64, Threads: 1}

// New starts a server for the test and stops it when the test ends.
func New(t testing.TB, o Options) *Server {
	t.Helper()
	rec := NewRecorder()
	rec.off = o.NoRecording
	level := o.LogLevel
	if o.LogLevel == 0 {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(rec.LogWriter(), &slog.HandlerOptions{Level: level}))
	cfg := server.Config{
		DataDir:               t.TempDir(),
		Log:                   log,
		Version:               "test",
		Heartbeat:             o.Heartbeat,
		HelloTimeout:          o.HelloTimeout,
		WriteTimeout:          o.WriteTimeout,
		AuthFailuresPerMinute: o.AuthFailuresPerMinute,
		AuthFailureBurst:      o.AuthFailureBurst,
		KeysOptions:           []keys.Option{keys.WithPasswordParams(CheapPasswords)},
		JobClock:              o.JobClock,
	}
	if o.Config != nil {
		o.Config(&cfg)
	}
	ctx := context.Background()
	srv, err := server.New(ctx, cfg)
	if err != nil {
		t.Fatalf("servertest: new server: %v", err)
	}
	res, created, err := srv.Bootstrap(ctx, "admin@example.com")
	if err != nil || !created {
		srv.Close()
		t.Fatalf("servertest: bootstrap: created=%v err=%v", created, err)
	}
	rec.Issued("init", res.AdminAPIKey, res.AdminPassword)
	hs := httptest.NewUnstartedServer(nil)
	hc := srv.HTTPServer()
	hs.Config.Handler = rec.Wrap(checkOpenAPI(t, o, hc.Handler))
	hs.Config.ReadHeaderTimeout = hc.ReadHeaderTimeout
	hs.Config.ReadTimeout = hc.ReadTimeout
	if o.ReadTimeout > 0 {
		hs.Config.ReadTimeout = o.ReadTimeout
	}
	hs.Config.MaxHeaderBytes = hc.MaxHeaderBytes
	hs.Config.ErrorLog = hc.ErrorLog
	hs.Start()
	s := &Server{
		URL:           hs.URL,
		WSURL:         "ws" + strings.TrimPrefix(hs.URL, "http") + protocol.Path,
		PortalID:      res.PortalID,
		AdminEmail:    res.AdminEmail,
		AdminPassword: res.AdminPassword,
		AdminKey:      res.AdminAPIKey,
		S:             srv,
		HTTP:          hs,
		rec:           rec,
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("servertest: shutdown: %v", err)
		}
		hs.Close()
		if !o.NoLeakCheck && !o.NoRecording {
			for _, l := range rec.Leaks() {
				t.Errorf("servertest: secret leak: %s", l)
			}
		}
		if t.Failed() {
			// Redacted: the log may hold the very secret the leak check just reported.
			t.Logf("server log (last 8 KiB, secrets redacted):\n%s", tail(rec.Redact(rec.Log()), 8<<10))
		}
	})
	return s
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// Attach returns a Server for a printdock-server running elsewhere (another process), for the REST and
// agent helpers; S and HTTP are nil.
func Attach(baseURL, adminKey string) *Server {
	return &Server{
		URL:      baseURL,
		WSURL:    "ws" + strings.TrimPrefix(baseURL, "http") + protocol.Path,
		AdminKey: adminKey,
		rec:      &Recorder{issued: map[string]string{}, off: true},
	}
}

func (s *Server) client() *http.Client {
	if s.HTTP != nil {
		return s.HTTP.Client()
	}
	return http.DefaultClient
}

// UseRecorder makes the agent helpers (Dial, Connect, Read) record into rec, for a Server built as a
// struct literal around a server started elsewhere.
func (s *Server) UseRecorder(rec *Recorder) { s.rec = rec }

// Recorder returns the server's log and response recorder.
func (s *Server) Recorder() *Recorder { return s.rec }

// Do sends a REST request with bearer (if not empty) and a JSON body (if not nil; a string or []byte is
// sent as is) and returns the status and body.
func (s *Server) Do(t testing.TB, method, path, bearer string, body any) (int, []byte) {
	t.Helper()
	code, out, err := s.DoWith(context.Background(), nil, method, path, bearer, body)
	if err != nil {
		t.Fatalf("servertest: %v", err)
	}
	return code, out
}

// JSON is Do that expects status want and decodes the answer into out (if not nil).
func (s *Server) JSON(t testing.TB, method, path, bearer string, body any, want int, out any) {
	t.Helper()
	code, b := s.Do(t, method, path, bearer, body)
	if code != want {
		t.Fatalf("servertest: %s %s: status %d, want %d: %s", method, path, code, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("servertest: %s %s: decode %s: %v", method, path, b, err)
		}
	}
}

// Key is a print client secret as the API answers its creation or rotation.
type Key struct {
	ID              string `json:"id"`
	Description     string `json:"description"`
	Status          string `json:"status"`
	Prefix          string `json:"prefix"`
	UseSharedSecret bool   `json:"use_shared_secret"`
	Connected       bool   `json:"connected"`
	Secret          string `json:"secret"`
}

// CreatePrintClient creates an active print client secret as the administrator.
func (s *Server) CreatePrintClient(t testing.TB, description string) Key {
	t.Helper()
	return s.CreateKey(t, s.AdminKey, map[string]any{"description": description})
}

// CreateKey posts req to /api/v1/print-client-secrets with bearer and expects 201.
func (s *Server) CreateKey(t testing.TB, bearer string, req map[string]any) Key {
	t.Helper()
	var k Key
	s.JSON(t, http.MethodPost, "/api/v1/print-client-secrets", bearer, req, http.StatusCreated, &k)
	return k
}

// KeyAction posts /api/v1/print-client-secrets/{id}/{action} (rotate, activate, deactivate, revoke) as
// the administrator; for rotate it returns the new secret.
func (s *Server) KeyAction(t testing.TB, id, action string) Key {
	t.Helper()
	var k Key
	s.JSON(t, http.MethodPost, "/api/v1/print-client-secrets/"+id+"/"+action, s.AdminKey, nil, http.StatusOK, &k)
	return k
}

// DeleteKey deletes a print client secret as the administrator.
func (s *Server) DeleteKey(t testing.TB, id string) {
	t.Helper()
	s.JSON(t, http.MethodDelete, "/api/v1/print-client-secrets/"+id, s.AdminKey, nil, http.StatusNoContent, nil)
}

// User is a user created through the API, with their one-time password and personal API key.
type User struct {
	ID       string `json:"id"`
	Email    string `json:"email"`
	Role     string `json:"role"`
	Password string `json:"password"`
	APIKey   string `json:"api_key"`
}

// CreateUser creates a user of the administrator's portal.
func (s *Server) CreateUser(t testing.TB, email string, role keys.Role) User {
	t.Helper()
	var u User
	s.JSON(t, http.MethodPost, "/api/v1/users", s.AdminKey, map[string]any{"email": email, "role": role},
		http.StatusCreated, &u)
	return u
}

// ResetSharedSecret resets the portal's shared secret and returns the new one.
func (s *Server) ResetSharedSecret(t testing.TB, resetDevices bool) string {
	t.Helper()
	var out struct {
		Secret string `json:"secret"`
	}
	s.JSON(t, http.MethodPost, "/api/v1/shared-secret/reset", s.AdminKey,
		map[string]any{"confirmation": keys.SharedResetConfirmation, "reset_devices": resetDevices},
		http.StatusOK, &out)
	return out.Secret
}

// CreatePortal creates another portal (with its administrator) directly through keys.Service.
func (s *Server) CreatePortal(t testing.TB, name, adminEmail string) keys.InitResult {
	t.Helper()
	res, err := s.S.Keys.CreatePortal(context.Background(), name, adminEmail)
	if err != nil {
		t.Fatalf("servertest: create portal: %v", err)
	}
	s.rec.Issued("create portal", res.AdminAPIKey, res.AdminPassword)
	return res
}

// WaitFor is testenv.WaitFor, kept for the tests that call it through servertest.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	testenv.WaitFor(t, what, cond)
}

// WaitConnected waits until the hub reports credentialID connected (or not).
func (s *Server) WaitConnected(t testing.TB, credentialID string, want bool) {
	t.Helper()
	WaitFor(t, fmt.Sprintf("credential %s connected=%v", credentialID, want), func() bool {
		return s.S.Hub.Connected(credentialID) == want
	})
}
