// Package servertest runs a whole printdock-server in-process for tests: real SQLite in a temporary
// directory, the real keys.Service, hub and API behind an httptest.Server, a bootstrapped portal and
// administrator, and helpers to call the REST API and to connect fake agents over real websockets.
//
// Every server it starts records all of its log output and every HTTP response body; when the test ends
// it fails the test if a secret (anything shaped like pdc_/pdu_/pds_/pdo_/pdt_…, or an issued password)
// appears in a log line, in more than the one response that issued it, or in any websocket message.
package servertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

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

// NewInstallationID returns a random installation ID.
func NewInstallationID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "inst-" + hex.EncodeToString(b[:])
}

// Hello returns a valid hello with a fresh installation ID.
func Hello() protocol.Hello {
	return protocol.Hello{ProtocolVersion: protocol.Version, AgentVersion: "test", Hostname: "test-host",
		OS: "linux", InstallationID: NewInstallationID()}
}

// DialOptions adjust Dial (and Connect).
type DialOptions struct {
	Device    string      // X-Printdock-Device (shared secret)
	LocalAddr net.IP      // source address (any 127.0.0.x works on Linux)
	Header    http.Header // extra headers
	// InstallationID is the hello's installation ID for Connect (a fresh random one when empty): reuse
	// Agent.Hello.InstallationID to reconnect as the same installation.
	InstallationID string
	// Printers, when not nil, are reported by Connect right after welcome (a `printers` message), which
	// is when the server starts delivering jobs.
	Printers []protocol.Printer
}

// Dial opens a websocket to the agent endpoint with secret as Bearer (no hello yet). On a refused
// handshake it returns the response (status and JSON body readable).
func (s *Server) Dial(ctx context.Context, secret string, o DialOptions) (*websocket.Conn, *http.Response, error) {
	h := http.Header{}
	for k, v := range o.Header {
		h[k] = v
	}
	if secret != "" {
		h.Set("Authorization", "Bearer "+secret)
	}
	if o.Device != "" {
		h.Set(protocol.DeviceHeader, o.Device)
	}
	client := s.client()
	if o.LocalAddr != nil {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: o.LocalAddr}, Timeout: 10 * time.Second}
		client = &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
	}
	c, resp, err := websocket.Dial(ctx, s.WSURL, &websocket.DialOptions{HTTPHeader: h, HTTPClient: client})
	if err != nil && resp != nil && resp.Body != nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		s.rec.Response("ws refusal", b)
		resp.Body = io.NopCloser(bytes.NewReader(b))
	}
	if c != nil {
		c.SetReadLimit(protocol.MaxMessageSize)
	}
	return c, resp, err
}

// Agent is a fake agent connected over a real websocket.
type Agent struct {
	Conn    *websocket.Conn
	Hello   protocol.Hello
	Welcome protocol.Welcome
	s       *Server
	// AnswerPings makes Read answer server pings with pongs (default true).
	AnswerPings bool
}

// Connect dials, sends hello and reads welcome; it fails the test on any error.
func (s *Server) Connect(t testing.TB, secret string, o DialOptions) *Agent {
	t.Helper()
	a, err := s.TryConnect(context.Background(), secret, o)
	if err != nil {
		t.Fatalf("servertest: connect: %v", err)
	}
	t.Cleanup(func() { a.Conn.CloseNow() })
	return a
}

// TryConnect is Connect returning errors (for benchmarks and goroutines).
func (s *Server) TryConnect(ctx context.Context, secret string, o DialOptions) (*Agent, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	c, resp, err := s.Dial(ctx, secret, o)
	if err != nil {
		if resp != nil {
			b, _ := io.ReadAll(resp.Body)
			return nil, fmt.Errorf("dial: %w (status %d: %s)", err, resp.StatusCode, b)
		}
		return nil, fmt.Errorf("dial: %w", err)
	}
	a := &Agent{Conn: c, Hello: Hello(), s: s, AnswerPings: true}
	if o.InstallationID != "" {
		a.Hello.InstallationID = o.InstallationID
	}
	if err := a.Send(ctx, a.Hello); err != nil {
		c.CloseNow()
		return nil, err
	}
	m, err := a.Read(ctx)
	if err != nil {
		c.CloseNow()
		return nil, fmt.Errorf("read welcome: %w", err)
	}
	w, ok := m.(protocol.Welcome)
	if !ok {
		c.CloseNow()
		return nil, fmt.Errorf("first message is %s, want welcome", m.MessageType())
	}
	a.Welcome = w
	if o.Printers != nil {
		if err := a.Send(ctx, protocol.Printers{Printers: o.Printers}); err != nil {
			c.CloseNow()
			return nil, fmt.Errorf("send printers: %w", err)
		}
	}
	return a, nil
}

// Send writes one message.
func (a *Agent) Send(ctx context.Context, m protocol.Message) error {
	b, err := protocol.Encode(m)
	if err != nil {
		return err
	}
	return a.Conn.Write(ctx, websocket.MessageText, b)
}

// Read returns the next message that is not a ping (pings are answered when AnswerPings).
func (a *Agent) Read(ctx context.Context) (protocol.Message, error) {
	for {
		typ, b, err := a.Conn.Read(ctx)
		if err != nil {
			return nil, err
		}
		a.s.rec.WSMessage(b)
		if typ != websocket.MessageText {
			return nil, fmt.Errorf("server sent a binary frame")
		}
		m, err := protocol.Decode(b)
		if err != nil {
			return nil, err
		}
		if p, ok := m.(protocol.Ping); ok {
			if a.AnswerPings {
				if err := a.Send(ctx, protocol.Pong{Nonce: p.Nonce}); err != nil {
					return nil, err
				}
			}
			continue
		}
		return m, nil
	}
}

// WaitLogout reads until the logout message, checks its reason and that the connection then closes with
// 4001. It returns an error describing anything else.
func (a *Agent) WaitLogout(ctx context.Context, reason string) error {
	m, err := a.Read(ctx)
	if err != nil {
		return fmt.Errorf("want logout %q, read error: %w", reason, err)
	}
	lo, ok := m.(protocol.Logout)
	if !ok {
		return fmt.Errorf("want logout %q, got %s", reason, m.MessageType())
	}
	if lo.Reason != reason {
		return fmt.Errorf("logout reason %q, want %q", lo.Reason, reason)
	}
	return a.WaitClose(ctx, protocol.CloseLoggedOut)
}

// WaitClose reads until the connection closes and checks the close code.
func (a *Agent) WaitClose(ctx context.Context, code websocket.StatusCode) error {
	for {
		m, err := a.Read(ctx)
		if err == nil {
			return fmt.Errorf("want close %d, got message %s", code, m.MessageType())
		}
		if got := websocket.CloseStatus(err); got != code {
			return fmt.Errorf("want close %d, got %v", code, err)
		}
		return nil
	}
}

// ExpectLogout is WaitLogout failing the test (10 s limit).
func (a *Agent) ExpectLogout(t testing.TB, reason string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.WaitLogout(ctx, reason); err != nil {
		t.Fatalf("servertest: %v", err)
	}
}

// ExpectClose is WaitClose failing the test (10 s limit).
func (a *Agent) ExpectClose(t testing.TB, code websocket.StatusCode) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.WaitClose(ctx, code); err != nil {
		t.Fatalf("servertest: %v", err)
	}
}

// ExpectAlive pings the server and waits for the pong: the session is still up.
func (a *Agent) ExpectAlive(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nonce := uint64(time.Now().UnixNano())
	if err := a.Send(ctx, protocol.Ping{Nonce: nonce}); err != nil {
		t.Fatalf("servertest: session not alive: %v", err)
	}
	for {
		m, err := a.Read(ctx)
		if err != nil {
			t.Fatalf("servertest: session not alive: %v", err)
		}
		if p, ok := m.(protocol.Pong); ok && p.Nonce == nonce {
			return
		}
	}
}
