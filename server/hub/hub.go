// Package hub owns the live agent connections of printdock-server: it runs each authenticated websocket
// session (hello/welcome, read loop, heartbeats, per-session writer), indexes sessions by credential and
// by client, answers "is this key connected now", lists connected clients and their printers, delivers
// print jobs to their agents and hands the agents' job_status reports to the job queue, and turns the key
// lifecycle's change events into forced logouts: a `logout` message followed by close code 4001 on
// exactly the affected sessions.
//
// Every session has its own writer, so logging out thousands of sessions at once never waits for one slow
// peer: the hub only signals each writer, and every write has a deadline. An idle session holds only its
// reader goroutine: the writer, the recording of job statuses and the delivery loop start when there is
// work (a message to send or a heartbeat due, a status, the agent's first printers list). What to deliver is
// decided by the job queue (Options.Jobs, a *jobs.Service); the hub decides only when and on which
// session (see docs/jobs.md "Delivery").
package hub

import (
	"context"
	"errors"
	"hash/fnv"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"printdock/protocol"
	"printdock/server/jobs"
	"printdock/server/keys"
)

// Keys is the part of the key lifecycle (keys.Service) the hub calls.
type Keys interface {
	Touch(ctx context.Context, p keys.Principal)
	TouchNow(ctx context.Context, p keys.Principal)
	StillValid(ctx context.Context, p keys.Principal) error
	// SecondInstallation records a print client secret live from a second installation and reports
	// whether the portal's policy refuses it.
	SecondInstallation(ctx context.Context, p keys.Principal, usedOn, newHost string) bool
	// PrinterAlertAfter is the portal's printer alert threshold (sent to the agent in the welcome).
	PrinterAlertAfter(ctx context.Context, a keys.Actor) (time.Duration, error)
}

// Jobs is the part of the job queue (*jobs.Service) the hub calls: the registry of agents and printers,
// the delivery API and acknowledgements. docs/jobs.md describes the contract.
type Jobs interface {
	ClientConnected(ctx context.Context, portalID, credentialID string, hello protocol.Hello) (string, int64, error)
	ClientDisconnected(ctx context.Context, clientID string) error
	UpdatePrinters(ctx context.Context, clientID string, ps []protocol.Printer) error
	// SubscribeFunc calls wake whenever the client may have new work (jobs.Service.SubscribeFunc); Claimed
	// then hands over the jobs submitted on this server already marked sent in the session, Pushed those
	// to be marked with MarkPushedAll, or says to ask PendingFor.
	SubscribeFunc(clientID string, session int64, wake func()) (*jobs.Subscription, func())
	Claimed(sub *jobs.Subscription) []protocol.Job
	Pushed(sub *jobs.Subscription) ([]protocol.Job, bool)
	// Wake makes the client's subscriptions here ask PendingFor (their next Pushed answers full).
	Wake(clientID string)
	MarkPushedAll(ctx context.Context, jobIDs []string) ([]error, error)
	PendingFor(ctx context.Context, clientID string) ([]protocol.Job, error)
	// MarkSentAll and AckAll are MarkSent and Ack for several jobs (statuses) in one transaction.
	MarkSentAll(ctx context.Context, jobIDs []string) ([]error, error)
	AckAll(ctx context.Context, clientID string, sts []protocol.JobStatus) ([]error, error)
	// CancelsFor lists the client's jobs a user asked to cancel after they were sent: the hub sends each
	// a `cancel` message (once per session, to agents whose hello lists protocol.FeatureCancel).
	CancelsFor(ctx context.Context, clientID string) ([]string, error)
	// OtherInstallation: the hostname of a client of the credential online on any replica from another
	// installation (one secret per installation).
	OtherInstallation(ctx context.Context, portalID, credentialID, installationID string) (string, bool)
}

var _ Jobs = (*jobs.Service)(nil)

// Errors.
var (
	ErrNotConnected = errors.New("client not connected")
	ErrClosing      = errors.New("hub is shutting down")
	// ErrTooManySessions: the credential already has Options.MaxSessionsPerCredential sessions.
	ErrTooManySessions = errors.New("too many sessions for this key")
)

// Defaults for Options.
const (
	DefaultHeartbeat    = 15 * time.Second
	DefaultWriteTimeout = 10 * time.Second
	DefaultHelloTimeout = 10 * time.Second
	DefaultTouchEvery   = time.Minute
	// DefaultMaxSessionsPerCredential bounds the concurrent sessions of one key (a sharing device counts
	// on its own: its device ID is its credential).
	DefaultMaxSessionsPerCredential = 16
	// DefaultPrintersEvery is how often at most a session records a printers message in the job queue.
	DefaultPrintersEvery = time.Second
	// MissedHeartbeats is how many heartbeat intervals without any message from the peer close it (4004).
	MissedHeartbeats = 3
)

// Options configure a Hub. Zero values take the defaults.
type Options struct {
	Keys          Keys
	Log           *slog.Logger
	Heartbeat     time.Duration // how often the server pings each agent
	WriteTimeout  time.Duration // deadline of every websocket write
	HelloTimeout  time.Duration // how long a new connection has to send hello
	TouchEvery    time.Duration // how often activity updates last-accessed
	ServerVersion string
	// LogoutSent is called once per logout message written (metrics).
	LogoutSent func(reason string)
	// Jobs is the job queue: it records clients and their printers, says what to deliver and takes the
	// agents' job_status reports. nil: sessions are not recorded and no jobs are delivered (client IDs
	// are still jobs.ClientID).
	Jobs Jobs
	// JobSent is called once per job message queued for an agent, JobStatus once per job_status the
	// queue accepted (metrics). Both may be nil.
	JobSent   func()
	JobStatus func(state string)
	// RetryEvery is the longest a session waits before asking the job queue again after it failed (a
	// store error): the first retry comes after 100 ms, doubling with each failure in a row; default 5 s.
	RetryEvery time.Duration
	// MaxSessionsPerCredential bounds the concurrent connections (from Reserve until the session ends)
	// of one credential; default DefaultMaxSessionsPerCredential, negative: unlimited. Beyond it a new
	// connection is refused (the API answers 429 before the upgrade); existing sessions stay.
	MaxSessionsPerCredential int
	// PrintersEvery is the shortest interval between two printers updates of one session in the job
	// queue (each is a store transaction). Messages in between are coalesced: the newest list is recorded
	// when the interval has passed. Default DefaultPrintersEvery.
	PrintersEvery time.Duration
}

// Hub is the registry of live sessions. Create it with New; it is safe for concurrent use.
//
// Lock order: a clientLocks stripe → mu → Session.mu. A session registers (Serve) and marks jobs sent
// (Session.deliver) under its client's stripe and reads the index under mu inside it; Clients reads each
// session's printers under mu. Nothing blocks on a channel or the store under mu.
type Hub struct {
	o   Options
	log *slog.Logger

	mu       sync.RWMutex
	byCred   map[string]map[*Session]struct{}
	byClient map[string][]*Session // sessions of one installation, newest last
	all      map[*Session]struct{}
	slots    map[string]int // reserved session slots per credential
	closing  bool

	// clientLocks serialize, per client ID (striped), a new session's registration against job
	// deliveries of the client's older sessions, so a job is never marked sent on a session that is
	// no longer the client's newest (see Session.deliver).
	clientLocks [64]sync.Mutex

	count atomic.Int64
	wg    sync.WaitGroup // every running Serve and writer
}

// New returns an empty hub.
func New(o Options) *Hub {
	if o.Heartbeat <= 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.HelloTimeout <= 0 {
		o.HelloTimeout = DefaultHelloTimeout
	}
	if o.TouchEvery <= 0 {
		o.TouchEvery = DefaultTouchEvery
	}
	if o.RetryEvery <= 0 {
		o.RetryEvery = 5 * time.Second
	}
	if o.MaxSessionsPerCredential == 0 {
		o.MaxSessionsPerCredential = DefaultMaxSessionsPerCredential
	}
	if o.PrintersEvery <= 0 {
		o.PrintersEvery = DefaultPrintersEvery
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Hub{
		o:        o,
		log:      log.With("component", "hub"),
		byCred:   make(map[string]map[*Session]struct{}),
		byClient: make(map[string][]*Session),
		all:      make(map[*Session]struct{}),
		slots:    make(map[string]int),
	}
}

// Slot is one of a credential's session slots, reserved by Reserve before the websocket upgrade.
type Slot struct {
	h        *Hub
	cred     string
	released bool // guarded by h.mu
}

// Reserve takes one of the credential's MaxSessionsPerCredential session slots, for a connection about
// to be upgraded and served. It fails with ErrTooManySessions when none is free, or ErrClosing. The slot
// is given back when the session leaves the hub's index (it ended, or was logged out or shut down) or
// when Release is called, whichever comes first.
func (h *Hub) Reserve(credentialID string) (*Slot, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return nil, ErrClosing
	}
	if max := h.o.MaxSessionsPerCredential; max > 0 && h.slots[credentialID] >= max {
		return nil, ErrTooManySessions
	}
	h.slots[credentialID]++
	return &Slot{h: h, cred: credentialID}, nil
}

// Release gives the slot back (idempotent; nil is a no-op).
func (sl *Slot) Release() {
	if sl == nil {
		return
	}
	sl.h.mu.Lock()
	sl.releaseLocked()
	sl.h.mu.Unlock()
}

func (sl *Slot) releaseLocked() {
	if sl == nil || sl.released {
		return
	}
	sl.released = true
	if n := sl.h.slots[sl.cred] - 1; n > 0 {
		sl.h.slots[sl.cred] = n
	} else {
		delete(sl.h.slots, sl.cred)
	}
}

// MaxSessionsPerCredential returns the session limit per credential (0: unlimited).
func (h *Hub) MaxSessionsPerCredential() int { return max(h.o.MaxSessionsPerCredential, 0) }

// Heartbeat returns the ping interval.
func (h *Hub) Heartbeat() time.Duration { return h.o.Heartbeat }

// Count returns the number of established sessions.
func (h *Hub) Count() int { return int(h.count.Load()) }

// Connected reports whether a session authenticated with credentialID is established now.
func (h *Hub) Connected(credentialID string) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.byCred[credentialID]) > 0
}

// ClientInfo describes one connected agent.
type ClientInfo struct {
	ClientID       string
	PortalID       string
	CredentialID   string
	KeyKind        keys.Kind
	Description    string
	Hostname       string
	OS             string
	AgentVersion   string
	InstallationID string
	RemoteAddr     string
	ConnectedAt    time.Time
	Printers       []protocol.Printer
}

// otherInstallation returns the hostname of a live session of credentialID from another installation
// than installationID (print client secrets only: one secret per installation): this hub's sessions
// first, then the store's (the other replicas').
func (h *Hub) otherInstallation(ctx context.Context, p keys.Principal, installationID string) (string, bool) {
	if p.Kind != keys.KindPrintClient {
		return "", false
	}
	h.mu.RLock()
	for s := range h.byCred[p.CredentialID] {
		if s.hello.InstallationID != installationID {
			h.mu.RUnlock()
			return s.hello.Hostname, true
		}
	}
	h.mu.RUnlock()
	if h.o.Jobs == nil {
		return "", false
	}
	return h.o.Jobs.OtherInstallation(ctx, p.PortalID, p.CredentialID, installationID)
}

// Clients lists the connected agents of a portal, oldest connection first.
func (h *Hub) Clients(portalID string) []ClientInfo {
	h.mu.RLock()
	out := make([]ClientInfo, 0)
	for s := range h.all {
		if s.p.PortalID == portalID {
			out = append(out, s.Info())
		}
	}
	h.mu.RUnlock()
	slices.SortFunc(out, func(a, b ClientInfo) int {
		if c := a.ConnectedAt.Compare(b.ConnectedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ClientID, b.ClientID)
	})
	return out
}

// Client returns one connected client of a portal.
func (h *Hub) Client(portalID, clientID string) (ClientInfo, bool) {
	s := h.session(clientID)
	if s == nil || s.p.PortalID != portalID {
		return ClientInfo{}, false
	}
	return s.Info(), true
}

// Send queues m for the client's current session and returns once it is queued (not yet written). It
// waits for room in the session's queue until ctx ends.
func (h *Hub) Send(ctx context.Context, clientID string, m protocol.Message) error {
	b, err := protocol.Encode(m)
	if err != nil {
		return err
	}
	s := h.session(clientID)
	if s == nil {
		return ErrNotConnected
	}
	for {
		if s.queueOut(b) {
			s.wakeWriter()
			return nil
		}
		room := s.roomOut()
		if s.queueOut(b) { // the writer took one before room was made
			s.wakeWriter()
			return nil
		}
		select {
		case <-room:
		case <-s.killed():
			return ErrNotConnected
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Run applies every event from events until ctx ends or events is closed.
func (h *Hub) Run(ctx context.Context, events <-chan keys.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			h.Apply(ev)
		}
	}
}

// Apply logs out every session the event affects — those of the listed credentials whose generation is
// below ev.BeforeGeneration, or all of them when it is 0 — and returns how many. It does not wait for the
// writes: each session's writer sends `logout` and closes with 4001 on its own.
func (h *Hub) Apply(ev keys.Event) int {
	if ev.Reason == "" {
		return 0 // not a logout: only caches drop the credentials (a user's role changed)
	}
	var hit []*Session
	h.mu.Lock()
	for _, id := range ev.CredentialIDs {
		for s := range h.byCred[id] {
			if ev.PortalID != "" && s.p.PortalID != ev.PortalID {
				continue
			}
			if ev.BeforeGeneration != 0 && s.p.Generation >= ev.BeforeGeneration {
				continue
			}
			hit = append(hit, s)
			h.unindexLocked(s)
		}
	}
	h.mu.Unlock()
	var batch *logoutBatch
	if len(hit) > 1 {
		batch = newLogoutBatch(len(hit), ev.Reason, h.o.WriteTimeout)
	}
	for _, s := range hit {
		s.kill(closeReq{code: protocol.CloseLoggedOut, reason: "logged out: " + ev.Reason, logout: ev.Reason, batch: batch})
	}
	if len(hit) > 0 {
		h.log.Info("forced logout", "reason", ev.Reason, "sessions", len(hit), "credentials", len(ev.CredentialIDs))
	}
	return len(hit)
}

// Shutdown closes every session with 4005 and refuses new ones, then waits until all have ended or ctx
// ends.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closing = true
	ss := make([]*Session, 0, len(h.all))
	for s := range h.all {
		ss = append(ss, s)
	}
	h.mu.Unlock()
	for _, s := range ss {
		s.kill(closeReq{code: protocol.CloseServerShutdown, reason: "server shutting down"})
	}
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Closing reports whether Shutdown has begun.
func (h *Hub) Closing() bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.closing
}

// session returns the newest session of a client, or nil.
func (h *Hub) session(clientID string) *Session {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if l := h.byClient[clientID]; len(l) > 0 {
		return l[len(l)-1]
	}
	return nil
}

// newest reports whether s is its client's newest session (the one that delivers jobs).
func (h *Hub) newest(s *Session) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	l := h.byClient[s.clientID]
	return len(l) > 0 && l[len(l)-1] == s
}

// clientLock returns the lock stripe of a client ID.
func (h *Hub) clientLock(clientID string) *sync.Mutex {
	f := fnv.New32a()
	f.Write([]byte(clientID))
	return &h.clientLocks[f.Sum32()%uint32(len(h.clientLocks))]
}

func (h *Hub) add(s *Session) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return false
	}
	set := h.byCred[s.p.CredentialID]
	if set == nil {
		set = make(map[*Session]struct{})
		h.byCred[s.p.CredentialID] = set
	}
	set[s] = struct{}{}
	h.byClient[s.clientID] = append(h.byClient[s.clientID], s)
	h.all[s] = struct{}{}
	s.indexed = true
	h.count.Add(1)
	return true
}

func (h *Hub) remove(s *Session) {
	h.mu.Lock()
	h.unindexLocked(s)
	h.mu.Unlock()
}

func (h *Hub) unindexLocked(s *Session) {
	if !s.indexed {
		return
	}
	s.indexed = false
	s.slot.releaseLocked() // a session on its way out no longer holds one of its key's slots
	if set := h.byCred[s.p.CredentialID]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(h.byCred, s.p.CredentialID)
		}
	}
	if l := slices.DeleteFunc(h.byClient[s.clientID], func(o *Session) bool { return o == s }); len(l) > 0 {
		h.byClient[s.clientID] = l
		l[len(l)-1].poke() // the client's previous session delivers again
	} else {
		delete(h.byClient, s.clientID)
	}
	delete(h.all, s)
	h.count.Add(-1)
}
