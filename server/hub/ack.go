package hub

import (
	"context"
	"sync"

	"printdock/protocol"
)

// acker hands a session's job_status messages to the job queue, in order, on a goroutine that runs only
// while there are statuses to record: an idle session holds neither a goroutine nor a queue for them.
// The statuses that arrived while the previous ones were being recorded go together (Jobs.AckAll, one
// transaction), so a busy agent is not held to one store commit per status.
type acker struct {
	mu      sync.Mutex
	cond    sync.Cond            // signalled when the worker takes a batch or stops; uses mu
	queue   []protocol.JobStatus // read, not yet taken by the worker (at most ackQueue)
	running bool                 // a worker goroutine is recording
}

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
	if !a.running {
		a.running = true
		go s.ackWork()
	}
}

// ackWork records the queued statuses batch by batch and ends when none is left. What the agent reported
// is recorded even when the session is closing, so the store calls outlive the session context's
// cancellation.
func (s *Session) ackWork() {
	a := &s.acks
	ctx := context.WithoutCancel(s.ctx)
	for {
		a.mu.Lock()
		batch := a.queue
		a.queue = nil
		if len(batch) == 0 {
			a.running = false
		}
		a.cond.Broadcast()
		a.mu.Unlock()
		if len(batch) == 0 {
			return
		}
		s.jobStatuses(ctx, batch)
	}
}

// waitAcks returns once every status queued so far is recorded. None is added meanwhile: the reader
// calls it (before a pong), or has ended.
func (s *Session) waitAcks() {
	a := &s.acks
	a.mu.Lock()
	defer a.mu.Unlock()
	for a.running {
		a.cond.Wait()
	}
}
