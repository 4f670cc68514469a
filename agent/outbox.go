package agent

import (
	"context"
	"errors"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"printdock/agent/spool"
	"printdock/internal/clip"
	"printdock/protocol"
)

// sender is where job statuses go: the current connection's writer (*link.Conn).
type sender interface {
	Send(ctx context.Context, m protocol.Message) error
}

// outbox reports job statuses: each through the current connection (a sender) in order with the job's
// other reports, records which were sent (flushed to the spool in batches), and after a new connection
// sends again whatever the server may have missed.
type outbox struct {
	sp      *spool.Spool
	log     *slog.Logger
	started time.Time

	reportMu [reportLockStripes]sync.Mutex // per job (striped): a status is read and sent atomically

	// Lock order: a job's reportMu stripe before mu.
	mu     sync.Mutex // protects the following
	conn   sender     // the current session's connection once welcomed
	connCx context.Context
	// since: statuses sent at or after it are not known to be processed by the server. A pong proves
	// that the server processed every message the agent wrote before the ping (the hub handles an
	// agent's messages in order), so it moves up with every pong of the current session.
	since     time.Time
	attached  bool
	batch     bool           // the server takes job_statuses (its welcome listed it)
	pending   []spool.Report // statuses sent, not yet recorded
	flushKick chan struct{}
	// fresh: jobs added lazily (spool.AddLater) whose received has not been reported: the job's first
	// report after its insert is committed carries received first (fresh.go).
	fresh map[string]spool.Job
}

func newOutbox(sp *spool.Spool, log *slog.Logger, started time.Time) *outbox {
	return &outbox{sp: sp, log: log, started: started, since: started.Add(-restartResend), flushKick: make(chan struct{}, 1),
		fresh: map[string]spool.Job{}}
}

func (o *outbox) flush(ctx context.Context) {
	o.mu.Lock()
	reps := o.pending
	o.pending = nil
	o.mu.Unlock()
	if len(reps) == 0 {
		return
	}
	if err := o.sp.MarkReported(ctx, reps); err != nil && ctx.Err() == nil {
		o.log.Warn("agent: cannot record sent job statuses (they will be sent again)", "error", err)
	}
}

// attach makes conn the connection statuses go to, and returns since: statuses sent at or after it
// must be sent again (resync).
func (o *outbox) attach(ctx context.Context, conn sender, batch bool) time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.conn, o.connCx, o.batch = conn, ctx, batch
	since := o.since
	o.since, o.attached = time.Now(), true
	return since
}

// detach forgets conn after its session ended.
func (o *outbox) detach(conn sender) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.conn == conn && conn != nil {
		o.conn, o.connCx = nil, nil
		o.attached = false
	}
}

// confirmed records that the server answered a ping the agent wrote at t: every status written before t
// was processed.
func (o *outbox) confirmed(t time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.attached && t.After(o.since) {
		o.since = t
	}
}

// resync sends the current status of every job whose latest status the server may not have: changed
// since it was last sent, or sent at or after since.
func (o *outbox) resync(ctx context.Context, since time.Time) {
	o.flush(ctx)
	js, err := o.sp.Unreported(ctx, since)
	if err != nil {
		if ctx.Err() == nil {
			o.log.Warn("agent: cannot read the spool to report job statuses", "error", err)
		}
		return
	}
	if len(js) > 0 {
		o.log.Info("agent: reporting job statuses the server may have missed", "jobs", len(js))
	}
	for _, j := range js {
		if ctx.Err() != nil {
			return
		}
		o.withJob(j.ID, func() {
			if cur, err := o.sp.Get(ctx, j.ID); err == nil {
				o.sendLocked(cur)
			}
		})
	}
}

func (o *outbox) lockFor(id string) *sync.Mutex {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return &o.reportMu[h.Sum32()%reportLockStripes]
}

// withJob runs fn holding the job's report lock: a change and the status it causes are sent in order.
func (o *outbox) withJob(id string, fn func()) {
	l := o.lockFor(id)
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
	case j.State == spool.Cancelled:
		st.State, st.Reason = protocol.JobCancelled, j.Reason
	default:
		st.State, st.Reason = protocol.JobFailed, j.Reason
	}
	if st.At.IsZero() {
		st.At = time.Now().UTC()
	}
	st.Reason = clip.String(st.Reason, maxReasonLen)
	return st
}

// maxReasonLen bounds a job_status reason (the server refuses longer fields).
const maxReasonLen = 1024

// sendLocked sends the job's status on the current connection (the caller holds its report lock). A
// status that cannot be sent now is sent after the next connection (resync).
func (o *outbox) sendLocked(j spool.Job) {
	st := statusOf(j)
	sts := o.withReceived(j.ID, st)
	o.log.Info("agent: job", "job_id", j.ID, "printer", j.PrinterID, "state", st.State, "retry", st.Retry, "reason", st.Reason)
	if err := o.sendAll(sts); err != nil {
		if !errors.Is(err, errNoConn) {
			o.log.Debug("agent: job status not sent; it is sent after the reconnect", "job_id", j.ID, "error", err)
		}
		return
	}
	o.mu.Lock()
	o.pending = append(o.pending, spool.Report{ID: j.ID, Key: j.Key(), At: time.Now()})
	full := len(o.pending) >= flushBatchMax
	o.mu.Unlock()
	if full {
		select {
		case o.flushKick <- struct{}{}:
		default:
		}
	}
}

var errNoConn = errors.New("no connection")

// send writes m on the current connection, if any.
func (o *outbox) send(m protocol.Message) error {
	conn, ctx, _, err := o.current()
	if err != nil {
		return err
	}
	return conn.Send(ctx, m)
}

// current returns the current connection, its context and whether its server takes job_statuses, read
// together (errNoConn when there is none).
func (o *outbox) current() (sender, context.Context, bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.conn == nil {
		return nil, nil, false, errNoConn
	}
	return o.conn, o.connCx, o.batch, nil
}

// stepLater reports a lazy spool change (start calls spool's ...Later with its then) once it is
// committed, in order with the job's other reports, then calls after (nil: nothing).
func (o *outbox) stepLater(id string, start func(then func(spool.Job, error)), after func()) {
	start(func(j spool.Job, err error) {
		o.withJob(id, func() {
			if err == nil {
				o.sendLocked(j)
			}
		})
		if err != nil && !errors.Is(err, spool.ErrClosed) {
			o.log.Error(spoolStorageFailed, "job_id", id, "error", err)
		}
		if after != nil {
			after()
		}
	})
}

// step applies a spool change to job id and reports the result, in order with the job's other reports.
// It returns the job as changed.
func (o *outbox) step(id string, change func() (spool.Job, error), report bool) (spool.Job, error) {
	var j spool.Job
	var err error
	o.withJob(id, func() {
		j, err = change()
		if err == nil && report {
			o.sendLocked(j)
		}
	})
	if err != nil && !errors.Is(err, spool.ErrClosed) && !errors.Is(err, context.Canceled) && !errors.Is(err, spool.ErrFinished) {
		o.log.Error(spoolStorageFailed, "job_id", id, "error", err)
	}
	return j, err
}
