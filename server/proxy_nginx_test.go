package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"printdock/internal/testenv"
	"printdock/protocol"
	"printdock/server"
	"printdock/server/keys"
	"printdock/server/servertest"
)

// nginxProxy is a real nginx from Debian terminating TLS (a self-signed certificate made here) in front of
// a printdock server, as the packaged deployment runs it: printdock-server on 127.0.0.1 behind a proxy that
// sets X-Forwarded-For and X-Forwarded-Proto.
type nginxProxy struct {
	URL  string
	pool *x509.CertPool
}

func startNginx(t *testing.T, upstream string) *nginxProxy {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		bin = "/usr/sbin/nginx"
		_, err = os.Stat(bin)
	}
	testenv.RequireReal(t, "nginx (Debian package nginx)", err)
	dir := t.TempDir()
	certPEM, keyPEM := selfSigned(t, 1)
	must(t, os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "key.pem"), keyPEM, 0o600))
	port := freePort(t)
	conf := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
error_log %[1]s/error.log info;
pid %[1]s/nginx.pid;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  server {
    listen 127.0.0.1:%[2]d ssl;
    ssl_certificate %[1]s/cert.pem;
    ssl_certificate_key %[1]s/key.pem;
    location / {
      proxy_pass %[3]s;
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
    }
  }
}
`, dir, port, upstream)
	must(t, os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o600))
	cmd := exec.Command(bin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", filepath.Join(dir, "nginx.conf"))
	var out testenv.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	testenv.WaitFor(t, "nginx to listen on "+addr, func() bool {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return true
		}
		if cmd.ProcessState != nil {
			b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx exited: %s %s", out.String(), b)
		}
		return false
	})
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return &nginxProxy{URL: "https://" + addr, pool: pool}
}

// client returns an HTTP client that reaches the proxy from the loopback address from (127.0.0.x), with
// its own cookie jar and no automatic redirects.
func (p *nginxProxy) client(t *testing.T, from net.IP) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Jar:     jar,
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DialContext:     (&net.Dialer{LocalAddr: &net.TCPAddr{IP: from}}).DialContext,
			TLSClientConfig: &tls.Config{RootCAs: p.pool},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn posts the portal's sign-in form through the proxy and returns the answer.
func (p *nginxProxy) signIn(t *testing.T, c *http.Client, email, password string) *http.Response {
	t.Helper()
	resp, err := c.Get(p.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token on the sign-in page (%d)", resp.StatusCode)
	}
	form := url.Values{"csrf": {string(m[1])}, "email": {email}, "password": {password}, "next": {"/keys"}}
	resp, err = c.PostForm(p.URL+"/login", form)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestBehindNginx: through a real TLS-terminating nginx, the lockout is per real client (an attacker's
// 25 failed sign-ins lock the attacker's address only; the admin signs in from another), audit rows carry
// the real address, the session cookie is Secure and __Host-, HSTS is sent, guessing API keys writes at
// most one audit row per address and minute, and agents connect through it.
func TestBehindNginx(t *testing.T) {
	s := servertest.New(t, servertest.Options{Config: func(c *server.Config) {
		c.TrustedProxies = []string{"127.0.0.1/32"}
	}})
	px := startNginx(t, s.URL)
	attackerIP, adminIP := net.IPv4(127, 0, 0, 2), net.IPv4(127, 0, 0, 3)
	attacker := px.client(t, attackerIP)

	var locked bool
	for i := range 25 {
		resp := px.signIn(t, attacker, fmt.Sprintf("nobody%d@example.com", i), "guess")
		if resp.Header.Get("Strict-Transport-Security") == "" {
			t.Fatalf("no HSTS through the TLS proxy")
		}
		switch resp.StatusCode {
		case http.StatusUnauthorized:
		case http.StatusTooManyRequests:
			locked = true
		default:
			t.Fatalf("failed sign-in %d: %d", i, resp.StatusCode)
		}
	}
	if !locked {
		t.Fatal("25 failed sign-ins from one address never locked it")
	}
	// The owner, from another address, with the right password: signed in, Secure __Host- cookie.
	admin := px.client(t, adminIP)
	resp := px.signIn(t, admin, s.AdminEmail, s.AdminPassword)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/keys" {
		t.Fatalf("admin sign-in from another address: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if strings.HasSuffix(c.Name, "printdock_session") {
			session = c
		}
	}
	if session == nil || session.Name != "__Host-printdock_session" || !session.Secure || !session.HttpOnly {
		t.Fatalf("session cookie through the TLS proxy = %+v, want Secure __Host-", session)
	}

	// Unknown API keys from the attacker: 401, then 429; the admin's key from its address still works.
	for range 40 {
		bad, _ := protocol.NewSecret(protocol.KindUser)
		req, _ := http.NewRequest(http.MethodGet, px.URL+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+bad)
		r, err := attacker.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusUnauthorized && r.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("bad bearer: %d", r.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, px.URL+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+s.AdminKey)
	if r, err := admin.Do(req); err != nil || r.StatusCode != http.StatusOK {
		t.Fatalf("admin key from its own address: %v %v", r, err)
	}

	// Audit: the failures carry the attacker's real address, at most one row per minute for each kind of
	// attempt (sign-in, bearer) — 65 attempts, not 65 rows.
	entries, err := s.S.Keys.Audit(context.Background(), keys.Actor{Principal: keys.Principal{
		PortalID: s.PortalID, Role: keys.RoleAdmin, Kind: keys.KindUser}}, keys.AuditFilter{Action: keys.ActionAuthFailed})
	if err != nil {
		t.Fatal(err)
	}
	var fromAttacker int
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e.RemoteAddr, "127.0.0.2"):
			fromAttacker++
		case strings.HasPrefix(e.RemoteAddr, "127.0.0.1"):
			t.Errorf("audit row with the proxy's address: %+v", e)
		}
	}
	if fromAttacker > 4 {
		t.Errorf("%d auth.failed rows from the attacker's address for 65 attempts; want aggregation per minute", fromAttacker)
	}

	// An agent connects through the proxy (websocket upgrade over TLS) and is welcomed.
	good := s.CreatePrintClient(t, "behind nginx")
	ws := "wss" + strings.TrimPrefix(px.URL, "https") + protocol.Path
	conn, _, err := websocket.Dial(ctxT(t), ws, &websocket.DialOptions{
		HTTPClient: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: px.pool}}},
		HTTPHeader: http.Header{"Authorization": {"Bearer " + good.Secret}},
	})
	if err != nil {
		t.Fatalf("agent through nginx: %v", err)
	}
	defer conn.CloseNow()
	hello, _ := protocol.Encode(protocol.Hello{ProtocolVersion: protocol.Version, InstallationID: servertest.NewInstallationID()})
	must(t, conn.Write(ctxT(t), websocket.MessageText, hello))
	_, b, err := conn.Read(ctxT(t))
	must(t, err)
	if m, err := protocol.Decode(b); err != nil || m.MessageType() != protocol.TypeWelcome {
		t.Fatalf("after hello through nginx: %v %v", m, err)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func selfSigned(t *testing.T, serial int64) (certPEM, keyPEM []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "printdock test proxy"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	must(t, err)
	kd, err := x509.MarshalECPrivateKey(k)
	must(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
