package localapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// stubBackend is a minimal Backend whose Status the test changes.
type stubBackend struct {
	mu   sync.Mutex
	st   Status
	subs map[chan Status]bool
}

func newStub() *stubBackend {
	return &stubBackend{st: Status{State: StateNotLoggedIn, AgentRunning: true}, subs: map[chan Status]bool{}}
}

func (b *stubBackend) set(state string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.st.State = state
	for c := range b.subs {
		select {
		case <-c:
		default:
		}
		c <- b.st
	}
}

func (b *stubBackend) Status(context.Context) Status {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.st
}

func (b *stubBackend) Subscribe() (<-chan Status, func()) {
	c := make(chan Status, 1)
	b.mu.Lock()
	b.subs[c] = true
	b.mu.Unlock()
	return c, func() {
		b.mu.Lock()
		delete(b.subs, c)
		b.mu.Unlock()
	}
}

func (b *stubBackend) Login(_ context.Context, req LoginRequest) (Status, error) {
	if !strings.HasPrefix(req.Secret, "pdc_") {
		return Status{}, NewError(http.StatusBadRequest, CodeInvalidSecret, "this is not a printdock secret", nil)
	}
	b.set(StateConnected)
	return b.Status(context.Background()), nil
}

func (b *stubBackend) Logout(context.Context) (Status, error) {
	b.set(StateNotLoggedIn)
	return b.Status(context.Background()), nil
}

func (b *stubBackend) Printers(context.Context) ([]Printer, error) {
	return []Printer{{ID: "sim://a", Name: "a", State: "ready"}}, nil
}

func (b *stubBackend) TestPrint(_ context.Context, req TestPrintRequest) (TestPrintResult, error) {
	if req.PrinterID == "boom" {
		return TestPrintResult{}, errors.New("plain failure")
	}
	return TestPrintResult{PrinterID: "sim://a", JobID: "test-1"}, nil
}

func (b *stubBackend) Jobs(context.Context) ([]Job, error) { return nil, nil }

func (b *stubBackend) Logs(_ context.Context, n int) ([]LogEntry, error) {
	return []LogEntry{{Message: fmt.Sprint(n)}}, nil
}

// serveSocket serves a handler for b on a unix socket in a temporary directory.
func serveSocket(t *testing.T, b Backend) (string, context.CancelFunc) {
	t.Helper()
	dir := shortTempDir(t)
	path := filepath.Join(dir, SocketName)
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := Listen(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = Serve(ctx, ln, NewHandler(b, nil))
	}()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return path, stop
}

// shortTempDir keeps socket paths under the 108-byte limit.
func shortTempDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "pdl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// rawRequest sends one HTTP request over the socket with the given Host and headers.
func rawRequest(t *testing.T, path, method, route, host string, hdr map[string]string) (int, Error) {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req, _ := http.NewRequest(method, "http://"+host+Prefix+route, nil)
	req.Host = host
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if err := req.Write(c); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e Error
	_ = json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e
}

func TestOriginAndHostChecks(t *testing.T) {
	path, _ := serveSocket(t, newStub())
	tests := []struct {
		name   string
		method string
		route  string
		host   string
		hdr    map[string]string
		want   int
		code   string
	}{
		{"local host", "GET", "status", Host, nil, 200, ""},
		{"local host with port", "GET", "status", Host + ":80", nil, 200, ""},
		{"browser origin", "GET", "status", Host, map[string]string{"Origin": "https://evil.example"}, 403, CodeForbidden},
		{"null origin", "POST", "logout", Host, map[string]string{"Origin": "null"}, 403, CodeForbidden},
		{"rebinding host", "GET", "status", "evil.example", nil, 403, CodeForbidden},
		{"localhost", "GET", "status", "localhost", nil, 403, CodeForbidden},
		{"loopback ip", "GET", "status", "127.0.0.1:8080", nil, 403, CodeForbidden},
		{"unknown route", "GET", "nope", Host, nil, 404, CodeNotFound},
		{"wrong method", "GET", "login", Host, nil, 405, CodeMethodNotAllowed},
		{"wrong method for status", "DELETE", "status", Host, nil, 405, CodeMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, e := rawRequest(t, path, tt.method, tt.route, tt.host, tt.hdr)
			if code != tt.want || e.Error.Code != tt.code {
				t.Fatalf("%s %s Host=%s: %d %q, want %d %q", tt.method, tt.route, tt.host, code, e.Error.Code, tt.want, tt.code)
			}
			if tt.code != "" && e.Error.Message == "" {
				t.Fatal("an error without a message")
			}
		})
	}
}

func TestSocketPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no mode bits on Windows")
	}
	path, _ := serveSocket(t, newStub())
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != SocketMode {
		t.Fatalf("socket mode %v, want socket %v", fi.Mode(), SocketMode)
	}
	// A second listener on a live socket is refused; the socket survives.
	if _, err := Listen(context.Background(), path); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second listen: %v", err)
	}
	if _, err := NewClient(path).Status(context.Background()); err != nil {
		t.Fatalf("the first agent lost its socket: %v", err)
	}
}

func TestStaleSocketReplaced(t *testing.T) {
	dir := shortTempDir(t)
	path := filepath.Join(dir, SocketName)
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close() // leaves a socket file nobody answers on, as after a crash
	ln2, err := Listen(context.Background(), path)
	if err != nil {
		t.Fatalf("listen over a stale socket: %v", err)
	}
	ln2.Close()
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(context.Background(), path); err == nil {
		t.Fatal("Listen removed a regular file")
	}
}

func TestClientCalls(t *testing.T) {
	b := newStub()
	path, _ := serveSocket(t, b)
	c := NewClient(path)
	defer c.Close()
	ctx := context.Background()
	if _, err := c.Login(ctx, LoginRequest{ServerURL: "https://x", Secret: "nope"}); ErrorCode(err) != CodeInvalidSecret || err.Error() != "this is not a printdock secret" {
		t.Fatalf("login error: %v (%s)", err, ErrorCode(err))
	}
	var ae *APIError
	if _, err := c.Login(ctx, LoginRequest{Secret: "x"}); !errors.As(err, &ae) || ae.HTTPStatus != 400 {
		t.Fatalf("want an *APIError with status 400: %v", err)
	}
	st, err := c.Login(ctx, LoginRequest{ServerURL: "https://x", Secret: "pdc_x"})
	if err != nil || st.State != StateConnected {
		t.Fatalf("login: %v %+v", err, st)
	}
	ps, err := c.Printers(ctx)
	if err != nil || len(ps) != 1 {
		t.Fatalf("printers: %v %v", ps, err)
	}
	js, err := c.Jobs(ctx)
	if err != nil || js == nil || len(js) != 0 {
		t.Fatalf("jobs: %v %v (want an empty list, not null)", js, err)
	}
	if _, err := c.TestPrint(ctx, TestPrintRequest{PrinterID: "boom"}); ErrorCode(err) != CodeInternal || err.Error() != "plain failure" {
		t.Fatalf("test print error: %v", err)
	}
	if ls, err := c.Logs(ctx, 7); err != nil || ls[0].Message != "7" {
		t.Fatalf("logs: %v %v", ls, err)
	}
	if _, err := c.Logs(ctx, -1); ErrorCode(err) != CodeInvalidRequest {
		t.Fatalf("logs -1: %v", err)
	}
	if st, err := c.Logout(ctx); err != nil || st.State != StateNotLoggedIn {
		t.Fatalf("logout: %v %+v", err, st)
	}
	// A backend that cannot discard jobs answers job-discard 404.
	if _, err := c.DiscardJob(ctx, "j1"); ErrorCode(err) != CodeNotFound {
		t.Fatalf("discard without DiscardBackend: %v", err)
	}
}

// discardStub is a stubBackend that can discard the job "waiting".
type discardStub struct{ *stubBackend }

func (discardStub) DiscardJob(_ context.Context, id string) (Job, error) {
	if id != "waiting" {
		return Job{}, NewError(http.StatusConflict, CodeTooLate, "too late", nil)
	}
	return Job{ID: id, State: JobCancelled}, nil
}

func TestClientDiscardJob(t *testing.T) {
	path, _ := serveSocket(t, discardStub{newStub()})
	c := NewClient(path)
	defer c.Close()
	ctx := context.Background()
	if j, err := c.DiscardJob(ctx, "waiting"); err != nil || j.State != JobCancelled || j.ID != "waiting" {
		t.Fatalf("discard: %+v %v", j, err)
	}
	if _, err := c.DiscardJob(ctx, "done"); ErrorCode(err) != CodeTooLate {
		t.Fatalf("discard of a printed job: %v", err)
	}
	if _, err := c.DiscardJob(ctx, ""); ErrorCode(err) != CodeInvalidRequest {
		t.Fatalf("discard without an id: %v", err)
	}
}

func TestClientAgentNotRunning(t *testing.T) {
	c := NewClient(filepath.Join(shortTempDir(t), SocketName))
	_, err := c.Status(context.Background())
	if ErrorCode(err) != CodeAgentNotRunning || !errors.Is(err, ErrAgentNotRunning) {
		t.Fatalf("err = %v (code %q)", err, ErrorCode(err))
	}
}

func TestWatchStream(t *testing.T) {
	b := newStub()
	path, _ := serveSocket(t, b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := NewClient(path).WatchStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	next := func() Status {
		t.Helper()
		select {
		case st, ok := <-ch:
			if !ok {
				t.Fatal("watch closed")
			}
			return st
		case <-time.After(10 * time.Second):
			t.Fatal("no status on the watch stream")
		}
		return Status{}
	}
	if st := next(); st.State != StateNotLoggedIn {
		t.Fatalf("first: %s", st.State)
	}
	b.set(StateConnecting)
	if st := next(); st.State != StateConnecting {
		t.Fatalf("second: %s", st.State)
	}
	b.set(StateConnected)
	if st := next(); st.State != StateConnected {
		t.Fatalf("third: %s", st.State)
	}
	cancel()
	for range ch { // drains and ends
	}
}

// Watch survives the agent going away and coming back on the same socket.
func TestWatchSurvivesRestart(t *testing.T) {
	b := newStub()
	path, stop := serveSocket(t, b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := NewClient(path)
	c.retry = 10 * time.Millisecond
	ch := c.Watch(ctx)
	next := func(what string, cond func(Status) bool) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case st := <-ch:
				if cond(st) {
					return
				}
			case <-deadline:
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	next("first status", func(s Status) bool { return s.AgentRunning && s.State == StateNotLoggedIn })
	stop()
	next("agent down", func(s Status) bool { return !s.AgentRunning && s.LastError != "" })

	ln, err := Listen(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	b.set(StateConnected)
	sctx, scancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = Serve(sctx, ln, NewHandler(b, nil)) }()
	defer func() { scancel(); <-done }()
	next("agent back", func(s Status) bool { return s.AgentRunning && s.State == StateConnected })
}

func TestMemListener(t *testing.T) {
	ml := NewMemListener()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = Serve(ctx, ml, NewHandler(newStub(), nil)) }()
	c := NewClientDialer(ml.Dial)
	if st, err := c.Status(context.Background()); err != nil || !st.AgentRunning {
		t.Fatalf("status over memory: %v %+v", err, st)
	}
	cancel()
	<-done
	ml.Close()
	if _, err := c.Status(context.Background()); ErrorCode(err) != CodeAgentNotRunning {
		t.Fatalf("after close: %v", err)
	}
}

func TestSocketPaths(t *testing.T) {
	dir := shortTempDir(t)
	if got := DefaultSocketPath(dir); Privileged() && got == SystemSocketPath() || !strings.HasPrefix(got, dir) {
		t.Fatalf("DefaultSocketPath(%s) = %s", dir, got)
	}
	cands := SocketCandidates()
	if len(cands) == 0 || cands[len(cands)-1] != SystemSocketPath() {
		t.Fatalf("candidates %v should end with the system socket", cands)
	}
	if Privileged() && runtime.GOOS == "linux" && os.Getenv("STATE_DIRECTORY") == "" {
		if DefaultStateDir() != "/var/lib/printdock" || DefaultSocketPath(DefaultStateDir()) != "/run/printdock/agent.sock" {
			t.Fatalf("root defaults: %s %s", DefaultStateDir(), DefaultSocketPath(DefaultStateDir()))
		}
	}
}
