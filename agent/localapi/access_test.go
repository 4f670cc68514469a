package localapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// serveSocketAccess serves b with access on a unix socket in a temporary directory.
func serveSocketAccess(t *testing.T, b Backend, access Access) string {
	t.Helper()
	path := filepath.Join(shortTempDir(t), SocketName)
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := Listen(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = Serve(ctx, ln, NewHandler(b, nil).SetAccess(access)) }()
	t.Cleanup(func() { cancel(); <-done })
	return path
}

// callRoutes calls every route through c and returns each route's error code ("" for success).
func callRoutes(t *testing.T, c *Client) map[string]string {
	t.Helper()
	ctx := context.Background()
	code := func(err error) string {
		if err != nil && ErrorCode(err) == "" {
			t.Fatalf("an error without a code: %v", err)
		}
		return ErrorCode(err)
	}
	got := map[string]string{}
	_, err := c.Status(ctx)
	got["status"] = code(err)
	_, err = c.Printers(ctx)
	got["printers"] = code(err)
	_, err = c.Jobs(ctx)
	got["jobs"] = code(err)
	_, err = c.TestPrint(ctx, TestPrintRequest{})
	got["test-print"] = code(err)
	wctx, cancel := context.WithCancel(ctx)
	_, err = c.WatchStream(wctx)
	cancel()
	got["watch"] = code(err)
	_, err = c.Logs(ctx, 5)
	got["logs"] = code(err)
	_, err = c.Login(ctx, LoginRequest{ServerURL: "https://print.example.com", Secret: "pdc_x"})
	got["login"] = code(err)
	_, err = c.Logout(ctx)
	got["logout"] = code(err)
	return got
}

var (
	allAllowed = map[string]string{"status": "", "printers": "", "jobs": "", "test-print": "", "watch": "",
		"logs": "", "login": "", "logout": ""}
	readOnly = map[string]string{"status": "", "printers": "", "jobs": "", "test-print": "", "watch": "",
		"logs": CodeAdminRequired, "login": CodeAdminRequired, "logout": CodeAdminRequired}
)

func sameCodes(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// Login, logout and logs are for administrators: root, the agent's own user, members of the admin
// group. Other users who can connect to the socket (members of the socket's group) get the rest.
func TestAdminRoutes(t *testing.T) {
	self := uint32(os.Geteuid())
	foreign := self + 4242
	fails := func(p *Peer, err error) func(net.Conn) (*Peer, error) {
		return func(c net.Conn) (*Peer, error) {
			if _, ok := c.(*net.UnixConn); !ok {
				t.Errorf("peer credentials asked of a %T", c)
			}
			return p, err
		}
	}
	peer := func(p *Peer) func(net.Conn) (*Peer, error) { return fails(p, nil) }
	tests := []struct {
		name   string
		access Access
		want   map[string]string
	}{
		{"same uid", Access{PeerCred: peer(&Peer{UID: self, GID: self, PID: 1})}, allAllowed},
		{"root", Access{PeerCred: peer(&Peer{UID: 0, GID: 0, PID: 1})}, allAllowed},
		{"foreign uid", Access{PeerCred: peer(&Peer{UID: foreign, GID: foreign, PID: 1}), AdminGroup: "-"}, readOnly},
		{"foreign uid, default admin group", Access{PeerCred: peer(&Peer{UID: foreign, GID: foreign, PID: 1})}, readOnly},
		{"foreign uid, admin", Access{PeerCred: peer(&Peer{UID: foreign, PID: 1}), IsAdmin: func(p Peer) bool { return p.UID == foreign }}, allAllowed},
		{"credentials unreadable", Access{PeerCred: fails(nil, errors.New("getsockopt: bad file descriptor"))}, readOnly},
		{"no credentials (Windows, other Unix)", Access{PeerCred: fails(nil, nil)}, allAllowed},
		{"the real credentials: this process", Access{}, allAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newStub()
			c := NewClient(serveSocketAccess(t, b, tt.access))
			defer c.Close()
			got := callRoutes(t, c)
			if !sameCodes(got, tt.want) {
				t.Fatalf("codes %v, want %v", got, tt.want)
			}
			if tt.want["login"] != "" && b.Status(context.Background()).State != StateNotLoggedIn {
				t.Fatal("a refused login reached the backend")
			}
		})
	}
	// The refusal is a 403 with a plain-language message that says what to do.
	c := NewClient(serveSocketAccess(t, newStub(), Access{PeerCred: peer(&Peer{UID: foreign, GID: foreign}), AdminGroup: "-"}))
	defer c.Close()
	_, err := c.Logout(context.Background())
	var ae *APIError
	if !errors.As(err, &ae) || ae.HTTPStatus != http.StatusForbidden || ae.Message != msgAdminLogin {
		t.Fatalf("refusal: %#v", err)
	}
}

// The in-memory listener (the desktop app running the agent inside itself) carries no credentials and
// only this process can connect, so everything is allowed whatever the peer-credential function says.
func TestAdminRoutesInMemory(t *testing.T) {
	ml := NewMemListener()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	h := NewHandler(newStub(), nil).SetAccess(Access{
		PeerCred: func(net.Conn) (*Peer, error) { return &Peer{UID: 4242, GID: 4242}, nil },
		IsAdmin:  func(Peer) bool { return false },
	})
	go func() { defer close(done); _ = Serve(ctx, ml, h) }()
	defer func() { cancel(); <-done; ml.Close() }()
	c := NewClientDialer(ml.Dial)
	if got := callRoutes(t, c); !sameCodes(got, allAllowed) {
		t.Fatalf("in memory: %v", got)
	}
}

func TestIsAdmin(t *testing.T) {
	const self, adminGID = 1000, 990
	groupID := func(name string) (uint32, bool) {
		if name == "printdock-admin" {
			return adminGID, true
		}
		return 0, false
	}
	userGroups := func(uid uint32) []uint32 {
		switch uid {
		case 1002:
			return []uint32{100, adminGID}
		case 1003:
			return []uint32{100, 991}
		}
		return nil
	}
	tests := []struct {
		name  string
		p     Peer
		self  int
		group string
		want  bool
	}{
		{"root", Peer{UID: 0, GID: 0}, self, "printdock-admin", true},
		{"the agent's own user", Peer{UID: self, GID: self}, self, "printdock-admin", true},
		{"admin group as primary group", Peer{UID: 1001, GID: adminGID}, self, "printdock-admin", true},
		{"admin group as supplementary group", Peer{UID: 1002, GID: 1002}, self, "printdock-admin", true},
		{"another user", Peer{UID: 1003, GID: 1003}, self, "printdock-admin", false},
		{"admin group that does not exist", Peer{UID: 1002, GID: 1002}, self, "nosuchgroup", false},
		{"no admin group", Peer{UID: 1002, GID: adminGID}, self, "-", false},
		{"agent uid unknown (-1)", Peer{UID: 4294967295}, -1, "-", false},
	}
	for _, tt := range tests {
		if got := isAdmin(tt.p, tt.self, tt.group, groupID, userGroups); got != tt.want {
			t.Errorf("%s: isAdmin(%+v) = %v, want %v", tt.name, tt.p, got, tt.want)
		}
	}
}
