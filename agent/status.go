package agent

import (
	"path/filepath"
	"sync"
	"time"

	"printdock/agent/localapi"
)

// publisher hands immutable Status values to subscribers (the local API's watch, Login waiting for its
// session). It owns the subscriptions under its own lock.
type publisher struct {
	mu     sync.Mutex // protects the following; taken before the locks build takes (see Agent)
	subs   map[uint64]chan localapi.Status
	seq    uint64
	closed bool
}

func newPublisher() *publisher { return &publisher{subs: map[uint64]chan localapi.Status{}} }

// subscribe returns a channel that receives the newest Status after every change and a function that
// ends the subscription. A slow reader loses intermediate values, never the latest. After close, the
// channel is closed at once.
func (p *publisher) subscribe() (<-chan localapi.Status, func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ch := make(chan localapi.Status, 1)
	if p.closed {
		close(ch)
		return ch, func() {}
	}
	p.seq++
	id := p.seq
	p.subs[id] = ch
	return ch, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if c, ok := p.subs[id]; ok {
			delete(p.subs, id)
			close(c)
		}
	}
}

// publish sends build()'s Status to every subscriber. build runs under p.mu, so values go out in the
// order they were built; it is not called when nobody listens.
func (p *publisher) publish(build func() localapi.Status) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.subs) == 0 {
		return
	}
	st := build()
	for _, c := range p.subs {
		select {
		case c <- st:
		default:
			select {
			case <-c:
			default:
			}
			c <- st
		}
	}
}

// close ends every subscription.
func (p *publisher) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for id, c := range p.subs {
		delete(p.subs, id)
		close(c)
	}
}

// connState is the part of Status that is not persisted: the session loop's condition.
type connState struct {
	mu sync.Mutex // protects the following
	f  connFields
}

type connFields struct {
	state     string
	since     time.Time
	nextRetry time.Time
	lastErr   string
	lastErrAt time.Time
	attempts  int
	heartbeat time.Duration
}

func (f *connFields) setState(s string) {
	if f.state != s {
		f.state = s
		f.since = time.Now()
	}
	if s != localapi.StateConnecting {
		f.nextRetry = time.Time{}
	}
}

func (f *connFields) setError(err error) {
	if err == nil {
		f.lastErr, f.lastErrAt = "", time.Time{}
		return
	}
	f.lastErr, f.lastErrAt = err.Error(), time.Now()
}

func (s *connState) update(fn func(f *connFields)) {
	s.mu.Lock()
	fn(&s.f)
	s.mu.Unlock()
}

func (s *connState) snapshot() connFields {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.f
}

// Status returns the agent's state. On an agent that is not running it first re-reads the state
// directory and the keystore (no lock is held meanwhile).
func (a *Agent) Status() localapi.Status {
	if !a.isRunning() {
		a.creds.reload()
	}
	return a.buildStatus()
}

// Subscribe returns a channel that receives the newest Status after every change and a function that
// ends the subscription. A slow reader loses intermediate values, never the latest. The channel is
// closed when the agent stops or cancel is called.
func (a *Agent) Subscribe() (<-chan localapi.Status, func()) { return a.pub.subscribe() }

// notify publishes the current Status to subscribers.
func (a *Agent) notify() { a.pub.publish(a.buildStatus) }

// setConn changes the session loop's condition and publishes the result.
func (a *Agent) setConn(fn func(f *connFields)) {
	a.conn.update(fn)
	a.notify()
}

// idleState is the state when no session is active: not_logged_in, logged_out, or connecting when a
// secret is there.
func idleState(c credSnap) string {
	switch {
	case c.Secret != "" && c.ServerURL != "":
		return localapi.StateConnecting
	case c.P.LogoutReason != "":
		return localapi.StateLoggedOut
	default:
		return localapi.StateNotLoggedIn
	}
}

// offlineState is the state of an agent that does not run: a stored secret means it would connect.
func offlineState(c credSnap) string {
	if c.HasStored && c.ServerURL != "" {
		return localapi.StateConnecting
	}
	if c.P.LogoutReason != "" {
		return localapi.StateLoggedOut
	}
	return localapi.StateNotLoggedIn
}

func tp(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// buildStatus assembles a Status from the owners' snapshots; it does no I/O.
func (a *Agent) buildStatus() localapi.Status {
	a.mu.Lock()
	running, svc := a.running, a.svc
	a.mu.Unlock()
	c := a.creds.snapshot()
	rt := a.conn.snapshot()
	st := localapi.Status{
		State:          rt.state,
		ServerURL:      c.ServerURL,
		Portal:         c.P.Portal,
		KeyKind:        c.P.KeyKind,
		KeyDesc:        c.P.KeyDesc,
		KeyPrefix:      c.P.KeyPrefix,
		DeviceID:       c.P.DeviceID,
		ClientID:       c.P.ClientID,
		Since:          tp(rt.since),
		NextRetry:      tp(rt.nextRetry),
		LastError:      rt.lastErr,
		LastErrorAt:    tp(rt.lastErrAt),
		LogoutReason:   c.P.LogoutReason,
		LogoutMessage:  c.P.LogoutMsg,
		LogoutAt:       c.P.LogoutAt,
		Keystore:       a.KeystoreBackend(),
		Service:        svc,
		Version:        a.cfg.Version,
		InProcess:      a.cfg.InProcess,
		Printers:       a.printers.snapshot(),
		AgentRunning:   running,
		StateDir:       a.cfg.StateDir,
		InstallationID: c.InstID,
		Attempts:       rt.attempts,
		HeartbeatSecs:  int(rt.heartbeat / time.Second),
	}
	if a.cfg.LogFile {
		st.LogDir = filepath.Join(a.cfg.StateDir, logDirName)
	}
	if !running {
		// Not running: the state comes from the state directory and the keystore.
		st.State = offlineState(c)
		if st.LastError == "" {
			switch {
			case a.creds.ksErr != nil:
				st.LastError = a.creds.ksErr.Error()
			case c.PErr != nil:
				st.LastError = c.PErr.Error()
			case st.State == localapi.StateConnecting:
				st.LastError = "the printdock agent is not running"
			}
		}
	}
	if st.State != localapi.StateLoggedOut {
		st.LogoutReason, st.LogoutMessage, st.LogoutAt = "", "", nil
	}
	if st.Printers == nil {
		st.Printers = []localapi.Printer{}
	}
	return st
}
