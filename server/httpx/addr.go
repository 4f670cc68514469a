package httpx

import (
	"net"
	"net/http"
	"net/netip"
)

// ClientAddr returns the address of the peer that sent r (the TCP peer; proxy headers are not trusted).
func ClientAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err == nil {
		return ap.Addr().Unmap()
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// ClientIP is ClientAddr as a string, for logs and the audit log ("" when unknown).
func ClientIP(r *http.Request) string {
	a := ClientAddr(r)
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// LimitKey is the rate-limiting key for an address: the address itself for IPv4, its /64 for IPv6 (one
// host usually owns a whole /64).
func LimitKey(a netip.Addr) string {
	if !a.IsValid() {
		return "unknown"
	}
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return a.String()
	}
	return p.String()
}
