package agent

import (
	"context"
	"time"

	"printdock/agent/spool"
)

// process drives one job until it is finished, or ctx ends (it then stays open in the spool): it asks
// decide what to do and does the I/O (printer, spool, reports).
func (r *spooler) process(ctx context.Context, id string) {
	j, ok := r.out.freshJob(id) // stored lazily: not readable before its commit
	var err error
	if !ok {
		j, err = r.sp.Get(ctx, id)
	}
	if err != nil {
		if ctx.Err() == nil {
			r.log.Error(spoolStorageFailed, "job_id", id, "error", err)
		}
		return
	}
	finish := func(state, reason string) {
		_, _ = r.out.step(id, func() (spool.Job, error) { return r.sp.Finish(ctx, id, state, reason, time.Now().UTC()) }, true)
		r.notify()
	}
	content := j.Content // the spool's later answers do not carry it
	attempt := 0
	reportedPrinting := false
	var pv printerView // the view of the last failed write, if any
	for j.Open() && ctx.Err() == nil {
		var pid string
		if !pv.WriteFailed {
			pid, pv.Present, pv.Known = r.resolve(j.PrinterID)
			if pv.Present {
				pv.setCaps(r.printers.caps(pid))
			}
		}
		d := decide(j, pv, r.pol, time.Now())
		if d.Act == actCheck {
			st, c, serr := r.printers.checkNow(ctx, pid)
			if ctx.Err() != nil {
				return
			}
			pv.setCaps(c)
			pv.Checked, pv.Problem = true, problemOf(st, serr)
			pv.Silent = pv.Problem == ReasonNotAnswering
			d = decide(j, pv, r.pol, time.Now())
		}
		if pv.WriteFailed && d.Reason != ReasonDisconnectedMidJob {
			// The write failed before a complete label went out (or the policy is reprint): not written.
			if j, err = r.sp.NotWritten(ctx, id, time.Now().UTC()); err != nil {
				return
			}
		}
		afterWrite := pv.WriteFailed
		pv = printerView{}
		switch d.Act {
		case actFail:
			if j.InFlight && !afterWrite {
				r.log.Warn("agent: job interrupted while it was being written; not printing it again", "job_id", id, "policy", r.pol.Interrupted)
			}
			finish(spool.Failed, d.Reason)
			return
		case actReprint:
			r.log.Warn("agent: job interrupted while it was being written; printing it again (policy reprint)", "job_id", id)
			if j, err = r.sp.NotWritten(ctx, id, time.Now().UTC()); err != nil {
				return
			}
			continue
		case actPrint:
			var werr, serr error
			j, werr, serr = r.writeCopies(ctx, pid, j, content, &reportedPrinting)
			if serr != nil {
				return // logged; the job stays open in the spool and resumes after a restart
			}
			if werr == nil {
				if j.State == spool.Done {
					r.notify()
				}
				continue
			}
			reason, ambiguous := writeOutcome(werr, content)
			if ctx.Err() != nil {
				// Stopping, and the write did not complete within the grace period.
				if !ambiguous {
					_, _ = r.sp.NotWritten(context.WithoutCancel(ctx), id, time.Now().UTC())
				}
				return
			}
			r.log.Warn("agent: write to the printer failed", "job_id", id, "printer", pid, "error", werr, "may_have_printed", ambiguous)
			pv = printerView{WriteFailed: true, MayHavePrinted: ambiguous, Problem: reason}
			continue
		}
		// actWait: the printer cannot take the job now.
		if !j.Waiting || j.Reason != d.Reason {
			r.log.Info("agent: job waits for its printer", "job_id", id, "printer", j.PrinterID, "reason", d.Reason)
			nj, err := r.out.step(id, func() (spool.Job, error) { return r.sp.Wait(ctx, id, d.Reason, time.Now().UTC()) }, true)
			if err != nil {
				return
			}
			j = nj
			reportedPrinting = false
			r.notify()
		}
		r.pause(ctx, attempt)
		attempt++
		if nj, err := r.sp.Get(ctx, id); err == nil {
			j = nj // it may have been discarded meanwhile
		}
	}
}

// writeCopies writes the remaining copies, recording each before and after it goes out. werr is a failed
// write to the printer, serr a failed spool update.
func (r *spooler) writeCopies(ctx context.Context, pid string, j spool.Job, content []byte, reportedPrinting *bool) (_ spool.Job, werr, serr error) {
	// A write under way when the agent is asked to stop gets a grace period to complete, so a clean stop
	// does not interrupt a label.
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(stopWriteGrace, cancel) })
	defer stop()
	for j.CopiesDone < j.Copies {
		if ctx.Err() != nil {
			return j, nil, ctx.Err()
		}
		report := !*reportedPrinting
		nj, err := r.out.step(j.ID, func() (spool.Job, error) { return r.sp.StartCopy(ctx, j.ID, time.Now().UTC()) }, report)
		if err != nil {
			return j, nil, err
		}
		j = nj
		*reportedPrinting = true
		if err := r.printers.send(wctx, pid, content); err != nil {
			return j, err, nil
		}
		last := j.CopiesDone+1 >= j.Copies
		if last && r.sched.hasNext(j.PrinterID) {
			// The next job is queued: its StartCopy commits this too (one sync for both); done is
			// reported after that commit. Until then a crash leaves this copy in doubt (docs/spool.md).
			r.wg.Add(1) // wait() waits for the report
			r.out.stepLater(j.ID, func(then func(spool.Job, error)) { r.sp.CopyWrittenLater(j.ID, time.Now().UTC(), then) },
				func() { r.notify(); r.wg.Done() })
			j.CopiesDone, j.InFlight, j.State = j.CopiesDone+1, false, spool.Done // as CopyWritten makes it
			return j, nil, nil
		}
		nj, err = r.out.step(j.ID, func() (spool.Job, error) {
			return r.sp.CopyWritten(context.WithoutCancel(ctx), j.ID, time.Now().UTC())
		}, last)
		if err != nil {
			return j, nil, err
		}
		j = nj
	}
	return j, nil, nil
}

// pause waits before the next look at a printer: exponential from retryMin to retryMax, cut short by a
// change of the printers (a poll saw it come back).
func (r *spooler) pause(ctx context.Context, attempt int) {
	d := r.retryMin
	for i := 0; i < attempt && d < r.retryMax; i++ {
		d *= 2
	}
	d = min(d, r.retryMax)
	ch := r.printers.subscribe()
	defer r.printers.unsubscribe(ch)
	wake := make(chan struct{}, 1)
	r.mu.Lock()
	r.waiters[wake] = true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.waiters, wake)
		r.mu.Unlock()
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-ch:
	case <-wake:
	}
}
