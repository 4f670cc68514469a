package jobs

import (
	"context"
	"sync"
	"time"

	"printdock/server/store"
)

// Submit's printer lookups. Submit needs of the printer only what never changes — its portal, client and
// URI (a printer's ID is derived from them, and printers are never deleted: the jobs row's foreign key
// would catch one anyway) — and whether it is present, which only chooses between handing the job to the
// client's sessions here and waking them to look in the store (either delivers it: a session checks the
// printer against the agent's latest list before sending a pushed job; a claimed job, claim.go, is sent
// on the store's word that the printer is present, as PendingFor's jobs are). So a raw submission reads the
// printer once per printerTTL instead of once per job: that read was a twentieth of the server's CPU per
// job under load. UpdatePrinters of the client on this server forgets its printers at once; another
// replica's changes are seen within printerTTL.

// printerTTL is how long a cached printer answers Submit.
const printerTTL = 5 * time.Second

// maxCachedPrinters bounds the cache; it is emptied when full.
const maxCachedPrinters = 4096

type cachedPrinter struct {
	p  store.Printer
	at time.Time
}

type printerCache struct {
	mu  sync.Mutex
	m   map[string]cachedPrinter
	gen uint64 // bumped by forget: a lookup that began before does not fill the cache
}

// printer returns the printer with id, from the cache when it is younger than printerTTL.
func (s *Service) printer(ctx context.Context, id string) (store.Printer, error) {
	c := &s.printers
	now := time.Now()
	c.mu.Lock()
	e, ok := c.m[id]
	gen := c.gen
	c.mu.Unlock()
	if ok && now.Sub(e.at) < printerTTL {
		return e.p, nil
	}
	p, err := s.st.GetPrinter(ctx, id)
	if err != nil {
		return p, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if c.m == nil || len(c.m) >= maxCachedPrinters {
			c.m = make(map[string]cachedPrinter)
		}
		c.m[id] = cachedPrinter{p: p, at: now}
	}
	c.mu.Unlock()
	return p, nil
}

// forgetPrinters drops the client's printers from the cache (their presence changed).
func (s *Service) forgetPrinters(clientID string) {
	c := &s.printers
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for id, e := range c.m {
		if e.p.ClientID == clientID {
			delete(c.m, id)
		}
	}
}
