package agent

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"printdock/protocol"
)

// Errors about the server address.
var (
	// ErrInsecureURL: ws:// or http:// to a host that is not loopback, without Insecure.
	ErrInsecureURL = errors.New("refusing an unencrypted connection to a server that is not on this machine")
	// ErrBadURL: the server address cannot be used.
	ErrBadURL = errors.New("bad server address")
)

// AgentURL turns a server address (https://host, wss://host/api/v1/agent/ws, http://127.0.0.1:8080, or a
// bare host name, taken as https) into the websocket endpoint URL. It refuses ws:// and http:// to a
// host that is not loopback unless insecure.
func AgentURL(server string, insecure bool) (string, error) {
	server = strings.TrimSpace(server)
	if server == "" {
		return "", fmt.Errorf("agent: %w: no server address (use login --server URL)", ErrBadURL)
	}
	if !strings.Contains(server, "://") {
		server = "https://" + server
	}
	u, err := url.Parse(server)
	if err != nil {
		return "", fmt.Errorf("agent: %w: %v", ErrBadURL, err)
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", fmt.Errorf("agent: %w: %q has no host", ErrBadURL, server)
	}
	if u.User != nil {
		return "", fmt.Errorf("agent: %w: user names or passwords in the address are not supported", ErrBadURL)
	}
	switch strings.ToLower(u.Scheme) {
	case "https", "wss":
		u.Scheme = "wss"
	case "http", "ws":
		u.Scheme = "ws"
		if !insecure && !isLoopback(u.Hostname()) {
			return "", fmt.Errorf("agent: %w (%s): use https:// or pass --insecure", ErrInsecureURL, u.Host)
		}
	default:
		return "", fmt.Errorf("agent: %w: scheme %q (want https, wss, http or ws)", ErrBadURL, u.Scheme)
	}
	u.RawQuery, u.Fragment = "", ""
	p := strings.TrimSuffix(u.Path, "/")
	if !strings.HasSuffix(p, protocol.Path) {
		p += protocol.Path
	}
	u.Path, u.RawPath = p, ""
	return u.String(), nil
}

// isLoopback reports whether host is on this machine for certain: a literal loopback address
// (127.0.0.0/8, ::1) or exactly "localhost". Other names, "*.localhost" included, go through the
// resolver (DNS) and may point anywhere, so they are not loopback.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	ip = ip.WithZone("").Unmap()
	return ip.Is4() && ip.As4()[0] == 127 || ip == netip.IPv6Loopback()
}

// proxyForTLS returns a Proxy function for http.Transport that uses env (the environment's
// HTTPS_PROXY/NO_PROXY) for TLS requests only. A plain request (ws://, http://) always goes direct:
// its bearer secret is in clear text and must not travel to a proxy on another machine.
func proxyForTLS(env func(*http.Request) (*url.URL, error)) func(*http.Request) (*url.URL, error) {
	return func(r *http.Request) (*url.URL, error) {
		if r.URL == nil || !strings.EqualFold(r.URL.Scheme, "https") {
			return nil, nil
		}
		return env(r)
	}
}

// newHTTPClient is the HTTP client for the websocket handshake: proxies from the environment
// (HTTPS_PROXY, NO_PROXY) for wss:// only — plain ws:// never uses a proxy —, the system's CAs plus
// caFile, HTTP/1.1, no redirects (a redirect would carry the secret elsewhere).
func newHTTPClient(caFile string) (*http.Client, error) {
	return newHTTPClientProxy(caFile, http.ProxyFromEnvironment)
}

// newHTTPClientProxy is newHTTPClient with env in place of http.ProxyFromEnvironment (tests).
func newHTTPClientProxy(caFile string, env func(*http.Request) (*url.URL, error)) (*http.Client, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("agent: read CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("agent: CA file %s holds no PEM certificate", caFile)
		}
		tc.RootCAs = pool
	}
	tr := &http.Transport{
		Proxy:                 proxyForTLS(env),
		DialContext:           (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tc,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		MaxIdleConns:          1,
		IdleConnTimeout:       30 * time.Second,
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}, nil
}
