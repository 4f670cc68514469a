package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"printdock/agent/spool"
	"printdock/printer"
	"printdock/protocol"
)

// Printer-problem policies (Config.PrinterProblem): what a job does when its printer cannot print.
const (
	PolicyWait = "wait" // keep the job, report failed with retry=true once, print when the printer is back
	PolicyFail = "fail" // report the job failed (not retried)
)

// Interrupted-job policies (Config.Interrupted): what to do with a job whose bytes may have reached the
// printer although the agent never learnt that the write completed (the agent died during the write, or
// the printer dropped after a complete label went out). See docs/spool.md.
const (
	InterruptedFail    = "fail"    // report failed "interrupted: may have printed; check the printer"
	InterruptedReprint = "reprint" // write it again (may print a label twice)
)

// Reasons the agent reports.
const (
	ReasonInterrupted  = "interrupted: may have printed; check the printer"
	ReasonDisconnected = "printer disconnected"
	// ReasonDisconnectedMidJob: the printer dropped after a complete label of the job went out.
	ReasonDisconnectedMidJob = "printer disconnected mid-job: may have printed; check the printer"
	ReasonExpired            = "the job expired before it could be printed"
	ReasonNotAnswering       = "printer not answering: out of media or head open?"
	reasonUnknownPrinter     = "unknown printer "
	reasonSpoolUnavailable   = "the agent could not store the job: "
)

// Spool timing.
const (
	defaultRetention = 7 * 24 * time.Hour
	defaultKeep      = 10000
	purgeEvery       = time.Hour
	flushEvery       = time.Second
	// restartResend: after a restart, statuses the previous process sent this long before it started are
	// sent again (it cannot know which of them the server processed).
	restartResend      = 2 * time.Minute
	stopWriteGrace     = 15 * time.Second
	defaultRetryMin    = 250 * time.Millisecond
	defaultRetryMax    = 10 * time.Second
	reportLockStripes  = 64
	flushBatchMax      = 512
	openJobsOnRestart  = "agent: resuming spooled jobs"
	spoolStorageFailed = "agent: spool write failed"
)

// spooler executes jobs through the durable spool (agent/spool): it stores each job before
// acknowledging it, prints one job at a time per printer, records every step before reporting it, and
// reports again on a new connection whatever the server may have missed.
type spooler struct {
	a           *Agent
	sp          *spool.Spool
	log         *slog.Logger
	problem     string
	interrupted string
	retryMin    time.Duration
	retryMax    time.Duration
	retention   time.Duration
	keep        int
	started     time.Time

	reportMu [reportLockStripes]sync.Mutex // per job (striped): a status is read and sent atomically

	mu      sync.Mutex
	ctx     context.Context
	conn    *websocket.Conn // the current session's connection once welcomed
	connCtx context.Context
	// since: statuses sent at or after it are not known to be processed by the server. A pong proves
	// that the server processed every message the agent wrote before the ping (the hub handles an
	// agent's messages in order), so it moves up with every pong of the current session.
	since     time.Time
	attached  bool
	workers   map[string]*worker
	known     map[string]bool // printers this agent has had
	pending   []spool.Report  // statuses sent, not yet recorded
	flushKick chan struct{}
	wg        sync.WaitGroup
}

type worker struct {
	printerID string
	queue     []string // job IDs, in arrival order
	queued    map[string]bool
	wake      chan struct{}
}

func newSpooler(a *Agent, sp *spool.Spool) *spooler {
	cfg := a.cfg
	r := &spooler{
		a: a, sp: sp, log: a.log,
		problem: cfg.PrinterProblem, interrupted: cfg.Interrupted,
		retryMin: cfg.PrinterRetryMin, retryMax: cfg.PrinterRetryMax,
		retention: cfg.SpoolRetention, keep: cfg.SpoolKeep,
		started: time.Now(),
		workers: map[string]*worker{}, known: map[string]bool{},
		flushKick: make(chan struct{}, 1),
	}
	if r.problem == "" {
		r.problem = PolicyWait
	}
	if r.interrupted == "" {
		r.interrupted = InterruptedFail
	}
	if r.retryMin <= 0 {
		r.retryMin = defaultRetryMin
	}
	if r.retryMax < r.retryMin {
		r.retryMax = max(defaultRetryMax, r.retryMin)
	}
	if r.retention <= 0 {
		r.retention = defaultRetention
	}
	if r.keep == 0 {
		r.keep = defaultKeep
	}
	return r
}

// start resumes the open jobs of the spool and starts the background work (flush, purge).
func (r *spooler) start(ctx context.Context) error {
	r.mu.Lock()
	r.ctx = ctx
	r.since = r.started.Add(-restartResend)
	for _, id := range r.a.printers.ids() {
		r.known[id] = true
	}
	for _, id := range r.a.printers.configuredIDs() {
		r.known[id] = true
	}
	r.mu.Unlock()
	open, err := r.sp.OpenJobs(ctx)
	if err != nil {
		return err
	}
	if len(open) > 0 {
		r.log.Info(openJobsOnRestart, "jobs", len(open))
	}
	for _, j := range open {
		r.mu.Lock()
		r.known[j.PrinterID] = true // it was accepted for this printer before
		r.mu.Unlock()
		r.enqueue(j)
	}
	r.wg.Add(1)
	go func() { defer r.wg.Done(); r.background(ctx) }()
	return nil
}

// wait waits for the workers and the background work after ctx ended, then records the last statuses.
func (r *spooler) wait() {
	r.wg.Wait()
	r.flush(context.Background())
}

func (r *spooler) background(ctx context.Context) {
	r.purge(ctx)
	purge := time.NewTicker(purgeEvery)
	defer purge.Stop()
	flush := time.NewTicker(flushEvery)
	defer flush.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-purge.C:
			r.purge(ctx)
		case <-flush.C:
			r.flush(ctx)
		case <-r.flushKick:
			r.flush(ctx)
		}
	}
}

func (r *spooler) purge(ctx context.Context) {
	n, err := r.sp.Purge(ctx, time.Now().Add(-r.retention), r.keep)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("agent: spool purge failed", "error", err)
		}
		return
	}
	if n > 0 {
		r.log.Info("agent: purged finished jobs from the spool", "jobs", n)
	}
}

func (r *spooler) flush(ctx context.Context) {
	r.mu.Lock()
	reps := r.pending
	r.pending = nil
	r.mu.Unlock()
	if len(reps) == 0 {
		return
	}
	if err := r.sp.MarkReported(ctx, reps); err != nil && ctx.Err() == nil {
		r.log.Warn("agent: cannot record sent job statuses (they will be sent again)", "error", err)
	}
}

// attach makes conn the connection statuses go to, and reports what the server may have missed.
func (r *spooler) attach(ctx context.Context, conn *websocket.Conn) {
	r.mu.Lock()
	r.conn, r.connCtx = conn, ctx
	since := r.since
	r.since, r.attached = time.Now(), true
	r.mu.Unlock()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.resync(ctx, since)
	}()
}

// detach forgets conn after its session ended.
func (r *spooler) detach(conn *websocket.Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conn == conn && conn != nil {
		r.conn, r.connCtx = nil, nil
		r.attached = false
	}
}

// confirmed records that the server answered a ping the agent wrote at t: every status written before t
// was processed.
func (r *spooler) confirmed(t time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.attached && t.After(r.since) {
		r.since = t
	}
}

// resync sends the current status of every job whose latest status the server may not have: changed
// since it was last sent, or sent at or after since.
func (r *spooler) resync(ctx context.Context, since time.Time) {
	r.flush(ctx)
	js, err := r.sp.Unreported(ctx, since)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("agent: cannot read the spool to report job statuses", "error", err)
		}
		return
	}
	if len(js) > 0 {
		r.log.Info("agent: reporting job statuses the server may have missed", "jobs", len(js))
	}
	for _, j := range js {
		if ctx.Err() != nil {
			return
		}
		r.withJob(j.ID, func() {
			cur, err := r.sp.Get(ctx, j.ID)
			if err == nil {
				r.sendLocked(cur)
			}
		})
	}
}

func (r *spooler) lockFor(id string) *sync.Mutex {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return &r.reportMu[h.Sum32()%reportLockStripes]
}

// withJob runs fn holding the job's report lock: a change and the status it causes are sent in order.
func (r *spooler) withJob(id string, fn func()) {
	l := r.lockFor(id)
	l.Lock()
	defer l.Unlock()
	fn()
}

// statusOf is the job_status a spooled job reports.
func statusOf(j spool.Job) protocol.JobStatus {
	st := protocol.JobStatus{JobID: j.ID, At: j.UpdatedAt}
	switch {
	case j.Open() && j.Waiting:
		st.State, st.Reason, st.Retry = protocol.JobFailed, j.Reason, true
	case j.State == spool.Received:
		st.State = protocol.JobReceived
	case j.State == spool.Printing:
		st.State = protocol.JobPrinting
	case j.State == spool.Done:
		st.State = protocol.JobDone
	default:
		st.State, st.Reason = protocol.JobFailed, j.Reason
	}
	if st.At.IsZero() {
		st.At = time.Now().UTC()
	}
	st.Reason = clipText(st.Reason, maxReasonLen)
	return st
}

// maxReasonLen bounds a job_status reason (the server refuses longer fields).
const maxReasonLen = 1024

// clipText cuts s to at most n bytes at a UTF-8 character boundary.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i]
}

// sendLocked sends the job's status on the current connection (the caller holds its report lock). A
// status that cannot be sent now is sent after the next connection (resync).
func (r *spooler) sendLocked(j spool.Job) {
	r.mu.Lock()
	conn, ctx := r.conn, r.connCtx
	r.mu.Unlock()
	st := statusOf(j)
	r.log.Info("agent: job", "job_id", j.ID, "printer", j.PrinterID, "state", st.State, "retry", st.Retry, "reason", st.Reason)
	if conn == nil {
		return
	}
	if err := writeMsg(ctx, conn, st); err != nil {
		r.log.Debug("agent: job status not sent; it is sent after the reconnect", "job_id", j.ID, "error", err)
		return
	}
	r.mu.Lock()
	r.pending = append(r.pending, spool.Report{ID: j.ID, Key: j.Key(), At: time.Now()})
	full := len(r.pending) >= flushBatchMax
	r.mu.Unlock()
	if full {
		select {
		case r.flushKick <- struct{}{}:
		default:
		}
	}
}

// step applies a spool change to job id and reports the result, in order with the job's other reports.
// It returns the job as changed.
func (r *spooler) step(id string, change func() (spool.Job, error), report bool) (spool.Job, error) {
	var j spool.Job
	var err error
	r.withJob(id, func() {
		j, err = change()
		if err == nil && report {
			r.sendLocked(j)
		}
	})
	if err != nil && !errors.Is(err, spool.ErrClosed) && !errors.Is(err, context.Canceled) {
		r.log.Error(spoolStorageFailed, "job_id", id, "error", err)
	}
	return j, err
}

// accept handles a job message: store it (durably) and acknowledge it, or, for a job already spooled
// (a redelivery), report its current state again without printing it again.
func (r *spooler) accept(ctx context.Context, m protocol.Job) {
	now := time.Now().UTC()
	var j spool.Job
	var isNew bool
	var err error
	r.withJob(m.JobID, func() {
		j, isNew, err = r.sp.Add(ctx, spool.NewJob{ID: m.JobID, PrinterID: m.PrinterID, Title: m.Title,
			Content: m.Content, Copies: m.Copies, ExpiresAt: m.ExpiresAt}, now)
		if err == nil {
			r.sendLocked(j)
		}
	})
	if err != nil {
		if ctx.Err() != nil {
			return // stopping: the job was not acknowledged, the server sends it again later
		}
		r.log.Error(spoolStorageFailed, "job_id", m.JobID, "error", err)
		// Not acknowledged as received: tell the server why rather than holding a job we could lose.
		r.mu.Lock()
		conn, cctx := r.conn, r.connCtx
		r.mu.Unlock()
		if conn != nil {
			_ = writeMsg(cctx, conn, protocol.JobStatus{JobID: m.JobID, State: protocol.JobFailed,
				Reason: clipText(reasonSpoolUnavailable+plainSpoolError(err), maxReasonLen), At: now})
		}
		return
	}
	if !isNew {
		r.log.Info("agent: job delivered again; not printing it again", "job_id", j.ID, "state", j.State, "deliveries", j.Deliveries)
		if j.Open() {
			r.enqueue(j) // still owed (a no-op when its worker has it)
		}
		return
	}
	r.a.notify()
	r.enqueue(j)
}

func plainSpoolError(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}

// enqueue hands an open job to its printer's worker.
func (r *spooler) enqueue(j spool.Job) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx == nil || r.ctx.Err() != nil {
		return
	}
	w := r.workers[j.PrinterID]
	if w == nil {
		w = &worker{printerID: j.PrinterID, queued: map[string]bool{}, wake: make(chan struct{}, 1)}
		r.workers[j.PrinterID] = w
		r.wg.Add(1)
		go func() { defer r.wg.Done(); r.work(r.ctx, w) }()
	}
	if w.queued[j.ID] {
		return
	}
	w.queued[j.ID] = true
	w.queue = append(w.queue, j.ID)
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// work prints the printer's jobs one at a time, in order, until ctx ends.
func (r *spooler) work(ctx context.Context, w *worker) {
	for {
		r.mu.Lock()
		var id string
		if len(w.queue) > 0 {
			id = w.queue[0]
		}
		r.mu.Unlock()
		if id == "" {
			select {
			case <-ctx.Done():
				return
			case <-w.wake:
				continue
			}
		}
		r.process(ctx, id)
		if ctx.Err() != nil {
			return // the job stays open in the spool and resumes after the restart
		}
		r.mu.Lock()
		w.queue = w.queue[1:]
		delete(w.queued, id)
		r.mu.Unlock()
	}
}

// resolve returns the printer's ID in the agent's list, whether it is there, and whether the agent
// ever had it.
func (r *spooler) resolve(id string) (string, bool, bool) {
	pid, err := r.a.printers.find(id)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil && id != "" {
		r.known[pid] = true
		r.known[id] = true
		return pid, true, true
	}
	return id, false, r.known[id]
}

// problemOf maps a printer status (and the error of the status request) to the reason a job cannot be
// printed now, or "" when it can.
func problemOf(st printer.Status, err error) string {
	switch st.State {
	case printer.StateMediaOut, printer.StateHeadOpen, printer.StatePaused, printer.StateRibbonOut:
		return st.Err().Error()
	case printer.StateError:
		if st.Reason != "" {
			return "printer fault: " + st.Reason
		}
		return printer.ErrFault.Error()
	case printer.StateOffline:
		return ReasonDisconnected
	}
	switch {
	case err == nil:
		return "" // ready, busy, or a printer that cannot tell (unknown without error)
	case errors.Is(err, printer.ErrDisconnected), errors.Is(err, printer.ErrNotFound):
		return ReasonDisconnected
	case errors.Is(err, printer.ErrNoStatus):
		return ReasonNotAnswering
	case errors.Is(err, context.DeadlineExceeded):
		return ReasonNotAnswering
	}
	return "printer error: " + plainPrinterError(err)
}

// writeOutcome classifies a failed write.
func writeOutcome(err error, data []byte) (reason string, mayHavePrinted bool) {
	reason = problemOf(printer.Status{}, err)
	if errors.Is(err, printer.ErrDisconnected) || errors.Is(err, printer.ErrNotFound) {
		reason = ReasonDisconnected
	}
	n, ok := printer.Written(err)
	if !ok || n <= 0 {
		return reason, false
	}
	return reason, mayHaveCompleteLabel(data, n)
}

// mayHaveCompleteLabel reports whether the first n bytes of data may hold a complete label: for ZPL, a
// format terminator (^XZ) among them; for anything else, any byte.
func mayHaveCompleteLabel(data []byte, n int) bool {
	n = min(n, len(data))
	if !bytes.Contains(bytes.ToUpper(data), []byte("^XA")) {
		return n > 0
	}
	return bytes.Contains(bytes.ToUpper(data[:n]), []byte("^XZ"))
}

// process drives one job until it is finished, or ctx ends (it then stays open in the spool).
func (r *spooler) process(ctx context.Context, id string) {
	j, err := r.sp.Get(ctx, id)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Error(spoolStorageFailed, "job_id", id, "error", err)
		}
		return
	}
	finish := func(state, reason string) {
		_, _ = r.step(id, func() (spool.Job, error) { return r.sp.Finish(ctx, id, state, reason, time.Now().UTC()) }, true)
		r.a.notify()
	}
	content := j.Content
	attempt := 0
	reportedPrinting := false
	for j.Open() && ctx.Err() == nil {
		if j.InFlight {
			// Found after a restart, or after a write that ended with a complete label possibly out.
			if r.interrupted != InterruptedReprint {
				reason := ReasonInterrupted
				if j.Copies > 1 {
					reason = fmt.Sprintf("interrupted after %d of %d copies: may have printed; check the printer", j.CopiesDone, j.Copies)
				}
				r.log.Warn("agent: job interrupted while it was being written; not printing it again", "job_id", id, "policy", r.interrupted)
				finish(spool.Failed, reason)
				return
			}
			r.log.Warn("agent: job interrupted while it was being written; printing it again (policy reprint)", "job_id", id)
			if j, err = r.sp.NotWritten(ctx, id, time.Now().UTC()); err != nil {
				return
			}
		}
		if j.CopiesDone == 0 && j.Expired(time.Now()) {
			finish(spool.Failed, ReasonExpired)
			return
		}
		pid, present, known := r.resolve(j.PrinterID)
		problem := ""
		if !present {
			if !known {
				finish(spool.Failed, reasonUnknownPrinter+j.PrinterID+" (this agent does not have it)")
				return
			}
			problem = ReasonDisconnected
		} else {
			st, serr := r.a.printers.checkNow(ctx, pid)
			if ctx.Err() != nil {
				return
			}
			problem = problemOf(st, serr)
		}
		if problem == "" {
			var werr, serr error
			j, werr, serr = r.writeCopies(ctx, pid, j, content, &reportedPrinting)
			if serr != nil {
				return // logged; the job stays open in the spool and resumes after a restart
			}
			if werr == nil {
				if j.State == spool.Done {
					r.a.notify()
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
			if ambiguous && r.interrupted != InterruptedReprint {
				finish(spool.Failed, ReasonDisconnectedMidJob)
				return
			}
			if j, err = r.sp.NotWritten(ctx, id, time.Now().UTC()); err != nil {
				return
			}
			problem = reason
		}
		// The printer cannot take the job now.
		if r.problem == PolicyFail {
			finish(spool.Failed, problem)
			return
		}
		if !j.Waiting || j.Reason != problem {
			r.log.Info("agent: job waits for its printer", "job_id", id, "printer", j.PrinterID, "reason", problem)
			nj, err := r.step(id, func() (spool.Job, error) { return r.sp.Wait(ctx, id, problem, time.Now().UTC()) }, true)
			if err != nil {
				return
			}
			j = nj
			reportedPrinting = false
			r.a.notify()
		}
		r.pause(ctx, attempt)
		attempt++
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
		nj, err := r.step(j.ID, func() (spool.Job, error) { return r.sp.StartCopy(ctx, j.ID, time.Now().UTC()) }, report)
		if err != nil {
			return j, nil, err
		}
		j = nj
		*reportedPrinting = true
		if err := r.a.printers.send(wctx, pid, content); err != nil {
			return j, err, nil
		}
		last := j.CopiesDone+1 >= j.Copies
		nj, err = r.step(j.ID, func() (spool.Job, error) {
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
	ch := r.a.printers.subscribe()
	defer r.a.printers.unsubscribe(ch)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-ch:
	}
}
