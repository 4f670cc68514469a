package httpx

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// TrustedProxies are the addresses of reverse proxies (nginx, a load balancer) whose X-Forwarded-For,
// X-Forwarded-Proto and Forwarded headers are believed. From any other peer those headers are ignored,
// so a client cannot choose the address it is rate-limited and audited under.
type TrustedProxies []netip.Prefix

// ParseTrustedProxies parses CIDRs or single addresses ("127.0.0.1", "10.0.0.0/8", "::1").
func ParseTrustedProxies(specs []string) (TrustedProxies, error) {
	var out TrustedProxies
	for _, s := range specs {
		for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
			if p, err := netip.ParsePrefix(f); err == nil {
				out = append(out, p.Masked())
				continue
			}
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("httpx: trusted proxy %q: want an address or a CIDR such as 127.0.0.1/32", f)
			}
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return out, nil
}

// Contains reports whether a is one of the trusted proxies.
func (t TrustedProxies) Contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

type httpsKey struct{}

// IsHTTPS reports whether the client's request reached printdock over HTTPS: directly over TLS, or
// through a trusted proxy that said so (X-Forwarded-Proto: https or Forwarded: proto=https).
func IsHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	v, _ := r.Context().Value(httpsKey{}).(bool)
	return v
}

// RealClient makes the rest of the server see the original client behind trusted proxies: when the TCP
// peer is trusted, r.RemoteAddr becomes the address the proxies recorded (the right-most untrusted
// address of X-Forwarded-For, or of Forwarded's for= parameters) and IsHTTPS follows the forwarded
// protocol. Requests from other peers pass unchanged, their forwarding headers ignored.
//
// Every consumer of the client address — rate limits, sign-in lockout, the audit log, the request log —
// reads it through ClientAddr, so this one middleware moves them all.
func RealClient(trusted TrustedProxies, next http.Handler) http.Handler {
	if len(trusted) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer := ClientAddr(r)
		if !peer.IsValid() || !trusted.Contains(peer) {
			next.ServeHTTP(w, r)
			return
		}
		hops, proto := forwarded(r.Header)
		client := peer
		for i := len(hops) - 1; i >= 0; i-- {
			client = hops[i]
			if !trusted.Contains(client) {
				break
			}
		}
		r2 := r.Clone(r.Context())
		r2.RemoteAddr = netip.AddrPortFrom(client, 0).String()
		if strings.EqualFold(proto, "https") {
			r2 = r2.WithContext(context.WithValue(r2.Context(), httpsKey{}, true))
		}
		next.ServeHTTP(w, r2)
	})
}

// forwarded returns the client chain (left = original client) and the protocol the first proxy saw.
// RFC 7239 Forwarded wins over the X-Forwarded-* headers when present. Unparseable entries (obfuscated
// identifiers, "unknown") end the chain there, so they can never be taken for a real address.
func forwarded(h http.Header) (hops []netip.Addr, proto string) {
	if fw := h.Values("Forwarded"); len(fw) > 0 {
		for _, line := range fw {
			for _, elem := range strings.Split(line, ",") {
				for _, pair := range strings.Split(elem, ";") {
					k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
					if !ok {
						continue
					}
					v = strings.Trim(v, `"`)
					switch strings.ToLower(k) {
					case "for":
						hops = appendHop(hops, v)
					case "proto":
						if proto == "" {
							proto = v
						}
					}
				}
			}
		}
		return hops, proto
	}
	for _, line := range h.Values("X-Forwarded-For") {
		for _, f := range strings.Split(line, ",") {
			hops = appendHop(hops, strings.TrimSpace(f))
		}
	}
	if p := h.Get("X-Forwarded-Proto"); p != "" {
		proto, _, _ = strings.Cut(p, ",")
		proto = strings.TrimSpace(proto)
	}
	return hops, proto
}

// appendHop adds one forwarded address ("192.0.2.1", "[2001:db8::1]:4711", "192.0.2.1:80"); a value that
// is not an address resets the chain, so only what follows it (nearer to us) counts.
func appendHop(hops []netip.Addr, v string) []netip.Addr {
	v = strings.TrimSpace(v)
	if a, err := netip.ParseAddr(strings.Trim(v, "[]")); err == nil {
		return append(hops, a.Unmap())
	}
	if ap, err := netip.ParseAddrPort(v); err == nil {
		return append(hops, ap.Addr().Unmap())
	}
	return hops[:0]
}

// HSTS adds Strict-Transport-Security to every answer of a request that came over HTTPS (IsHTTPS), so
// browsers never fall back to plain HTTP for this host.
func HSTS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if IsHTTPS(r) {
			w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}
