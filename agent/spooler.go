package agent

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"printdock/agent/spool"
	"printdock/internal/clip"
	"printdock/printer"
	"printdock/protocol"
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

// printerPort is what the spooler needs of the agent's printers (*printerSet).
type printerPort interface {
	ids() []string
	configuredIDs() []string
	find(id string) (string, error)
	checkNow(ctx context.Context, id string) (printer.Status, caps, error)
	caps(id string) caps
	send(ctx context.Context, id string, data []byte) error
	subscribe() chan struct{}
	unsubscribe(chan struct{})
}

// spoolerDeps is what a spooler is built from.
type spoolerDeps struct {
	cfg      Config
	log      *slog.Logger
	printers printerPort
	notify   func() // the agent's job list changed
}

func (a *Agent) spoolerDeps() spoolerDeps {
	return spoolerDeps{cfg: a.cfg, log: a.log, printers: a.printers, notify: a.notify}
}

// spooler executes jobs through the durable spool (agent/spool): it stores each job before
// acknowledging it, prints one job at a time per printer (scheduler), decides what to do with each
// (decide) and does it (executor: process), and reports every step through its outbox.
type spooler struct {
	sp        *spool.Spool
	log       *slog.Logger
	printers  printerPort
	notify    func()
	pol       policies
	retryMin  time.Duration
	retryMax  time.Duration
	retention time.Duration
	keep      int
	out       *outbox
	sched     *scheduler
	wg        sync.WaitGroup // background work and resyncs

	mu      sync.Mutex             // protects the following
	known   map[string]bool        // printers this agent has had
	waiters map[chan struct{}]bool // pauses to cut short when a job is discarded
}

func newSpooler(d spoolerDeps, sp *spool.Spool) *spooler {
	cfg := d.cfg
	r := &spooler{
		sp: sp, log: d.log, printers: d.printers, notify: d.notify,
		pol:      policies{Problem: cfg.PrinterProblem, Interrupted: cfg.Interrupted},
		retryMin: cfg.PrinterRetryMin, retryMax: cfg.PrinterRetryMax,
		retention: cfg.SpoolRetention, keep: cfg.SpoolKeep,
		out:     newOutbox(sp, d.log, time.Now()),
		known:   map[string]bool{},
		waiters: map[chan struct{}]bool{},
	}
	r.sched = newScheduler(r.process)
	if r.pol.Problem == "" {
		r.pol.Problem = PolicyWait
	}
	if r.pol.Interrupted == "" {
		r.pol.Interrupted = InterruptedFail
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
	r.sched.start(ctx)
	r.mu.Lock()
	for _, id := range r.printers.ids() {
		r.known[id] = true
	}
	for _, id := range r.printers.configuredIDs() {
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
		r.sched.enqueue(j.PrinterID, j.ID)
	}
	r.wg.Go(func() { r.background(ctx) })
	return nil
}

// wait waits for the workers and the background work after ctx ended, then records the last statuses.
func (r *spooler) wait() {
	r.sched.wait()
	r.wg.Wait()
	r.out.flush(context.Background())
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
			r.out.flush(ctx)
		case <-r.out.flushKick:
			r.out.flush(ctx)
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

// attach makes conn the connection statuses go to, and reports what the server may have missed.
// batch: the server takes job_statuses.
func (r *spooler) attach(ctx context.Context, conn sender, batch bool) {
	since := r.out.attach(ctx, conn, batch)
	r.wg.Go(func() { r.out.resync(ctx, since) })
}

// detach forgets conn after its session ended.
func (r *spooler) detach(conn sender) { r.out.detach(conn) }

// confirmed: the server processed every status written before t.
func (r *spooler) confirmed(t time.Time) { r.out.confirmed(t) }

// accept handles a job message: store it (durably) and acknowledge it, or, for a job already spooled
// (a redelivery), report its current state again without printing it again.
// A new job is stored lazily (fresh.go) unless it is large or maxFresh jobs are already waiting for
// their insert's commit (a job's content is held in memory until then, and one transaction holds all
// the inserts pending); accept runs on the session's goroutine, one job at a time, and nothing else adds
// jobs, so a job that is neither spooled nor fresh cannot be added twice.
func (r *spooler) accept(ctx context.Context, m protocol.Job) {
	now := time.Now().UTC()
	n := spool.NewJob{ID: m.JobID, PrinterID: m.PrinterID, Title: m.Title, Content: m.Content, Copies: m.Copies, ExpiresAt: m.ExpiresAt}
	if _, fresh := r.out.freshJob(m.JobID); !fresh && len(m.Content) <= maxLazyContent && r.out.freshCount() < maxFresh {
		if has, herr := r.sp.Has(ctx, m.JobID); herr == nil && !has {
			r.acceptLater(n, now)
			return
		}
	}
	var j spool.Job
	var isNew bool
	var err error
	r.out.withJob(m.JobID, func() {
		j, isNew, err = r.sp.Add(ctx, n, now)
		if err == nil {
			r.out.sendLocked(j)
		}
	})
	if err != nil {
		if ctx.Err() != nil {
			return // stopping: the job was not acknowledged, the server sends it again later
		}
		r.addFailed(m.JobID, err, now)
		return
	}
	if !isNew {
		r.log.Info("agent: job delivered again; not printing it again", "job_id", j.ID, "state", j.State, "deliveries", j.Deliveries)
		if j.Open() {
			r.sched.enqueue(j.PrinterID, j.ID) // still owed (a no-op when its worker has it)
		}
		return
	}
	r.notify()
	r.sched.enqueue(j.PrinterID, j.ID)
}

// acceptLater stores a new job lazily and hands it to its printer's worker at once; received is
// reported after the insert is committed (fresh.go).
func (r *spooler) acceptLater(n spool.NewJob, now time.Time) {
	r.wg.Add(1) // wait() waits for the report
	then := func(j spool.Job, isNew bool, err error) {
		defer r.wg.Done()
		if err != nil {
			r.out.withJob(n.ID, func() { r.out.dropFresh(n.ID) })
			if !errors.Is(err, spool.ErrClosed) {
				r.addFailed(n.ID, err, now)
			}
			return
		}
		r.out.withJob(n.ID, func() {
			if !isNew {
				// Spooled meanwhile (it cannot be, see accept): a redelivery, reported as Add's are.
				r.out.dropFresh(n.ID)
				r.out.sendLocked(j)
			} else if _, fresh := r.out.freshJob(n.ID); fresh {
				r.out.sendLocked(j) // not reported with a step of the job yet
			}
		})
		r.notify()
	}
	// Under the job's report lock: the insert may commit with another job's change as soon as AddLater
	// queued it, and then's report (which takes this lock) must find the job fresh, or a failed insert's
	// then must find it to drop it.
	r.out.withJob(n.ID, func() { r.out.addFresh(r.sp.AddLater(n, now, then)) })
	r.sched.enqueue(n.PrinterID, n.ID)
}

// addFailed reports a job the spool could not store.
func (r *spooler) addFailed(id string, err error, now time.Time) {
	r.log.Error(spoolStorageFailed, "job_id", id, "error", err)
	// Not acknowledged as received: tell the server why rather than holding a job we could lose.
	_ = r.out.send(protocol.JobStatus{JobID: id, State: protocol.JobFailed,
		Reason: clip.String(reasonSpoolUnavailable+plainSpoolError(err), maxReasonLen), At: now})
}

func plainSpoolError(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}

// resolve returns the printer's ID in the agent's list, whether it is there, and whether the agent
// ever had it.
func (r *spooler) resolve(id string) (string, bool, bool) {
	pid, err := r.printers.find(id)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil && id != "" {
		r.known[pid] = true
		r.known[id] = true
		return pid, true, true
	}
	return id, false, r.known[id]
}

// wakeWaiters cuts short every pause (a waiting job was discarded: its worker moves on).
func (r *spooler) wakeWaiters() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.waiters {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}
