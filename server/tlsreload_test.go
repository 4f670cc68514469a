package server_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coder/websocket"

	"printdock/internal/testenv"
	"printdock/protocol"
	"printdock/server"
	"printdock/server/keys"
	"printdock/server/servertest"
)

// TestCertificateReloadKeepsAgents: printdock-server serving TLS itself gets a renewed certificate on
// disk; new connections are served the new one (after a file change, and after SIGHUP), while an agent
// connected before stays connected and answers pings on its old TLS session.
func TestCertificateReloadKeepsAgents(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	pool := x509.NewCertPool()
	writeCert := func(serial int64) {
		c, k := selfSigned(t, serial)
		pool.AppendCertsFromPEM(c)
		// Write the key first, then the certificate, as a renewal would replace them.
		must(t, os.WriteFile(keyFile+".tmp", k, 0o600))
		must(t, os.WriteFile(certFile+".tmp", c, 0o600))
		must(t, os.Rename(keyFile+".tmp", keyFile))
		must(t, os.Rename(certFile+".tmp", certFile))
	}
	writeCert(1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := server.New(ctx, server.Config{DataDir: filepath.Join(dir, "data"),
		KeysOptions: []keys.Option{keys.WithPasswordParams(servertest.CheapPasswords)}})
	must(t, err)
	res, _, err := srv.Bootstrap(ctx, "admin@example.com")
	must(t, err)
	addrc := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() {
		served <- srv.Serve(ctx, server.Listen{Addr: "127.0.0.1:0", TLSCert: certFile, TLSKey: keyFile,
			CertCheckEvery: 20 * time.Millisecond}, func(a net.Addr) { addrc <- a })
	}()
	addr := (<-addrc).String()
	t.Cleanup(func() { cancel(); <-served })

	serial := func() int64 {
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
		if err != nil {
			return -1
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
	}
	if got := serial(); got != 1 {
		t.Fatalf("serving serial %d, want 1", got)
	}

	// An agent connects with the first certificate.
	admin, err := srv.Keys.Authenticate(ctx, res.AdminAPIKey, "", "")
	must(t, err)
	created, err := srv.Keys.CreateClientKey(ctx, keys.Actor{Principal: admin}, keys.NewClientKey{Description: "TLS reload"})
	must(t, err)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	conn, _, err := websocket.Dial(ctxT(t), "wss://"+addr+protocol.Path, &websocket.DialOptions{
		HTTPClient: hc, HTTPHeader: http.Header{"Authorization": {"Bearer " + created.Secret}}})
	must(t, err)
	defer conn.CloseNow()
	send := func(m protocol.Message) {
		b, _ := protocol.Encode(m)
		must(t, conn.Write(ctxT(t), websocket.MessageText, b))
	}
	expect := func(typ string) {
		t.Helper()
		for {
			_, b, err := conn.Read(ctxT(t))
			if err != nil {
				t.Fatalf("waiting for %s: %v", typ, err)
			}
			m, err := protocol.Decode(b)
			must(t, err)
			if m.MessageType() == typ {
				return
			}
		}
	}
	send(protocol.Hello{ProtocolVersion: protocol.Version, InstallationID: servertest.NewInstallationID()})
	expect(protocol.TypeWelcome)

	writeCert(2) // renewed on disk
	testenv.WaitFor(t, "the renewed certificate on new connections", func() bool { return serial() == 2 })
	send(protocol.Ping{Nonce: 1})
	expect(protocol.TypePong)

	// A second renewal: the same session still stands afterwards.
	writeCert(3)
	testenv.WaitFor(t, "the second renewal on new connections", func() bool { return serial() == 3 })
	send(protocol.Ping{Nonce: 2})
	expect(protocol.TypePong)
}
