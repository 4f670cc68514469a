package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"printdock/internal/clip"
	"printdock/protocol"
	"printdock/server/store"
)

// PendingFor returns the next batch of jobs to send to the client, oldest first, as protocol messages
// (PrinterID is the printer's URI, the agent's own ID for it): queued jobs, and jobs sent in an earlier
// session of the client that the agent never acknowledged (redelivery after a reconnect). Only jobs for
// printers in the agent's latest list are returned; the others wait. Jobs past their expiry are marked
// expired and left out. A batch holds at most Options.BatchJobs jobs and BatchBytes of content (at least
// one job); call PendingFor again — after MarkSent on each job sent — until it returns none.
func (s *Service) PendingFor(ctx context.Context, clientID string) ([]protocol.Job, error) {
	c, err := s.st.GetClient(ctx, clientID)
	if err != nil {
		return nil, storeErr("pending", fmt.Sprintf("client %q not found", clientID), err)
	}
	for {
		js, err := s.st.PendingJobs(ctx, clientID, c.SessionSeq, s.o.BatchJobs)
		if err != nil {
			return nil, fmt.Errorf("jobs: pending: %w", err)
		}
		now := s.now()
		var out []protocol.Job
		var expired []store.Job
		size := 0
		for _, j := range js {
			if !now.Before(j.ExpiresAt) {
				expired = append(expired, j)
				continue
			}
			if len(out) > 0 && size+len(j.Content) > s.o.BatchBytes {
				break
			}
			size += len(j.Content)
			out = append(out, protocol.Job{JobID: j.ID, PrinterID: j.PrinterURI, Title: j.Title, Content: j.Content,
				Copies: j.Copies, ExpiresAt: j.ExpiresAt})
		}
		if len(expired) > 0 {
			if _, err := s.expire(ctx, expired, now); err != nil {
				return nil, err
			}
		}
		if len(out) > 0 || len(js) < s.o.BatchJobs || len(expired) == 0 {
			return out, nil
		}
		// A full batch of expired jobs: look again.
	}
}

// expire moves each job (queued, or sent and never received) to expired, skipping jobs that changed
// meanwhile. It returns how many it expired.
func (s *Service) expire(ctx context.Context, js []store.Job, now time.Time) (int, error) {
	n := 0
	err := s.st.InTx(ctx, func(q store.Store) error {
		n = 0 // fn may run again (a store that retries serialization failures)
		for _, j := range js {
			cur, err := q.GetJob(ctx, j.ID)
			if err != nil {
				return fmt.Errorf("jobs: expire: %w", err)
			}
			if !(cur.State == Queued || cur.State == Sent && cur.ReceivedAt == nil) || now.Before(cur.ExpiresAt) {
				continue
			}
			reason := "expired before it reached the agent"
			if err := s.apply(ctx, q, &cur, change{to: Expired, reason: reason, actor: actorServer}, now); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if n > 0 {
		s.log.InfoContext(ctx, "jobs expired", "count", n)
	}
	return n, nil
}

// MarkSent records that the job is being delivered to its client now. Call it BEFORE writing the job
// message: if it fails (the job was cancelled or expired meanwhile, ErrConflict), do not send. A job
// whose message is then lost stays sent and unacknowledged and is redelivered after the client
// reconnects.
func (s *Service) MarkSent(ctx context.Context, jobID string) error {
	errs, err := s.MarkSentAll(ctx, []string{jobID})
	if err != nil {
		return err
	}
	return errs[0]
}

// MarkSentAll is MarkSent for several jobs in one transaction (the hub marks a PendingFor batch at
// once): errs[i] is MarkSent's answer for jobIDs[i] (nil: send it). err is set, and nothing recorded,
// when the transaction failed.
func (s *Service) MarkSentAll(ctx context.Context, jobIDs []string) (errs []error, err error) {
	return s.markAll(ctx, jobIDs, false)
}

// inBatch runs fn for items 0..len(jobIDs)-1 (item i is about job jobIDs[i]) in one transaction:
// errs[i] is item i's verdict (an answer for that item alone, isVerdict), while any other error rolls
// the whole batch back and is returned as err. A serialization failure (store.ErrSerialization) is never
// a verdict: the transaction is aborted, so the batch stops there and the store runs it again from the
// start.
func (s *Service) inBatch(ctx context.Context, jobIDs []string, fn func(q store.Store, i int) error) (errs []error, err error) {
	n := len(jobIDs)
	// Every verdict rests on the job rows fn reads, and fn writes only to them or appends: the store may
	// lock those rows instead of serializing (store.WithRowLocks), all of them first, in one order, so
	// that two batches of one client (deliveries and statuses) wait for each other instead of deadlocking.
	err = s.st.InTx(store.WithRowLocks(ctx), func(q store.Store) error {
		if l, ok := q.(store.JobLocker); ok {
			if err := l.LockJobs(ctx, jobIDs); err != nil {
				return fmt.Errorf("jobs: lock jobs: %w", err)
			}
		}
		errs = make([]error, n) // fn may run again
		for i := range n {
			err := fn(q, i)
			if err != nil && (errors.Is(err, store.ErrSerialization) || !isVerdict(err)) {
				return err
			}
			errs[i] = err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return errs, nil
}

// isVerdict reports whether err is an answer about one job (not found, not to be sent, …) rather than a
// failure of the store, which fails the whole transaction.
func isVerdict(err error) bool {
	return errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) || errors.Is(err, ErrForbidden) ||
		errors.Is(err, ErrInvalid)
}

// markSent marks one job sent in q. A verdict (isVerdict) is returned only before anything was written,
// except for an expired job, whose expiry is recorded (and kept) before ErrConflict is returned.
// queuedOnly refuses a job already sent. sessions caches the clients' session counters within the
// transaction.
func (s *Service) markSent(ctx context.Context, q Queries, jobID string, queuedOnly bool, sessions map[string]int64, now time.Time) error {
	// Most jobs are queued and deliverable: one UPDATE … RETURNING marks them (no read of the job and its
	// client first). Any other job is read to say why it is not sent, or to send it again.
	sent, err := q.SendQueuedJob(ctx, jobID, now)
	if err == nil {
		j := sent
		j.State, j.Attempts = Queued, sent.Attempts-1 // as it was: record describes the change from there
		return s.record(ctx, q, &j, sentChange(j, sent.SentSession), now)
	}
	if !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("jobs: mark sent: %w", err)
	}
	j, err := q.GetJob(ctx, jobID)
	if err != nil {
		return storeErr("mark sent", fmt.Sprintf("job %q not found", jobID), err)
	}
	if !(j.State == Queued || j.State == Sent && j.ReceivedAt == nil && !queuedOnly) {
		return fmt.Errorf("%w: job %s is %s and is not to be sent", ErrConflict, jobID, j.State)
	}
	if j.CancelRequestedAt != nil {
		return fmt.Errorf("%w: job %s is being cancelled and is not to be sent", ErrConflict, jobID)
	}
	if !now.Before(j.ExpiresAt) {
		if err := s.apply(ctx, q, &j, change{to: Expired, reason: "expired before it reached the agent", actor: actorServer}, now); err != nil {
			return err
		}
		return fmt.Errorf("%w: job %s has expired", ErrConflict, jobID)
	}
	seq, ok := sessions[j.ClientID]
	if !ok {
		c, err := q.GetClient(ctx, j.ClientID)
		if err != nil {
			return fmt.Errorf("jobs: mark sent: %w", err)
		}
		seq = c.SessionSeq
		sessions[j.ClientID] = seq
	}
	return s.apply(ctx, q, &j, sentChange(j, seq), now)
}

// sentChange is the delivery of j (as it is before it) in the client's session seq.
func sentChange(j store.Job, seq int64) change {
	ev := "delivered to the agent"
	if j.Attempts > 0 {
		ev = fmt.Sprintf("delivered to the agent again (attempt %d)", j.Attempts+1)
	}
	return change{to: Sent, event: ev, actor: actorServer, sent: true, session: seq}
}

// Ack applies a job_status from the client:
//   - received: the agent has the job (spooled); it is not redelivered.
//   - printing: sent → printing.
//   - done: → done.
//   - failed without retry: → failed with the agent's reason.
//   - failed with retry: the agent keeps the job in its spool and retries by itself, so the server does
//     not redeliver it: the state stays (sent or printing), Reason shows why it waits, an event records it.
//   - cancelled (the answer to a `cancel`): sent → cancelled, "cancelled by" the requester.
//   - printing or done after a cancel request: as above, and Reason says the cancel came too late.
//
// Every status counts as the agent's receipt. A status for a job the client does not own (its printer
// belongs to another client) is ErrForbidden; an unknown job ErrNotFound. A status for a finished job is
// ignored when it repeats the outcome; otherwise it is recorded as an event and answered ErrConflict (e.g.
// the agent printed a job a user cancelled after delivery). Times are the server's, not the agent's.
func (s *Service) Ack(ctx context.Context, clientID string, st protocol.JobStatus) error {
	errs, err := s.AckAll(ctx, clientID, []protocol.JobStatus{st})
	if err != nil {
		return err
	}
	return errs[0]
}

// AckAll applies several job_status messages of the client, in order, in one transaction (the hub
// passes the statuses that arrived while the previous ones were being recorded): errs[i] is Ack's answer
// for sts[i]. err is set, and nothing recorded, when the transaction failed. A run of one job's received,
// printing and done, as agents report most jobs, takes one statement (ackRun).
func (s *Service) AckAll(ctx context.Context, clientID string, sts []protocol.JobStatus) (errs []error, err error) {
	now := s.now()
	ids := make([]string, len(sts))
	for i, st := range sts {
		ids[i] = st.JobID
	}
	var seen map[string]*store.Job // the batch's jobs as read and changed so far: several statuses of a job read it once
	var missed map[string]bool     // jobs ackRun refused in the batch
	applied := 0                   // statuses up to this index were applied with one before them (ackRun)
	return s.inBatch(ctx, ids, func(q store.Store, i int) error {
		if i == 0 {
			seen, missed, applied = map[string]*store.Job{}, map[string]bool{}, 0 // the transaction may run again
		}
		if i < applied {
			return nil
		}
		if n, err := s.ackRun(ctx, q, clientID, sts, i, seen, missed, now); n > 0 || err != nil {
			applied = i + n
			return err
		}
		return s.ack(ctx, q, clientID, sts[i], sts[i+1:], seen, now)
	})
}

// writesReceived reports whether the first of rest about job id is a status that, for a job sent and
// received, always updates its row, receipt included (printing, done, failed): the receipt before it
// then needs no UPDATE of its own (a received that ackRun did not take with the statuses after it).
func writesReceived(rest []protocol.JobStatus, id string) bool {
	for _, st := range rest {
		if st.JobID == id {
			return st.State == protocol.JobPrinting || st.State == protocol.JobDone || st.State == protocol.JobFailed
		}
	}
	return false
}

// ack applies one status in q (seen caches the jobs read in the transaction; rest are the statuses after
// it in the batch). A verdict (isVerdict) is returned only before anything was written, except
// ErrConflict for a finished job, returned after its note was recorded (and is kept).
func (s *Service) ack(ctx context.Context, q Queries, clientID string, st protocol.JobStatus, rest []protocol.JobStatus,
	seen map[string]*store.Job, now time.Time) error {
	switch st.State {
	case protocol.JobReceived, protocol.JobPrinting, protocol.JobDone, protocol.JobFailed, protocol.JobCancelled:
	default:
		return fmt.Errorf("%w: unknown job state %q", ErrInvalid, st.State)
	}
	reason := clip.String(st.Reason, maxReasonLen)
	actor := actorAgent(clientID)
	j := seen[st.JobID]
	if j == nil {
		row, err := q.GetJob(ctx, st.JobID)
		if err != nil {
			return storeErr("ack", fmt.Sprintf("job %q not found", st.JobID), err)
		}
		j = &row
		seen[st.JobID] = j // apply keeps it current
	}
	if j.ClientID != clientID {
		return fmt.Errorf("%w: job %s belongs to another client", ErrForbidden, st.JobID)
	}
	if j.State.Terminal() {
		if st.State == string(j.State) && (j.State == Done || !st.Retry) {
			return nil // a repeated report
		}
		msg := fmt.Sprintf("agent reported %s after the job was %s", st.State, j.State)
		if reason != "" {
			msg += ": " + reason
		}
		if err := s.note(ctx, q, *j, msg, actor, now); err != nil {
			return err
		}
		return fmt.Errorf("%w: job %s is already %s", ErrConflict, st.JobID, j.State) // the note is kept
	}
	if j.State == Queued {
		// The hub wrote the job before MarkSent committed: the status proves delivery.
		c, err := q.GetClient(ctx, clientID)
		if err != nil {
			return fmt.Errorf("jobs: ack: %w", err)
		}
		if err := s.apply(ctx, q, j, change{to: Sent, event: "delivered to the agent", actor: actorServer,
			sent: true, session: c.SessionSeq}, now); err != nil {
			return err
		}
	}
	switch st.State {
	case protocol.JobReceived:
		if j.State != Sent || j.ReceivedAt != nil {
			return nil // late or repeated
		}
		c := change{to: Sent, reason: j.Reason, event: "received by the agent", actor: actor, received: true}
		if writesReceived(rest, j.ID) {
			return s.record(ctx, q, j, c, now) // its event now, its row with the next status's
		}
		return s.apply(ctx, q, j, c, now)
	case protocol.JobPrinting:
		if j.State == Printing {
			return nil
		}
		late := progressReason(*j, reason)
		return s.apply(ctx, q, j, change{to: Printing, reason: late, event: withReason("printing", late), actor: actor,
			received: true}, now)
	case protocol.JobDone:
		late := progressReason(*j, reason)
		return s.apply(ctx, q, j, change{to: Done, reason: late, event: withReason("printed", late), actor: actor,
			received: true}, now)
	case protocol.JobCancelled:
		return s.ackCancelled(ctx, q, j, actor, now)
	default: // failed
		if reason == "" {
			reason = "the agent reported a failure without a reason"
		}
		if st.Retry {
			return s.apply(ctx, q, j, change{to: j.State, reason: reason, event: "the agent will retry: " + reason,
				actor: actor, received: true}, now)
		}
		return s.apply(ctx, q, j, change{to: Failed, reason: reason, actor: actor, received: true}, now)
	}
}

// withReason is event, or "event; reason".
func withReason(event, reason string) string {
	if reason == "" {
		return event
	}
	return event + "; " + reason
}

// ExpireDue is the sweeper: it marks expired every job past its expiry that the agent never received
// (queued, or sent without acknowledgement), and failed every job the agent received but reported no
// result for within Options.ResultWait after its expiry. It returns how many jobs it changed.
func (s *Service) ExpireDue(ctx context.Context, now time.Time) (int, error) {
	now = now.UTC().Truncate(time.Microsecond)
	const batch = 500
	total := 0
	no, yes := false, true
	for {
		js, err := s.st.ListJobs(ctx, store.JobFilter{AllPortals: true, States: []State{Queued, Sent}, Received: &no,
			ExpiresBy: now, OldestFirst: true, Limit: batch})
		if err != nil {
			return total, fmt.Errorf("jobs: expire: %w", err)
		}
		n, err := s.expire(ctx, js, now)
		total += n
		if err != nil {
			return total, err
		}
		if len(js) < batch || n == 0 {
			break
		}
	}
	for {
		js, err := s.st.ListJobs(ctx, store.JobFilter{AllPortals: true, States: []State{Sent, Printing}, Received: &yes,
			ExpiresBy: now.Add(-s.o.ResultWait), OldestFirst: true, Limit: batch})
		if err != nil {
			return total, fmt.Errorf("jobs: expire: %w", err)
		}
		n := 0
		reason := fmt.Sprintf("the agent reported no result within %s after the job expired", s.o.ResultWait)
		err = s.st.InTx(ctx, func(q store.Store) error {
			n = 0 // fn may run again
			for _, j := range js {
				err := s.apply(ctx, q, &j, change{to: Failed, reason: reason, actor: actorServer}, now)
				if errors.Is(err, ErrConflict) {
					continue // changed meanwhile
				}
				if err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if len(js) < batch || n == 0 {
			break
		}
	}
	return total, nil
}

// Run calls ExpireDue every interval (a minute when <= 0) until ctx ends.
func (s *Service) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.ExpireDue(ctx, s.o.Clock()); err != nil && ctx.Err() == nil {
				s.log.ErrorContext(ctx, "expiring jobs failed", "err", err)
			}
		}
	}
}
