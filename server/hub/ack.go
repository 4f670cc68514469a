package hub

import (
	"context"
	"sync"
	"time"

	"printdock/protocol"
)

// acker hands a session's job_status messages to the job queue, in order, on a goroutine that runs only
// while there are statuses to record: an idle session holds neither a goroutine nor a queue for them.
// The statuses that arrived while the previous ones were being recorded go together (Jobs.AckAll, one
// transaction), so a busy agent is not held to one store commit per status.
//
// A batch whose last status leaves its job unfinished (received, printing) waits up to ackLinger for
// more before it is recorded: an agent reports a job's received (and printing) and, a moment later, its
// done, and recorded together they cost the store one call and one read of the job instead of two (and
// a run of one job's received, printing and done, one statement: jobs.AckAll). The statuses are
// recorded in the same order either way; only the unfinished ones wait, and not while the session ends.
type acker struct {
	mu      sync.Mutex
	cond    sync.Cond            // signalled when the worker takes a batch or stops; uses mu
	queue   []protocol.JobStatus // read, not yet taken by the worker (at most ackQueue)
	running bool                 // a worker goroutine is recording
	waiting bool                 // the worker lingers for more: tell it on more
	ending  bool                 // the reader has ended, or waits for the queue to be recorded: no lingering
	more    chan struct{}        // made by the worker's first linger; room for one
}

// ackLinger is how long a batch ending with an unfinished job's status waits for more (see acker).
var ackLinger = 2 * time.Millisecond // a variable for tests

// ack queues a job_status read from the agent; the reader blocks while ackQueue of them wait (the agent
// then waits on TCP).
func (s *Session) ack(m protocol.JobStatus) {
	a := &s.acks
	a.mu.Lock()
	defer a.mu.Unlock()
	for len(a.queue) >= ackQueue {
		a.cond.Wait()
	}
	a.queue = append(a.queue, m)
	if a.waiting {
		a.waiting = false
		a.more <- struct{}{} // room: only the worker takes, and waiting is set once per take
	}
	if !a.running {
		a.running = true
		goDeep(s.ackWork)
	}
}

// ackWork records the queued statuses batch by batch and ends when none is left. What the agent reported
// is recorded even when the session is closing, so the store calls outlive the session context's
// cancellation.
func (s *Session) ackWork() {
	a := &s.acks
	ctx := context.WithoutCancel(s.ctx)
	var linger *time.Timer
	for {
		a.mu.Lock()
		s.linger(&linger)
		batch := a.queue
		a.queue = nil
		if len(batch) == 0 {
			a.running, a.more = false, nil // an idle session keeps no channel
		}
		a.cond.Broadcast()
		a.mu.Unlock()
		if len(batch) == 0 {
			if linger != nil {
				linger.Stop()
			}
			return
		}
		s.jobStatuses(ctx, batch)
	}
}

// linger waits, up to ackLinger from its call, while the queue's last status leaves its job unfinished
// and the reader goes on (see acker). a.mu is held on call and return; t is the worker's timer.
func (s *Session) linger(t **time.Timer) {
	a := &s.acks
	var deadline time.Time
	for n := len(a.queue); n > 0 && n < ackQueue && !a.ending && unfinished(a.queue[n-1]); n = len(a.queue) {
		now := time.Now()
		if deadline.IsZero() {
			deadline = now.Add(ackLinger)
		} else if !now.Before(deadline) {
			return
		}
		if a.more == nil {
			a.more = make(chan struct{}, 1)
		}
		a.waiting = true
		a.mu.Unlock()
		if *t == nil {
			*t = time.NewTimer(deadline.Sub(now))
		} else {
			(*t).Reset(deadline.Sub(now))
		}
		select {
		case <-a.more:
		case <-(*t).C:
		}
		a.mu.Lock()
		if a.waiting { // the timer fired first, and no status came since
			a.waiting = false
		} else {
			select { // a status came as the timer fired
			case <-a.more:
			default:
			}
		}
	}
}

// unfinished reports whether the job of st is to be reported again (a later status is expected soon).
func unfinished(st protocol.JobStatus) bool {
	return st.State == protocol.JobReceived || st.State == protocol.JobPrinting
}

// waitAcks returns once every status queued so far is recorded, the lingering batch at once. None is
// added meanwhile: the reader calls it, before a pong, or has ended (end: no batch lingers after it).
func (s *Session) waitAcks(end bool) {
	a := &s.acks
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ending = true
	if a.waiting { // the batch lingering is recorded at once
		a.waiting = false
		a.more <- struct{}{}
	}
	for a.running {
		a.cond.Wait()
	}
	a.ending = end
}
