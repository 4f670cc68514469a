package keys

import (
	"context"
	"slices"
	"sync"
	"time"

	"printdock/protocol"
)

// Verified-credential cache. Print client secrets (pdc_) and personal API keys (pdu_) are presented on
// every agent connect and every REST request; a store lookup costs tens of microseconds, a map lookup well
// under one. So Authenticate keeps the Principal of each secret that verified, keyed by the secret's
// peppered hash (never the secret), for at most the cache's TTL.
//
// Revocation is not weakened: every change that ends a key's validity (rotate, revoke, deactivate, delete,
// a user deleted or their role changed) is published as an Event, and the broker drops the credential's
// entries before the change's call returns (events.go). Other replicas drop them when the change's
// notification arrives, alongside logging their sessions out (server/replica.go: Invalidate, and
// InvalidateAll when notifications may have been lost). The TTL is the safety net for a change that no
// notification announced. Only successes are cached: an unknown, inactive or revoked secret always takes
// the store path (and its failure audit and rate limit). A lookup that began before an invalidation is
// never cached (epoch), so a row read just before a revoke cannot outlive the revoke's notification.
// Shared secrets (pds_) and OAuth tokens (pdt_) are not cached.

// Defaults of WithAuthCache.
const (
	DefaultAuthCacheTTL  = 30 * time.Second
	DefaultAuthCacheSize = 50_000
)

// WithAuthCache sets the verified-credential cache's TTL and size bound; ttl <= 0 or size <= 0 turns
// the cache off (every Authenticate reads the store).
func WithAuthCache(ttl time.Duration, size int) Option {
	return func(s *Service) { s.auth.ttl, s.auth.max = ttl, size }
}

// authCache maps secret hashes to verified principals. The zero value is off; New sets the defaults.
type authCache struct {
	ttl time.Duration
	max int

	mu      sync.RWMutex
	epoch   uint64               // bumped by every invalidation
	byHash  map[string]authEntry // secret hash → entry
	byOwner map[string][]string  // credential ID and (personal API keys) user ID → hashes
}

type authEntry struct {
	p        Principal
	deadline time.Time // TTL end, or the principal's own expiry if sooner
}

func (c *authCache) on() bool { return c.ttl > 0 && c.max > 0 }

// get returns the cached principal of hash h, if present and not past its deadline at now.
func (c *authCache) get(h string, now time.Time) (Principal, bool) {
	c.mu.RLock()
	e, ok := c.byHash[h]
	c.mu.RUnlock()
	if !ok || !now.Before(e.deadline) {
		return Principal{}, false
	}
	return e.p, true
}

// begin returns the epoch a lookup starts in, for put.
func (c *authCache) begin() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.epoch
}

// put caches p under h unless an invalidation happened since begin returned epoch.
func (c *authCache) put(h string, p Principal, epoch uint64, now time.Time) {
	deadline := now.Add(c.ttl)
	for _, end := range []time.Time{p.ExpiresAt, p.graceEnd} {
		if !end.IsZero() && end.Before(deadline) {
			deadline = end
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch {
		return
	}
	if c.byHash == nil {
		c.byHash, c.byOwner = make(map[string]authEntry), make(map[string][]string)
	}
	if _, ok := c.byHash[h]; !ok && len(c.byHash) >= c.max {
		c.shrinkLocked(now)
	}
	c.byHash[h] = authEntry{p: p, deadline: deadline}
	for _, o := range owners(p) {
		if !slices.Contains(c.byOwner[o], h) {
			c.byOwner[o] = append(c.byOwner[o], h)
		}
	}
}

// shrinkLocked drops expired entries and, if the cache is still at least 7/8 full, arbitrary others
// until it is 7/8 full (the map's iteration order picks them), so a full cache costs one sweep per
// max/8 insertions.
func (c *authCache) shrinkLocked(now time.Time) {
	for h, e := range c.byHash {
		if !now.Before(e.deadline) {
			c.dropLocked(h, e)
		}
	}
	for h, e := range c.byHash {
		if len(c.byHash) < c.max-c.max/8 {
			break
		}
		c.dropLocked(h, e)
	}
}

func (c *authCache) dropLocked(h string, e authEntry) {
	delete(c.byHash, h)
	for _, o := range owners(e.p) {
		l := c.byOwner[o]
		for i, x := range l {
			if x == h {
				l = append(l[:i], l[i+1:]...)
				break
			}
		}
		if len(l) == 0 {
			delete(c.byOwner, o)
		} else {
			c.byOwner[o] = l
		}
	}
}

// forget drops every entry of the credentials or users ids, and makes lookups in flight uncacheable.
func (c *authCache) forget(ids []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	for _, id := range ids {
		for _, h := range append([]string(nil), c.byOwner[id]...) {
			if e, ok := c.byHash[h]; ok {
				c.dropLocked(h, e)
			}
		}
	}
}

// forgetAll empties the cache.
func (c *authCache) forgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	c.byHash, c.byOwner = nil, nil
}

func (c *authCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.byHash)
}

// owners are the IDs whose change invalidates p: its credential, and for a personal API key its user.
func owners(p Principal) []string {
	if p.Kind == KindUser && p.UserID != "" && p.UserID != p.CredentialID {
		return []string{p.CredentialID, p.UserID}
	}
	return []string{p.CredentialID}
}

// cachedAuthKey is authKey behind the cache.
func (s *Service) cachedAuthKey(ctx context.Context, kind protocol.SecretKind, h, remote string) (Principal, error) {
	if !s.auth.on() {
		return s.authKey(ctx, kind, h, remote)
	}
	if p, ok := s.auth.get(h, s.clock()); ok {
		return p, nil
	}
	epoch := s.auth.begin()
	p, err := s.authKey(ctx, kind, h, remote)
	if err == nil {
		s.auth.put(h, p, epoch, s.clock())
	}
	return p, err
}

// Invalidate drops the cached verifications of ev's credentials (and users). Replicas call it for every
// key change another replica announces, before logging sessions out; this replica's own changes drop
// them as they are published.
func (s *Service) Invalidate(ev Event) { s.auth.forget(ev.CredentialIDs) }

// InvalidateAll drops every cached verification: replicas call it when change notifications may have
// been lost.
func (s *Service) InvalidateAll() { s.auth.forgetAll() }
