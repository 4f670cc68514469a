package server

// Serving: the HTTP server's settings, the TLS policy, and Serve with its graceful shutdown.
import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"printdock/server/certreload"
)

// MaxHeaderBytes bounds a request's headers (431 beyond).
const MaxHeaderBytes = 64 << 10

// HTTPServer returns the http.Server settings Serve uses (tests apply them to an httptest.Server): a
// header timeout and size limit, and a 30-second ReadTimeout for the whole request (headers and body), so
// a client trickling a body cannot hold a connection and its handler forever. The agent websocket clears
// the connection's deadlines before its upgrade (server/api), so the ReadTimeout never cuts a session.
// There is no WriteTimeout (hub writes have their own deadlines).
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second, // ≈ 280 KB/s at least for the largest job body
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// Listen says where and how to serve.
type Listen struct {
	Addr    string // host:port; default 127.0.0.1:8080
	TLSCert string
	TLSKey  string
	// CertCheckEvery is how often the certificate files are checked for a renewal (default 5 s); SIGHUP
	// reloads them at once. Established connections keep the certificate they started with.
	CertCheckEvery time.Duration
	InsecureHTTP   bool // allow plain HTTP on a non-loopback address (dangerous: secrets travel in clear)
}

// Check applies the TLS policy: plain HTTP only on a loopback address unless InsecureHTTP.
func (l Listen) Check() error {
	if (l.TLSCert == "") != (l.TLSKey == "") {
		return ErrTLSFlags
	}
	if l.TLSCert != "" || l.InsecureHTTP {
		return nil
	}
	if !IsLoopback(l.addr()) {
		return ErrInsecureListen
	}
	return nil
}

func (l Listen) addr() string {
	if l.Addr == "" {
		return DefaultListen
	}
	return l.Addr
}

// IsLoopback reports whether a listen address (host:port) binds only to loopback.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// Serve listens on l and serves until ctx ends, then shuts down gracefully: new connections are refused,
// agent sessions are closed with 4005, in-flight requests get up to 10 seconds. ready, when not nil, is
// called with the bound address once listening.
func (s *Server) Serve(ctx context.Context, l Listen, ready func(addr net.Addr)) error {
	if err := l.Check(); err != nil {
		return err
	}
	var tlsCfg *tls.Config
	if l.TLSCert != "" {
		rl, err := certreload.New(l.TLSCert, l.TLSKey, s.log)
		if err != nil {
			return fmt.Errorf("server: load TLS certificate: %w", err)
		}
		tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: rl.GetCertificate}
		every := l.CertCheckEvery
		if every <= 0 {
			every = 5 * time.Second
		}
		wctx, stop := context.WithCancel(ctx)
		defer stop()
		hup, unhook := reloadSignal()
		defer unhook()
		go rl.Watch(wctx, every, hup)
	}
	ln, err := net.Listen("tcp", l.addr())
	if err != nil {
		return fmt.Errorf("server: listen: %w", err)
	}
	ms, err := s.listenMetrics(ctx)
	if err != nil {
		ln.Close()
		return err
	}
	hs := s.HTTPServer()
	hs.TLSConfig = tlsCfg
	hs.BaseContext = func(net.Listener) context.Context { return context.WithoutCancel(ctx) }
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	s.log.Info("listening", "addr", ln.Addr().String(), "tls", tlsCfg != nil)
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		_ = ms.shutdown(context.Background())
		_ = s.Close()
		return fmt.Errorf("server: serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var herr error
	wg.Add(1)
	go func() { defer wg.Done(); herr = errors.Join(hs.Shutdown(sctx), ms.shutdown(sctx)) }()
	serr := s.Shutdown(sctx)
	wg.Wait()
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("server: serve: %w", err)
	}
	return errors.Join(herr, serr)
}
