package keys_test

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	"printdock/server/keys"
	"printdock/server/store"
	"printdock/server/store/sqlite"
)

// fakeClock is an injectable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// cheapPasswords keeps tests fast; TestPasswordDefaultParams covers the real parameters.
var cheapPasswords = keys.PasswordParams{Time: 1, Memory: 64, Threads: 1}

type env struct {
	t       testing.TB
	ctx     context.Context
	st      *sqlite.DB
	svc     *keys.Service
	clock   *fakeClock
	init    keys.InitResult
	admin   keys.Actor
	events  <-chan keys.Event
	portals []string
}

func newEnv(t testing.TB, opts ...keys.Option) *env {
	t.Helper()
	return newEnvOn(t, func(db *sqlite.DB) keys.Store { return db }, opts...)
}

// newEnvOn is newEnv with the Service over wrap(the SQLite store), e.g. one that counts reads.
func newEnvOn(t testing.TB, wrap func(*sqlite.DB) keys.Store, opts ...keys.Option) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir()+"/printdock.db")
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	pepper := make([]byte, keys.PepperLen)
	rand.Read(pepper)
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	opts = append([]keys.Option{keys.WithClock(clock.Now), keys.WithPasswordParams(cheapPasswords)}, opts...)
	svc, err := keys.New(wrap(st), pepper, opts...)
	if err != nil {
		t.Fatalf("new service: %v", err)
	}
	res, err := svc.Init(ctx, "Warehouse A", "Admin@Example.com")
	if err != nil {
		t.Fatalf("init: %v", err)
	}
	events, cancel := svc.Subscribe()
	t.Cleanup(cancel)
	e := &env{t: t, ctx: ctx, st: st, svc: svc, clock: clock, init: res, events: events, portals: []string{res.PortalID}}
	e.admin = e.actor(res.AdminAPIKey)
	return e
}

// actor authenticates secret and returns it as an Actor.
func (e *env) actor(secret string) keys.Actor {
	e.t.Helper()
	p, err := e.svc.Authenticate(e.ctx, secret, "", "192.0.2.10:5555")
	if err != nil {
		e.t.Fatalf("authenticate: %v", err)
	}
	return keys.Actor{Principal: p, RemoteAddr: "192.0.2.10:5555"}
}

// createUser creates a user in a's portal and returns it as an actor plus their API key.
func (e *env) createUser(a keys.Actor, email string, role keys.Role) (keys.Actor, string) {
	e.t.Helper()
	_, _, key, err := e.svc.CreateUser(e.ctx, a, email, role)
	if err != nil {
		e.t.Fatalf("create user: %v", err)
	}
	return e.actor(key), key
}

func (e *env) createKey(opts keys.NewClientKey) keys.Created {
	e.t.Helper()
	c, err := e.svc.CreateClientKey(e.ctx, e.admin, opts)
	if err != nil {
		e.t.Fatalf("create client key: %v", err)
	}
	return c
}

// authErr authenticates and returns only the error.
func (e *env) authErr(secret, device string) error {
	_, err := e.svc.Authenticate(e.ctx, secret, device, "198.51.100.7:4444")
	return err
}

// wantAuth checks the authentication result against want (nil or a sentinel).
func (e *env) wantAuth(what, secret, device string, want error) {
	e.t.Helper()
	err := e.authErr(secret, device)
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		e.t.Errorf("%s: authenticate = %v, want %v", what, err, want)
	}
}

// nextEvent waits for the next event (events are delivered asynchronously).
func (e *env) nextEvent() keys.Event {
	e.t.Helper()
	select {
	case ev := <-e.events:
		return ev
	case <-time.After(10 * time.Second):
		e.t.Fatal("no event within 10s")
		return keys.Event{}
	}
}

// noEvent checks that no event is queued. Publishing happens before the mutating call returns, and the
// delivery goroutine moves queued events promptly; a marker event published through a mutation that is
// known to publish proves ordering without sleeping.
func (e *env) noEvent() {
	e.t.Helper()
	c := e.createKey(keys.NewClientKey{Description: "marker"})
	if err := e.svc.DeleteClientKey(e.ctx, e.admin, c.Key.ID); err != nil {
		e.t.Fatal(err)
	}
	ev := e.nextEvent()
	if len(ev.CredentialIDs) != 1 || ev.CredentialIDs[0] != c.Key.ID {
		e.t.Fatalf("unexpected event %+v before marker", ev)
	}
}

func (e *env) allAudit() []store.AuditEntry {
	e.t.Helper()
	var out []store.AuditEntry
	ps := []string{""}
	ps = append(ps, e.portals...)
	for _, p := range ps {
		es, err := e.st.ListAudit(e.ctx, store.AuditFilter{PortalID: p, Limit: 100000})
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, es...)
	}
	return out
}

// newPortal creates another portal and returns its admin actor.
func (e *env) newPortal(name, email string) keys.Actor {
	e.t.Helper()
	res, err := e.svc.CreatePortal(e.ctx, name, email)
	if err != nil {
		e.t.Fatalf("create portal: %v", err)
	}
	e.portals = append(e.portals, res.PortalID)
	return e.actor(res.AdminAPIKey)
}
