package agent

import (
	"printdock/agent/spool"
	"printdock/protocol"
)

// A job the server sends is stored lazily when it is new (spool.AddLater): its insert shares the commit
// of the job's first step (StartCopy when its printer is free), or of any other job's step, or commits
// within the spool's lazy limit. Its received status goes out after that commit, with the step's own
// status in one job_statuses message when the server takes it: one sync and one frame where there were
// two. Until then the job is "fresh": the outbox holds it, the executor takes it from there (the spool
// has no committed row to read yet), and a cancel syncs the spool before it looks.

// Bounds of the lazy inserts: a larger job, or one arriving while maxFresh wait, is inserted and synced
// at once (Add), which commits the waiting ones too.
const (
	maxLazyContent = 256 << 10
	maxFresh       = 8
)

// freshCount is how many jobs wait for their insert's commit or their received's report.
func (o *outbox) freshCount() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.fresh)
}

// addFresh records a job added lazily.
func (o *outbox) addFresh(j spool.Job) {
	o.mu.Lock()
	o.fresh[j.ID] = j
	o.mu.Unlock()
}

// freshJob returns the job added lazily with this ID, if its received is not reported yet.
func (o *outbox) freshJob(id string) (spool.Job, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	j, ok := o.fresh[id]
	return j, ok
}

// dropFresh forgets a fresh job without reporting it (its insert failed).
func (o *outbox) dropFresh(id string) {
	o.mu.Lock()
	delete(o.fresh, id)
	o.mu.Unlock()
}

// withReceived returns the statuses to send for st, a committed status of job id: received first when
// the job is fresh (its insert committed before st's change), which it then no longer is. The caller
// holds the job's report lock.
func (o *outbox) withReceived(id string, st protocol.JobStatus) []protocol.JobStatus {
	o.mu.Lock()
	f, ok := o.fresh[id]
	delete(o.fresh, id)
	o.mu.Unlock()
	if !ok || st.State == protocol.JobReceived && !st.Retry {
		return []protocol.JobStatus{st}
	}
	return []protocol.JobStatus{statusOf(f), st}
}

// sendAll sends sts in order on the current connection: one job_statuses message when there are several
// and that connection's server takes it, else one job_status each. The connection and whether its server
// takes job_statuses are read together, so a reconnect between them cannot pair one server's answer with
// another's connection.
func (o *outbox) sendAll(sts []protocol.JobStatus) error {
	conn, ctx, batch, err := o.current()
	if err != nil {
		return err
	}
	if len(sts) > 1 && batch {
		return conn.Send(ctx, protocol.JobStatuses{Statuses: sts})
	}
	for _, st := range sts {
		if err := conn.Send(ctx, st); err != nil {
			return err
		}
	}
	return nil
}
