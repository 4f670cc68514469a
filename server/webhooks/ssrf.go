package webhooks

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrForbiddenAddress is a webhook address the server refuses to reach: private, loopback, link-local,
// multicast or unspecified (unless --webhooks-allow-private).
var ErrForbiddenAddress = errors.New("address not allowed for webhooks (private, loopback or link-local; see --webhooks-allow-private)")

// forbidden lists the ranges beyond what netip.Addr's predicates catch.
var forbidden = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64 of any IPv4 address
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4 (embeds any IPv4 address)
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001::/32"),       // Teredo (embeds an IPv4 address)
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated
}

// AllowedAddr reports whether a webhook may connect to ip: a public unicast address.
func AllowedAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range forbidden {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// checkHost refuses a literal address that AllowedAddr refuses (host names are checked when dialled).
func checkHost(host string) error {
	if ip, err := netip.ParseAddr(host); err == nil && !AllowedAddr(ip) {
		return ErrForbiddenAddress
	}
	return nil
}

// dialControl checks the address a connection is about to be made to — after name resolution, for
// every connection, so a name that resolves (or later rebinds) to a private address is refused too.
func dialControl(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhooks: dial %s: %w", address, err)
	}
	if !AllowedAddr(ap.Addr()) {
		return fmt.Errorf("webhooks: dial %s: %w", address, ErrForbiddenAddress)
	}
	return nil
}

// MaxResponse is how much of a receiver's answer is read (and then discarded).
const MaxResponse = 64 << 10

// newClient returns the HTTP client that sends webhooks: no proxy, no redirects followed (a 3xx answer is
// a failed attempt), an overall timeout, and — unless allowPrivate — only public addresses.
func newClient(allowPrivate bool, timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: min(timeout, 5*time.Second), KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = dialControl
	}
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            d.DialContext,
		TLSHandshakeTimeout:    min(timeout, 5*time.Second),
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: 16 << 10,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		ForceAttemptHTTP2:      true,
	}
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
