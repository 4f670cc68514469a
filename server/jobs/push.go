package jobs

import (
	"context"

	"printdock/protocol"
	"printdock/server/store"
)

// Subscriptions and pushed jobs. Each session of a client subscribes; a job submitted on this server is
// handed to the client's subscriptions as it commits (push), so the session sends it without reading it
// back from the store. Anything else that may give a client work — its first delivery, a printers message,
// a cancel, a job another replica announced, a subscription that fell behind — marks the subscription
// full: its subscriber then asks the store (PendingFor), which finds every job, pushed or not.

// Subscription is one subscriber of a client's work (Subscribe, SubscribeFunc): the jobs pushed since
// its subscriber last took them (Pushed), or full when the subscriber must ask the store instead.
type Subscription struct {
	wake  chan struct{} // Subscribe's wake-ups (room for one); nil for SubscribeFunc
	fn    func()        // SubscribeFunc's wake-up, called instead
	seq   int64         // the subscriber's session (SubscribeFunc), which may claim jobs (claim.go); 0: none
	jobs  []protocol.Job
	bytes int
	// claimed are jobs marked sent in the subscriber's session as they were created (claim.go), and
	// cbytes their content's size. Unlike jobs they are not in the store's pending list for this session,
	// so only unsubscribing drops them.
	claimed []protocol.Job
	cbytes  int
	full    bool
	gone    bool // unsubscribed
}

// C returns the channel that receives Subscribe's wake-ups (nil for SubscribeFunc's subscriptions).
func (f *Subscription) C() <-chan struct{} { return f.wake }

func (f *Subscription) signal() {
	if f.fn != nil {
		f.fn()
		return
	}
	select {
	case f.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// setFull drops the pushed jobs (the store has them) and asks the subscriber to look in the store.
func (f *Subscription) setFull() {
	f.full, f.jobs, f.bytes = true, nil, 0
	f.signal()
}

// Subscribe subscribes to the client's work: the subscription's channel (C) receives a wake-up whenever
// the client may have new work: a job was submitted for one of its printers, it reported its printers, a
// job of it is to be cancelled. Wake-ups coalesce (the channel has room for one); the subscriber answers
// each with Pushed, then PendingFor until it returns nothing when Pushed says so (a subscriber may also
// always call PendingFor). The returned function unsubscribes. Wake-ups are in-process; across replicas,
// Options.Queued announces a new job to the other replicas, which call Wake (server/replica.go).
func (s *Service) Subscribe(clientID string) (*Subscription, func()) {
	return s.subscribe(clientID, &Subscription{wake: make(chan struct{}, 1), full: true})
}

// SubscribeFunc is Subscribe with a function called for each wake-up instead of a channel that
// receives them (the hub starts a delivery goroutine only when woken, so an idle session holds none).
// wake is called with the job queue's lock held: it must not block or call the job queue. session is
// the subscriber's session as ClientConnected numbered it: while it is the client's newest, jobs
// submitted here may be claimed for it (Claimed; 0: never).
func (s *Service) SubscribeFunc(clientID string, session int64, wake func()) (*Subscription, func()) {
	return s.subscribe(clientID, &Subscription{fn: wake, seq: session, full: true})
}

func (s *Service) subscribe(clientID string, f *Subscription) (*Subscription, func()) {
	s.mu.Lock()
	set := s.subs[clientID]
	if set == nil {
		set = make(map[*Subscription]struct{})
		s.subs[clientID] = set
	}
	set[f] = struct{}{}
	s.mu.Unlock()
	return f, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		dropped := len(f.claimed) > 0
		f.gone, f.jobs, f.bytes, f.claimed, f.cbytes = true, nil, 0, nil, 0
		if set := s.subs[clientID]; set != nil {
			delete(set, f)
			if len(set) == 0 {
				delete(s.subs, clientID)
			}
		}
		if dropped {
			s.notifyLocked(clientID) // jobs claimed for the ended session: a newer one finds them in the store
		}
	}
}

// Wake wakes the client's subscribers on this server as if it had new work (they then call PendingFor).
// Replicas call it when another replica queued a job for the client (a store notification).
func (s *Service) Wake(clientID string) { s.notify(clientID) }

// WakeAll wakes every subscriber on this server: after notifications from other replicas may have been
// lost, each connected client looks for pending jobs.
func (s *Service) WakeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, set := range s.subs {
		for f := range set {
			f.setFull()
		}
	}
}

// notify wakes the client's subscribers, which then look in the store.
func (s *Service) notify(clientID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notifyLocked(clientID)
}

// notifyLocked is notify with s.mu held.
func (s *Service) notifyLocked(clientID string) {
	for f := range s.subs[clientID] {
		f.setFull()
	}
}

// push hands j, just committed for the client, to its subscribers on this server. A subscription that
// already holds a batch's worth (Options.BatchJobs, BatchBytes) becomes full instead.
func (s *Service) push(clientID string, j protocol.Job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for f := range s.subs[clientID] {
		switch {
		case f.full:
			f.signal()
		case len(f.jobs) >= s.o.BatchJobs || f.bytes+len(j.Content) > s.o.BatchBytes:
			f.setFull()
		default:
			f.jobs = append(f.jobs, j)
			f.bytes += len(j.Content)
			f.signal()
		}
	}
}

// Pushed returns, and forgets, what the subscription holds: the jobs submitted on this server for the
// client since the last call, oldest first (send them after MarkPushedAll), or full, with no jobs, when
// the subscriber must ask the store (PendingFor) instead. The first call of a subscription, and every call
// after it unsubscribed, answers full.
func (s *Service) Pushed(f *Subscription) (js []protocol.Job, full bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f == nil || f.gone {
		return nil, true
	}
	js, full = f.jobs, f.full
	f.jobs, f.bytes, f.full = nil, 0, false
	return js, full
}

// MarkPushedAll is MarkSentAll for jobs Pushed returned: a job that is no longer queued — sent meanwhile
// by a PendingFor batch, cancelled, expired — is answered ErrConflict (do not send it), so a job pushed
// and also found in the store is sent once.
func (s *Service) MarkPushedAll(ctx context.Context, jobIDs []string) (errs []error, err error) {
	return s.markAll(ctx, jobIDs, true)
}

// markAll marks the jobs sent in one transaction (see MarkSentAll); queuedOnly refuses jobs already sent.
func (s *Service) markAll(ctx context.Context, jobIDs []string, queuedOnly bool) (errs []error, err error) {
	now := s.now()
	var sessions map[string]int64
	return s.inBatch(ctx, jobIDs, func(q store.Store, i int) error {
		if i == 0 {
			sessions = map[string]int64{} // the transaction may run again
		}
		return s.markSent(ctx, q, jobIDs[i], queuedOnly, sessions, now)
	})
}

// pushJob is the protocol message of j, a job just created with its content.
func pushJob(j store.Job) protocol.Job {
	return protocol.Job{JobID: j.ID, PrinterID: j.PrinterURI, Title: j.Title, Content: j.Content, Copies: j.Copies,
		ExpiresAt: j.ExpiresAt}
}
