package agent

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"printdock/keystore"
)

// credentials owns the agent's identity: the secret (held in memory while the agent runs), what
// state.json persists, the installation ID, and the generation that every login and logout increments
// (a session started with an older generation is stale). It does its disk and keystore I/O outside mu
// and hands out snapshots (credSnap); nothing else keeps a copy of these fields.
type credentials struct {
	dir            string
	fallbackServer string // Config.ServerURL: used until a login remembers one
	ks             keystore.Store
	ksErr          error
	log            *slog.Logger

	// Lock order: ioMu before mu. ioMu orders the writers of state.json so that the newest state is
	// the one on disk; readers (Status) never take it, and it is never held across keystore I/O.
	ioMu sync.Mutex

	mu sync.Mutex // protects the following; never held across I/O
	f  credFields
}

// credFields is the mutable part of credentials.
type credFields struct {
	p         persisted
	pErr      error // reading state.json failed
	instID    string
	secret    string
	gen       uint64 // incremented by every login and logout
	hasStored bool   // the keystore held a secret at the last offline look (reload)
}

// credSnap is a copy of the credentials at one moment.
type credSnap struct {
	Gen       uint64
	Secret    string
	P         persisted
	PErr      error
	InstID    string
	ServerURL string // the login's server, else Config.ServerURL
	HasStored bool
}

func newCredentials(dir, fallbackServer string, ks keystore.Store, ksErr error, log *slog.Logger) *credentials {
	c := &credentials{dir: dir, fallbackServer: fallbackServer, ks: ks, ksErr: ksErr, log: log}
	c.f.p, c.f.pErr = loadPersisted(dir)
	c.f.instID, _ = installationID(dir, false)
	return c
}

func (c *credentials) snapshot() credSnap {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := credSnap{Gen: c.f.gen, Secret: c.f.secret, P: c.f.p, PErr: c.f.pErr, InstID: c.f.instID,
		ServerURL: c.f.p.ServerURL, HasStored: c.f.hasStored}
	if s.ServerURL == "" {
		s.ServerURL = c.fallbackServer
	}
	return s
}

func (c *credentials) gen() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.f.gen
}

func (c *credentials) setInstID(id string) {
	c.mu.Lock()
	c.f.instID = id
	c.mu.Unlock()
}

// reload re-reads what another process (the CLI, the service) may have changed while this agent does
// not run: state.json, the installation ID, and whether the keystore holds a secret. The reads happen
// outside mu.
func (c *credentials) reload() {
	p, perr := loadPersisted(c.dir)
	id, _ := installationID(c.dir, false)
	stored := c.storedSecret() != ""
	c.mu.Lock()
	defer c.mu.Unlock()
	if perr == nil {
		c.f.p, c.f.pErr = p, nil
	} else {
		c.f.pErr = perr
	}
	if id != "" {
		c.f.instID = id
	}
	c.f.hasStored = stored
}

// storedSecret reads the keystore ("" when it holds none or cannot be read; 3 s at most).
func (c *credentials) storedSecret() string {
	if c.ks == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	s, err := c.ks.Get(ctx)
	if err != nil {
		return ""
	}
	return s
}

// update applies fn to the fields under mu and, when fn returns true, writes state.json with the
// result (outside mu, in order with the other writers). A failed write is logged and returned; the
// agent keeps working with what it has in memory.
func (c *credentials) update(fn func(f *credFields) (save bool)) (saved bool, err error) {
	c.ioMu.Lock()
	defer c.ioMu.Unlock()
	c.mu.Lock()
	save := fn(&c.f)
	p := c.f.p
	c.mu.Unlock()
	if !save {
		return false, nil
	}
	if err := savePersisted(c.dir, p); err != nil {
		c.log.Error("agent: cannot save state", "error", err)
		return true, err
	}
	return true, nil
}

// deleteSecret deletes the stored secret (no lock held; 10 s at most unless ctx is shorter).
func (c *credentials) deleteSecret(ctx context.Context) error {
	if c.ks == nil {
		return c.ksErr
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return c.ks.Delete(ctx)
}
