package agent

import (
	"math/rand/v2"
	"time"
)

// Backoff is the reconnect policy: exponential backoff with full jitter. The n-th consecutive failed
// attempt (n from 0) waits a uniformly random time in [0, min(Max, Base·2ⁿ)]. After a session that stayed
// connected for at least HealthyAfter the count starts again at 0.
type Backoff struct {
	Base         time.Duration // default 500ms
	Max          time.Duration // default 30s
	HealthyAfter time.Duration // default 30s
	// Rand returns a uniformly random int64 in [0, n); nil means math/rand/v2. Tests inject it.
	Rand func(n int64) int64
}

// DefaultBackoff is the policy used when Config.Backoff is zero.
var DefaultBackoff = Backoff{Base: 500 * time.Millisecond, Max: 30 * time.Second, HealthyAfter: 30 * time.Second}

func (b Backoff) withDefaults() Backoff {
	if b.Base <= 0 {
		b.Base = DefaultBackoff.Base
	}
	if b.Max <= 0 {
		b.Max = DefaultBackoff.Max
	}
	if b.Max < b.Base {
		b.Max = b.Base
	}
	if b.HealthyAfter <= 0 {
		b.HealthyAfter = DefaultBackoff.HealthyAfter
	}
	return b
}

// Ceiling is the upper bound of the wait before attempt n (from 0): min(Max, Base·2ⁿ).
func (b Backoff) Ceiling(n int) time.Duration {
	b = b.withDefaults()
	d := b.Base
	for i := 0; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// Delay is the wait before attempt n: a uniformly random duration in [0, Ceiling(n)].
func (b Backoff) Delay(n int) time.Duration {
	c := int64(b.Ceiling(n))
	r := b.Rand
	if r == nil {
		r = rand.Int64N
	}
	return time.Duration(r(c + 1))
}
