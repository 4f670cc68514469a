package httpx

import (
	"sync"
	"time"
)

// FailureLimiter counts failed authentications per key (a remote address) in a token bucket: each failure
// takes a token, tokens come back at Rate per second up to Burst. When a key's bucket is empty, Allow
// refuses it — even with a correct secret, so guessing stays slow — until a token is back. Other keys are
// never affected, and successes cost nothing.
type FailureLimiter struct {
	rate  float64 // tokens per second
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	sweepAt time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

// maxBuckets bounds the limiter's memory; beyond it, refilled buckets are dropped first.
const maxBuckets = 100_000

// NewFailureLimiter returns a limiter allowing burst failures at once and perMinute more each minute.
func NewFailureLimiter(perMinute, burst int) *FailureLimiter {
	if perMinute <= 0 {
		perMinute = 10
	}
	if burst <= 0 {
		burst = 20
	}
	return &FailureLimiter{
		rate:    float64(perMinute) / 60,
		burst:   float64(burst),
		now:     time.Now,
		buckets: make(map[string]*bucket),
	}
}

// SetClock replaces the limiter's clock (tests).
func (l *FailureLimiter) SetClock(now func() time.Time) { l.mu.Lock(); l.now = now; l.mu.Unlock() }

func (l *FailureLimiter) refill(b *bucket, now time.Time) {
	if d := now.Sub(b.at).Seconds(); d > 0 {
		b.tokens += d * l.rate
		if b.tokens > l.burst {
			b.tokens = l.burst
		}
	}
	b.at = now
}

// Allow reports whether key may attempt to authenticate now; when not, it also returns how long until it
// may.
func (l *FailureLimiter) Allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		return true, 0
	}
	now := l.now()
	l.refill(b, now)
	if b.tokens >= 1 {
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// Fail records a failed authentication from key.
func (l *FailureLimiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxBuckets || now.After(l.sweepAt) {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	l.refill(b, now)
	b.tokens--
	if b.tokens < 0 {
		b.tokens = 0
	}
}

// sweep drops buckets that have refilled completely (they hold no information).
func (l *FailureLimiter) sweep(now time.Time) {
	l.sweepAt = now.Add(time.Minute)
	for k, b := range l.buckets {
		l.refill(b, now)
		if b.tokens >= l.burst {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= maxBuckets { // still full: an address flood; forget the oldest half arbitrarily
		n := 0
		for k := range l.buckets {
			delete(l.buckets, k)
			if n++; n >= maxBuckets/2 {
				break
			}
		}
	}
}

// Len returns how many keys have a partly used bucket (tests, metrics).
func (l *FailureLimiter) Len() int { l.mu.Lock(); defer l.mu.Unlock(); return len(l.buckets) }
