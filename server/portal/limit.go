package portal

import (
	"net/netip"
	"strings"
	"sync"
	"time"

	"printdock/server/httpx"
)

// LoginLimits bound failed sign-ins. After PerAccount failures for one e-mail address, or PerAddress
// failures from one client address, within Window, further attempts for that account or from that address
// are refused without checking the password until Lockout has passed.
type LoginLimits struct {
	PerAccount int
	PerAddress int
	Window     time.Duration
	Lockout    time.Duration
}

// DefaultLoginLimits are used for zero fields of Options.Login.
var DefaultLoginLimits = LoginLimits{PerAccount: 5, PerAddress: 20, Window: 15 * time.Minute, Lockout: 15 * time.Minute}

func (l LoginLimits) withDefaults() LoginLimits {
	d := DefaultLoginLimits
	if l.PerAccount > 0 {
		d.PerAccount = l.PerAccount
	}
	if l.PerAddress > 0 {
		d.PerAddress = l.PerAddress
	}
	if l.Window > 0 {
		d.Window = l.Window
	}
	if l.Lockout > 0 {
		d.Lockout = l.Lockout
	}
	return d
}

type bucket struct {
	failures    int
	first       time.Time
	lockedUntil time.Time
}

type limiter struct {
	mu      sync.Mutex
	lim     LoginLimits
	b       map[string]*bucket
	nowFunc func() time.Time
}

const maxBuckets = 100_000

func newLimiter(l LoginLimits) *limiter {
	return &limiter{lim: l, b: make(map[string]*bucket), nowFunc: time.Now}
}

func accountKey(email string) string { return "acct:" + strings.ToLower(strings.TrimSpace(email)) }

// addressKey groups IPv6 addresses by /64, like the API's limiter (one host usually owns a whole /64).
func addressKey(addr string) string {
	if a, err := netip.ParseAddr(addr); err == nil {
		return "addr:" + httpx.LimitKey(a.Unmap())
	}
	return "addr:" + addr
}

// locked reports whether sign-in for email from addr is refused now, and until when.
func (l *limiter) locked(email, addr string) (bool, time.Time) {
	now := l.nowFunc()
	l.mu.Lock()
	defer l.mu.Unlock()
	var until time.Time
	for _, k := range []string{accountKey(email), addressKey(addr)} {
		if b, ok := l.b[k]; ok && now.Before(b.lockedUntil) && b.lockedUntil.After(until) {
			until = b.lockedUntil
		}
	}
	return !until.IsZero(), until
}

// fail records a failed sign-in.
func (l *limiter) fail(email, addr string) {
	now := l.nowFunc()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.b) >= maxBuckets {
		l.gcLocked(now)
	}
	l.failLocked(accountKey(email), l.lim.PerAccount, now)
	l.failLocked(addressKey(addr), l.lim.PerAddress, now)
}

func (l *limiter) failLocked(k string, max int, now time.Time) {
	b, ok := l.b[k]
	if !ok || now.Sub(b.first) > l.lim.Window {
		b = &bucket{first: now}
		l.b[k] = b
	}
	b.failures++
	if b.failures >= max {
		b.lockedUntil = now.Add(l.lim.Lockout)
		b.failures = 0
		b.first = now
	}
}

// succeed clears the account's failures (the address keeps its count: one good password must not
// reset a guessing run against other accounts).
func (l *limiter) succeed(email string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.b, accountKey(email))
}

func (l *limiter) gcLocked(now time.Time) {
	for k, b := range l.b {
		if now.After(b.lockedUntil) && now.Sub(b.first) > l.lim.Window {
			delete(l.b, k)
		}
	}
	if len(l.b) >= maxBuckets { // still full under attack: forget the oldest half rather than grow
		n := 0
		for k := range l.b {
			delete(l.b, k)
			if n++; n > maxBuckets/2 {
				break
			}
		}
	}
}
