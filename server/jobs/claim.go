package jobs

import (
	"context"
	"fmt"

	"printdock/protocol"
)

// Claims. A job submitted on this server for a client whose newest session is subscribed here, and keeps
// up (its subscription is not full and holds no job waiting to be marked), is marked sent in that
// session's name by the transaction that creates it, and handed to the subscription as sent (Claimed): the
// session writes it without a second transaction, so the job reaches the agent one store round trip
// sooner and costs the single SQLite writer one statement (reading the client's session) instead of
// MarkPushedAll's UPDATE and its transaction. Its rows are those of a job queued and then sent: the job
// events "submitted" and "delivered to the agent", and both state changes in the event stream.
//
// The claim holds only if the session is still the client's newest when the transaction runs (the
// client's session number in the store is the subscriber's); otherwise the job is queued as before. What
// can go wrong after the commit is what can go wrong after MarkPushedAll: the session ends before it
// wrote the job, or a newer session of the client registered meanwhile. Either way the job is sent in a
// session older than the client's newest one, which is exactly what PendingFor hands to that newest one
// (a job sent and not received in an older session is sent again), and the agent takes a job it already
// has once.

// claimFor returns the subscription of the client's newest session here that may take a new job of size
// bytes as sent, or nil: a subscription with a session (SubscribeFunc), not behind (full), with no
// pushed job waiting to be marked (a claimed job would overtake it) and room for a batch.
func (s *Service) claimFor(clientID string, size int) *Subscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best *Subscription
	for f := range s.subs[clientID] {
		if f.seq == 0 || f.full || f.gone || len(f.jobs) > 0 ||
			len(f.claimed) >= s.o.BatchJobs || len(f.claimed) > 0 && f.cbytes+size > s.o.BatchBytes {
			continue
		}
		if best == nil || f.seq > best.seq {
			best = f
		}
	}
	return best
}

// claims reports, inside the transaction creating a job of clientID, whether the job may be created sent
// in session seq: whether seq is still the client's newest session.
func claims(ctx context.Context, q Queries, clientID string, seq int64) (bool, error) {
	n, err := q.ClientSession(ctx, clientID)
	if err != nil {
		return false, fmt.Errorf("jobs: submit: %w", err)
	}
	return n == seq, nil
}

// handClaimed hands j, committed as sent in f's session, to f (Claimed). An unsubscribed f drops it: its
// session has ended, and a newer session of the client finds the job in the store; the client's other
// subscriptions here are told to look (on PostgreSQL a newer session can have looked before the claim
// committed).
func (s *Service) handClaimed(clientID string, f *Subscription, j protocol.Job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.gone {
		s.notifyLocked(clientID)
		return
	}
	f.claimed = append(f.claimed, j)
	f.cbytes += len(j.Content)
	f.signal()
}

// Claimed returns, and forgets, the jobs claimed for the subscription's session since the last call,
// oldest first. They are marked sent already: send them as they are, before what Pushed returns, and only
// while the session is the client's newest (a newer session finds them in the store).
func (s *Service) Claimed(f *Subscription) []protocol.Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f == nil || f.gone {
		return nil
	}
	js := f.claimed
	f.claimed, f.cbytes = nil, 0
	return js
}
