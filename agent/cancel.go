package agent

import (
	"context"
	"errors"
	"time"

	"printdock/agent/localapi"
	"printdock/agent/spool"
	"printdock/protocol"
)

// Errors of a cancel or discard.
var (
	// ErrTooLate: the job has started printing or is finished; it can no longer be discarded.
	ErrTooLate = errors.New("too late to cancel")
	// ErrNotWaiting: a local discard is for a job waiting on its printer only.
	ErrNotWaiting = errors.New("job not waiting")
)

// Reasons of cancelled jobs.
const (
	reasonCancelled = "cancelled by the server before it was printed"
	reasonDiscarded = "discarded at the agent before it was printed"
)

// discardable reports whether j may still be discarded: open, and no copy written or in flight.
func discardable(j spool.Job) bool { return j.Open() && !j.InFlight && j.CopiesDone == 0 }

// tooLate is why an open or finished job can no longer be cancelled, for the reason of its answer.
func tooLate(j spool.Job) string {
	switch {
	case j.State == spool.Done:
		return "too late to cancel: the job was already printed"
	case j.Open():
		return "too late to cancel: the agent has started writing it to the printer"
	}
	return "too late to cancel: the job is already " + j.State
}

// discard finishes job id as cancelled if it has not started writing (and, with waitingOnly, only if
// it waits on its printer), reporting it; the check and the change happen under the job's report lock,
// which the executor's StartCopy also takes, so a discarded job never starts printing. It returns the
// job as it is afterwards and, when it could not be discarded, ErrTooLate or ErrNotWaiting.
func (r *spooler) discard(ctx context.Context, id, reason string, waitingOnly bool) (spool.Job, error) {
	var j spool.Job
	var err error
	r.out.withJob(id, func() {
		if _, fresh := r.out.freshJob(id); fresh {
			err = r.sp.Sync(ctx) // its insert is committed, so Get finds it
		}
		if err != nil {
			return
		}
		if j, err = r.sp.Get(ctx, id); err != nil {
			return
		}
		switch {
		case !discardable(j):
			err = ErrTooLate
			return
		case waitingOnly && !j.Waiting:
			err = ErrNotWaiting
			return
		}
		if j, err = r.sp.Finish(ctx, id, spool.Cancelled, reason, time.Now().UTC()); err == nil {
			r.out.sendLocked(j)
		}
	})
	if err == nil {
		r.log.Info("agent: job discarded", "job_id", id, "reason", reason)
		r.wakeWaiters()
		r.notify()
	}
	return j, err
}

// cancel answers the server's cancel message for job id: cancelled when it was discarded, otherwise
// its current state with the reason it is too late.
func (r *spooler) cancel(ctx context.Context, id string) {
	j, err := r.discard(ctx, id, reasonCancelled, false)
	switch {
	case err == nil:
	case errors.Is(err, ErrTooLate):
		st := statusOf(j)
		if st.State != protocol.JobCancelled && st.State != protocol.JobFailed {
			st.Retry, st.Reason = false, tooLate(j)
		}
		r.log.Info("agent: cancel came too late", "job_id", id, "state", st.State)
		_ = r.out.send(st)
	case errors.Is(err, spool.ErrNotFound):
		r.log.Info("agent: cancel for a job this agent does not have", "job_id", id)
	default:
		r.log.Warn("agent: cancel failed", "job_id", id, "error", err)
	}
}

// DiscardJob discards job id while it waits on its printer (out of paper, offline): it is reported
// cancelled and never prints, also not after the printer is back. A job that has started printing or
// is finished is not changed (ErrTooLate). On an agent that is not running it changes the spool file;
// the server hears of it after the next start.
func (a *Agent) DiscardJob(ctx context.Context, id string) (localapi.Job, error) {
	var j spool.Job
	var err error
	if spr := a.jobSpooler(); spr != nil {
		j, err = spr.discard(ctx, id, reasonDiscarded, true)
	} else {
		err = a.withSpool(ctx, func(sp *spool.Spool) error {
			var gerr error
			if j, gerr = sp.Get(ctx, id); gerr != nil {
				return gerr
			}
			switch {
			case !discardable(j):
				return ErrTooLate
			case !j.Waiting:
				return ErrNotWaiting
			}
			j, gerr = sp.Finish(ctx, id, spool.Cancelled, reasonDiscarded, time.Now().UTC())
			return gerr
		})
	}
	switch {
	case errors.Is(err, spool.ErrNotFound), errors.Is(err, ErrJobNotFound):
		return localapi.Job{}, uerr(ErrJobNotFound, err, "This agent has no job %q", id)
	case errors.Is(err, ErrTooLate):
		return apiJob(j), uerr(ErrTooLate, err, "The job %s cannot be discarded: %s", id, tooLate(j))
	case errors.Is(err, ErrNotWaiting):
		return apiJob(j), uerr(ErrNotWaiting, err, "The job %s is not waiting on its printer; only a waiting job can be discarded", id)
	case err != nil:
		return localapi.Job{}, err
	}
	return apiJob(j), nil
}
