package portal

import (
	"net/netip"
	"strings"
	"sync"
	"time"

	"printdock/server/httpx"
)

// LoginLimits bound sign-in attempts. Every attempt is counted before its password is checked (a
// correct password gives the count back), so parallel requests cannot all be checked against the same
// remaining allowance:
//
//   - PerAccount attempts for one e-mail address from one client address (IPv6: its /64) within Window
//     lock that account for that address only, until Lockout has passed. A guesser elsewhere cannot lock
//     the owner out.
//   - PerAddress attempts from one client address within Window lock the address for every account.
//   - At most InFlightPerAccount sign-ins for one e-mail address (from anywhere) and InFlightPerAddress
//     from one client address are checked at a time; more answer 429 at once.
//
// Refused attempts get 429 with Retry-After and cost no password hashing.
type LoginLimits struct {
	PerAccount         int
	PerAddress         int
	Window             time.Duration
	Lockout            time.Duration
	InFlightPerAccount int
	InFlightPerAddress int
}

// DefaultLoginLimits are used for zero fields of Options.Login.
var DefaultLoginLimits = LoginLimits{PerAccount: 5, PerAddress: 20, Window: 15 * time.Minute,
	Lockout: 15 * time.Minute, InFlightPerAccount: 2, InFlightPerAddress: 4}

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
	if l.InFlightPerAccount > 0 {
		d.InFlightPerAccount = l.InFlightPerAccount
	}
	if l.InFlightPerAddress > 0 {
		d.InFlightPerAddress = l.InFlightPerAddress
	}
	return d
}

// bucket counts the attempts of one key (an account at an address, or an address) in a window.
type bucket struct {
	attempts    int // failed or still being checked
	first       time.Time
	lockedUntil time.Time
}

type limiter struct {
	mu       sync.Mutex
	lim      LoginLimits
	b        map[string]*bucket
	inFlight map[string]int
	nowFunc  func() time.Time
}

const maxBuckets = 100_000

// inFlightRetry is the Retry-After of an attempt refused because others are being checked.
const inFlightRetry = time.Second

func newLimiter(l LoginLimits) *limiter {
	return &limiter{lim: l, b: make(map[string]*bucket), inFlight: make(map[string]int), nowFunc: time.Now}
}

func normEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// addrPart groups IPv6 addresses by /64, like the API's limiter (one host usually owns a whole /64).
func addrPart(addr string) string {
	if a, err := netip.ParseAddr(addr); err == nil {
		return httpx.LimitKey(a.Unmap())
	}
	return addr
}

// pairKey counts one account's failures from one address; addressKey one address's; accountKey is the
// in-flight key of an account.
func pairKey(email, addr string) string { return "pair:" + addrPart(addr) + "|" + normEmail(email) }
func addressKey(addr string) string     { return "addr:" + addrPart(addr) }
func accountKey(email string) string    { return "acct:" + normEmail(email) }

// attempt is one admitted sign-in attempt; end must be called once.
type attempt struct {
	l                      *limiter
	pair, addr, acct       string
	pairBucket, addrBucket *bucket
	addrLocked             bool // this attempt's count locked the address
	done                   bool
}

// begin admits a sign-in attempt for email from addr, counting it at once. When refused it returns
// nil and how long to wait.
func (l *limiter) begin(email, addr string) (*attempt, time.Duration) {
	now := l.nowFunc()
	a := &attempt{l: l, pair: pairKey(email, addr), addr: addressKey(addr), acct: accountKey(email)}
	l.mu.Lock()
	defer l.mu.Unlock()
	var wait time.Duration
	for _, k := range []string{a.pair, a.addr} {
		if b, ok := l.b[k]; ok {
			l.refresh(b, now)
			if d := b.lockedUntil.Sub(now); d > wait {
				wait = d
			}
		}
	}
	if wait > 0 {
		return nil, wait
	}
	if l.inFlight[a.acct] >= l.lim.InFlightPerAccount || l.inFlight[a.addr] >= l.lim.InFlightPerAddress {
		return nil, inFlightRetry
	}
	if len(l.b) >= maxBuckets {
		l.gcLocked(now)
	}
	a.pairBucket, _ = l.count(a.pair, l.lim.PerAccount, now)
	a.addrBucket, a.addrLocked = l.count(a.addr, l.lim.PerAddress, now)
	l.inFlight[a.acct]++
	l.inFlight[a.addr]++
	return a, 0
}

// refresh starts a new window when the lock or the window has passed.
func (l *limiter) refresh(b *bucket, now time.Time) {
	if !b.lockedUntil.IsZero() {
		if now.Before(b.lockedUntil) {
			return
		}
		*b = bucket{first: now}
		return
	}
	if now.Sub(b.first) > l.lim.Window {
		*b = bucket{first: now}
	}
}

// count adds one attempt to k's bucket and reports whether that locked it.
func (l *limiter) count(k string, max int, now time.Time) (*bucket, bool) {
	b, ok := l.b[k]
	if !ok {
		b = &bucket{first: now}
		l.b[k] = b
	}
	l.refresh(b, now)
	b.attempts++
	if b.attempts >= max && b.lockedUntil.IsZero() {
		b.lockedUntil = now.Add(l.lim.Lockout)
		return b, true
	}
	return b, false
}

// end finishes the attempt. A success gives its count back: the account's count at this address is
// cleared; the address keeps the others (one good password must not reset a guessing run against other
// accounts), and a lock this attempt caused is lifted.
func (a *attempt) end(success bool) {
	l := a.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if a.done {
		return
	}
	a.done = true
	for _, k := range []string{a.acct, a.addr} {
		if l.inFlight[k]--; l.inFlight[k] <= 0 {
			delete(l.inFlight, k)
		}
	}
	if !success {
		return
	}
	if l.b[a.pair] == a.pairBucket {
		delete(l.b, a.pair)
	}
	if b := a.addrBucket; l.b[a.addr] == b && b.attempts > 0 {
		b.attempts--
		if a.addrLocked && b.attempts < l.lim.PerAddress {
			b.lockedUntil = time.Time{}
		}
	}
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
