package keys

import (
	"fmt"
	"testing"
	"time"
)

func TestAuthCache(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	key := Principal{PortalID: "prt_1", Kind: KindPrintClient, CredentialID: "key_1", Generation: 1}
	user := Principal{PortalID: "prt_1", Kind: KindUser, CredentialID: "uak_1", UserID: "usr_1", Role: RoleAdmin}
	expiring := Principal{PortalID: "prt_1", Kind: KindPrintClient, CredentialID: "key_2", ExpiresAt: t0.Add(5 * time.Second)}
	tests := []struct {
		name   string
		put    map[string]Principal // hash → principal, cached at t0
		act    func(c *authCache)   // after the puts
		at     time.Duration        // when get runs, after t0
		get    string
		want   bool
		wantID string
	}{
		{name: "hit", put: map[string]Principal{"h1": key}, get: "h1", want: true, wantID: "key_1"},
		{name: "miss", put: map[string]Principal{"h1": key}, get: "h2"},
		{name: "empty", get: "h1"},
		{name: "before TTL", put: map[string]Principal{"h1": key}, at: 29 * time.Second, get: "h1", want: true, wantID: "key_1"},
		{name: "TTL over", put: map[string]Principal{"h1": key}, at: 30 * time.Second, get: "h1"},
		{name: "principal expires before TTL", put: map[string]Principal{"h2": expiring}, at: 5 * time.Second, get: "h2"},
		{name: "principal not yet expired", put: map[string]Principal{"h2": expiring}, at: 4 * time.Second, get: "h2", want: true, wantID: "key_2"},
		{name: "forget credential", put: map[string]Principal{"h1": key, "h3": user},
			act: func(c *authCache) { c.forget([]string{"key_1"}) }, get: "h1"},
		{name: "forget credential keeps others", put: map[string]Principal{"h1": key, "h3": user},
			act: func(c *authCache) { c.forget([]string{"key_1"}) }, get: "h3", want: true, wantID: "uak_1"},
		{name: "forget user drops their API key", put: map[string]Principal{"h1": key, "h3": user},
			act: func(c *authCache) { c.forget([]string{"usr_1"}) }, get: "h3"},
		{name: "forget unknown ID", put: map[string]Principal{"h1": key},
			act: func(c *authCache) { c.forget([]string{"key_9"}) }, get: "h1", want: true, wantID: "key_1"},
		{name: "forget all", put: map[string]Principal{"h1": key, "h3": user},
			act: func(c *authCache) { c.forgetAll() }, get: "h3"},
		{name: "lookup begun before an invalidation is not cached", act: func(c *authCache) {
			epoch := c.begin()
			c.forget([]string{"key_1"}) // the revoke commits while the store row is read
			c.put("h1", key, epoch, t0)
		}, get: "h1"},
		{name: "lookup begun after an invalidation is cached", act: func(c *authCache) {
			c.forget([]string{"key_1"})
			c.put("h1", key, c.begin(), t0)
		}, get: "h1", want: true, wantID: "key_1"},
		{name: "put again after forget", put: map[string]Principal{"h1": key}, act: func(c *authCache) {
			c.forget([]string{"key_1"})
			c.put("h1", key, c.begin(), t0)
			c.forget([]string{"key_1"})
		}, get: "h1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &authCache{ttl: 30 * time.Second, max: 100}
			for h, p := range tc.put {
				c.put(h, p, c.begin(), t0)
			}
			if tc.act != nil {
				tc.act(c)
			}
			p, ok := c.get(tc.get, t0.Add(tc.at))
			if ok != tc.want || p.CredentialID != tc.wantID {
				t.Errorf("get(%s) = %+v, %v; want %v %q", tc.get, p, ok, tc.want, tc.wantID)
			}
			for o, hs := range c.byOwner { // the index never names a dropped entry
				for _, h := range hs {
					if _, ok := c.byHash[h]; !ok {
						t.Errorf("index %s names dropped %s", o, h)
					}
				}
			}
		})
	}
}

func TestAuthCacheBound(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const max = 64
	c := &authCache{ttl: time.Minute, max: max}
	for i := range 10 * max {
		id := fmt.Sprintf("key_%d", i)
		c.put("h"+id, Principal{Kind: KindPrintClient, CredentialID: id}, c.begin(), t0)
		if n := c.len(); n > max {
			t.Fatalf("after %d puts the cache holds %d > %d", i+1, n, max)
		}
	}
	if _, ok := c.get("hkey_639", t0); !ok {
		t.Error("the newest entry was evicted")
	}
	if len(c.byOwner) != c.len() {
		t.Errorf("index has %d owners for %d entries", len(c.byOwner), c.len())
	}
	// Expired entries go first: a full cache of expired entries is swept, not sampled.
	c.forgetAll()
	for i := range max {
		id := fmt.Sprintf("old_%d", i)
		c.put("h"+id, Principal{Kind: KindPrintClient, CredentialID: id}, c.begin(), t0)
	}
	later := t0.Add(2 * time.Minute)
	c.put("hnew", Principal{Kind: KindPrintClient, CredentialID: "new"}, c.begin(), later)
	if n := c.len(); n != 1 {
		t.Errorf("after a sweep of expired entries the cache holds %d, want 1", n)
	}
}

func TestAuthCacheOff(t *testing.T) {
	for _, c := range []*authCache{{}, {ttl: time.Minute}, {max: 10}, {ttl: -1, max: 10}} {
		if c.on() {
			t.Errorf("%+v is on", c)
		}
	}
	if c := (&authCache{ttl: time.Second, max: 1}); !c.on() {
		t.Error("cache with TTL and size is off")
	}
}
