package hub

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"printdock/protocol"
	"printdock/server/jobs"
)

// Deliveries. Like the writer, a delivery goroutine runs only while there is something to look at, so
// an idle session holds none: once the agent's first printers message is recorded (PendingFor delivers
// only to printers in the agent's latest list), each wake-up starts a run unless one is active, and a
// run looks again as long as wake-ups arrived while it looked. Wake-ups come from the job queue (new work
// for the client), the hub (poke: the session became the client's newest again) and a failed look's
// retry timer. A wake-up for jobs submitted on this server hands them over (Jobs.Pushed): they are sent without
// reading them back; every other reason to look — the first look, a failure, a poke, a printers message,
// a cancel, another replica's job — asks the store (deliver).

// delivery is the state of a session's deliveries.
type delivery struct {
	mu          sync.Mutex
	started     bool               // the first printers list was recorded (startDelivery)
	ended       bool               // the session is ending: no run starts again
	running     bool               // a run is active
	again       bool               // a wake-up arrived since the active run last looked
	full        bool               // the next look asks the store
	fails       int                // failed looks in a row
	retry       *time.Timer        // the next look after a failure
	sub         *jobs.Subscription // the job queue subscription (Pushed)
	unsubscribe func()
	runs        sync.WaitGroup
	log         *slog.Logger // the session's logger once a run logged something (see Session.deliveryLog)
}

// startDelivery subscribes the session to its client's work and looks a first time (in the store: jobs
// queued before are found then). Only the first call does anything.
func (s *Session) startDelivery() {
	d := &s.dl
	d.mu.Lock()
	if d.started || d.ended {
		d.mu.Unlock()
		return
	}
	d.started = true
	d.mu.Unlock()
	sub, unsubscribe := s.hub.o.Jobs.SubscribeFunc(s.clientID, s.seq, func() { s.wakeDelivery(false) })
	d.mu.Lock()
	ended := d.ended
	d.sub, d.unsubscribe = sub, unsubscribe
	d.mu.Unlock()
	if ended {
		unsubscribe() // endDelivery ran meanwhile, before there was anything to unsubscribe
		return
	}
	s.wakeDelivery(true)
}

// wakeDelivery asks for a look at the client's work (full: in the store), starting a run when none is
// active. It never blocks: the job queue calls it with its lock held.
func (s *Session) wakeDelivery(full bool) {
	d := &s.dl
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.started || d.ended {
		return // before the first printers list the first look asks the store anyway
	}
	d.full = d.full || full
	if d.running {
		d.again = true
		return
	}
	d.running = true
	d.runs.Add(1) // under mu, and never after endDelivery set ended: no Add races with its Wait
	goDeep(s.deliverRun)
}

// deliverRun looks at the client's work until no wake-up arrived during its last look.
func (s *Session) deliverRun() {
	d := &s.dl
	defer d.runs.Done()
	js := s.hub.o.Jobs
	for {
		d.mu.Lock()
		full, sub := d.full, d.sub
		d.full, d.again = false, false
		d.mu.Unlock()
		s.sendClaimed(js.Claimed(sub))
		pushed, f := js.Pushed(sub) // taken even when asking the store, which finds them too
		var err error
		if full || f {
			err = s.deliver()
		} else {
			err = s.deliverPushed(pushed)
		}
		d.mu.Lock()
		if d.retry != nil {
			d.retry.Stop()
			d.retry = nil
		}
		if err != nil && s.ctx.Err() == nil {
			s.deliveryLog().Error("deliver jobs", "err", err)
			d.full = true // the jobs taken are in the store
			d.retry = time.AfterFunc(retryWait(d.fails, s.hub.o.RetryEvery), func() { s.wakeDelivery(true) })
			d.fails++
		} else if err == nil {
			d.fails = 0
		}
		if !d.again || d.ended || s.ctx.Err() != nil {
			d.running = false
			d.mu.Unlock()
			return
		}
		d.mu.Unlock()
	}
}

// endDelivery stops the session's deliveries (the session context has ended, so an active run returns
// soon), waits for the active run and unsubscribes.
func (s *Session) endDelivery() {
	d := &s.dl
	d.mu.Lock()
	d.ended = true
	if d.retry != nil {
		d.retry.Stop()
	}
	unsubscribe := d.unsubscribe
	d.mu.Unlock()
	d.runs.Wait()
	if unsubscribe != nil {
		unsubscribe()
	}
}

// deliveryLog is the session's logger for its delivery runs, built the first time a run logs something
// and kept after (an idle session that never logged holds none). Only runs call it, one at a time.
func (s *Session) deliveryLog() *slog.Logger {
	if s.dl.log == nil {
		s.dl.log = s.logger()
	}
	return s.dl.log
}

// debugging reports whether debug records are logged, so a delivery builds no logger for one dropped.
func (s *Session) debugging() bool { return s.hub.log.Enabled(s.ctx, slog.LevelDebug) }

// retryFirst is the wait before a failed delivery is tried again the first time; it doubles with every
// failure in a row, up to Options.RetryEvery. A transient failure (a serialization conflict among
// replicas) then costs a tenth of a second, not RetryEvery, while a store that stays down is asked at
// most every RetryEvery.
const retryFirst = 100 * time.Millisecond

func retryWait(fails int, most time.Duration) time.Duration {
	if fails >= 16 {
		return most
	}
	return min(retryFirst<<fails, most)
}

// sendCancels sends a `cancel` for each of the client's jobs a user cancelled after delivery, once per
// session (a new session sends them again: the agent may not have read them), by the client's newest
// session only. An agent whose hello does not list protocol.FeatureCancel is sent none (the job queue
// refuses such cancellations anyway). Only the delivery goroutine calls it.
func (s *Session) sendCancels() error {
	if !s.hello.Has(protocol.FeatureCancel) {
		return nil
	}
	ids, err := s.hub.o.Jobs.CancelsFor(s.ctx, s.clientID)
	if err != nil {
		return err
	}
	// A job is claimed (handed to the subscription) before its 201 answers the submitter, so before anyone
	// can cancel it: sending what was claimed since the run took it puts every job before its cancel.
	s.dl.mu.Lock()
	sub := s.dl.sub
	s.dl.mu.Unlock()
	s.sendClaimed(s.hub.o.Jobs.Claimed(sub))
	// Forget the jobs whose cancellation is settled, so the set stays as small as the pending list.
	for id := range s.cancelled {
		if !slices.Contains(ids, id) {
			delete(s.cancelled, id)
		}
	}
	for _, id := range ids {
		if _, done := s.cancelled[id]; done {
			continue
		}
		b, err := protocol.Encode(protocol.Cancel{JobID: id})
		if err != nil {
			s.deliveryLog().Error("encode cancel", "job_id", id, "err", err)
			continue
		}
		select {
		case s.jobs <- b:
			s.wakeWriter() // the writer runs only while there is something to write
		case <-s.ctx.Done():
			return nil
		}
		if s.cancelled == nil {
			s.cancelled = make(map[string]struct{})
		}
		s.cancelled[id] = struct{}{}
		if s.debugging() {
			s.deliveryLog().Debug("cancel sent", "job_id", id)
		}
	}
	return nil
}

// sendClaimed sends jobs the job queue marked sent in this session as it created them (jobs.Claimed),
// unless a newer session of the client registered meanwhile: that one finds them in the store (PendingFor
// hands a newer session the jobs sent, and not received, in an older one). It is told to look (Wake): it
// may have looked before the claim committed (on PostgreSQL the claim's read of the client's session can
// precede a new session's registration by the time it commits).
func (s *Session) sendClaimed(js []protocol.Job) {
	if len(js) == 0 {
		return
	}
	if !s.hub.newest(s) {
		s.hub.o.Jobs.Wake(s.clientID)
		return
	}
	for _, j := range js {
		if b := s.encodeJob(j); b != nil && !s.queueJob(j, b) {
			return
		}
	}
}

// encodeJob is j's message, or nil (logged) when it cannot be encoded.
func (s *Session) encodeJob(j protocol.Job) []byte {
	b, err := protocol.Encode(j)
	if err != nil {
		s.deliveryLog().Error("encode job", "job_id", j.JobID, "err", err)
		return nil
	}
	return b
}

// queueJob queues a job message marked sent for the writer; false when the session ended first (the job
// stays sent and unacknowledged: it is redelivered after the reconnect).
func (s *Session) queueJob(j protocol.Job, b []byte) bool {
	select {
	case s.jobs <- b:
		s.wakeWriter() // the writer runs only while there is something to write
	case <-s.ctx.Done():
		return false
	}
	if s.hub.o.JobSent != nil {
		s.hub.o.JobSent()
	}
	if s.debugging() {
		s.deliveryLog().Debug("job sent", "job_id", j.JobID, "printer", j.PrinterID, "bytes", len(b))
	}
	return true
}

// deliverPushed sends jobs handed over by the job queue (Jobs.Pushed), as deliver sends a PendingFor
// batch, but marks them with MarkPushedAll, which refuses a job no longer queued (a PendingFor batch sent
// it meanwhile, or it was cancelled). A job for a printer missing from the agent's latest list waits:
// the store is asked instead (deliver), which leaves it queued.
func (s *Session) deliverPushed(js []protocol.Job) error {
	if len(js) == 0 {
		return nil
	}
	s.mu.Lock()
	listed := true
	for _, j := range js {
		listed = listed && slices.ContainsFunc(s.printers, func(p protocol.Printer) bool { return p.ID == j.PrinterID })
	}
	s.mu.Unlock()
	if !listed {
		return s.deliver()
	}
	_, err := s.sendJobs(js, s.hub.o.Jobs.MarkPushedAll)
	return err
}

// deliver sends every job PendingFor returns, batch by batch, until none is left (see sendJobs). Only the
// client's newest session delivers, and sends the client's cancels first.
func (s *Session) deliver() error {
	h, ctx := s.hub, s.ctx
	if h.newest(s) {
		if err := s.sendCancels(); err != nil {
			return err
		}
	}
	for {
		batch, err := h.o.Jobs.PendingFor(ctx, s.clientID)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		more, err := s.sendJobs(batch, h.o.Jobs.MarkSentAll)
		if err != nil || !more {
			return err
		}
	}
}

// sendJobs sends a batch of jobs. They are marked sent (mark: Jobs.MarkSentAll or MarkPushedAll, one
// transaction) BEFORE they are queued for the writer; a job mark refuses (cancelled or expired meanwhile)
// is skipped. Only the client's newest session sends, and the check and the marking happen under the
// client's lock, which a new session of the client holds while it registers: so a job is never marked
// sent in the new session's name while an old session writes it (it would then not be redelivered).
// more is false when the session is not to send more (not the newest, ending, nothing encodable).
func (s *Session) sendJobs(batch []protocol.Job, mark func(context.Context, []string) ([]error, error)) (more bool, err error) {
	h, ctx := s.hub, s.ctx
	msgs := make([][]byte, 0, len(batch))
	ids := make([]string, 0, len(batch))
	sent := batch[:0:0]
	for _, j := range batch {
		if b := s.encodeJob(j); b != nil {
			msgs, ids, sent = append(msgs, b), append(ids, j.JobID), append(sent, j)
		}
	}
	if len(ids) == 0 {
		return false, nil // only jobs that cannot be encoded (logged); do not spin on them
	}
	lock := h.clientLock(s.clientID)
	lock.Lock()
	if !h.newest(s) {
		lock.Unlock()
		return false, nil // a newer session of the client delivers
	}
	errs, err := mark(ctx, ids)
	lock.Unlock()
	if err != nil {
		return false, err
	}
	for i, j := range sent {
		if err := errs[i]; err != nil {
			if !errors.Is(err, jobs.ErrConflict) && !errors.Is(err, jobs.ErrNotFound) {
				return false, err
			}
			if s.debugging() {
				s.deliveryLog().Debug("job not sent", "job_id", j.JobID, "err", err)
			}
			continue
		}
		if !s.queueJob(j, msgs[i]) {
			return false, nil
		}
	}
	return true, nil
}
