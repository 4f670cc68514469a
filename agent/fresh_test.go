package agent

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"printdock/agent/spool"
	"printdock/internal/testenv"
	"printdock/protocol"
	"printdock/server/jobs"
	"printdock/server/servertest"
)

// A new job's insert shares the commit of its first step: received and printing go out together, after
// one sync, and the server records the same history as when they came one by one.
func TestJobReceivedSharesFirstStep(t *testing.T) {
	r := newJobRig(t, nil)
	const n = 8
	c0, _ := r.a.spool.Commits()
	for i := range n {
		j := r.submit(t, label(fmt.Sprintf("fresh %d", i)), servertest.JobOptions{})
		r.waitJob(t, j.ID, "done", stateIsJob(jobs.Done))
		var got []string
		for _, e := range r.ts.JobEvents(t, j.ID) {
			got = append(got, string(e.From)+">"+string(e.To)+" "+e.Reason)
		}
		want := []string{">queued submitted", "queued>sent delivered to the agent", "sent>sent received by the agent",
			"sent>printing printing", "printing>done printed"}
		if !slices.Equal(got, want) {
			t.Fatalf("job %d history %q, want %q", i, got, want)
		}
	}
	waitSimJobs(t, r.sim.Printer(), n)
	c1, _ := r.a.spool.Commits()
	// Two synced commits a job (received with StartCopy, then CopyWritten), plus the unsynced records of
	// what was reported; three synced a job before.
	t.Logf("%d commits for %d jobs", c1-c0, n)
	if c1-c0 > 2*n+n/2 {
		t.Fatalf("%d commits for %d jobs, want at most %d", c1-c0, n, 2*n+n/2)
	}
}

// fakeSender records what the outbox sends.
type fakeSender struct {
	mu   sync.Mutex
	msgs []protocol.Message
}

func (f *fakeSender) Send(_ context.Context, m protocol.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = append(f.msgs, m)
	return nil
}

// The received of a fresh job goes out first, with the job's next status: as one job_statuses to a server
// that takes it, as two job_status in order to one that does not (an older server).
func TestFreshReceivedFirst(t *testing.T) {
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	fresh := spool.Job{ID: "j1", State: spool.Received, UpdatedAt: at}
	printing := spool.Job{ID: "j1", State: spool.Printing, InFlight: true, UpdatedAt: at.Add(time.Millisecond)}
	recv := protocol.JobStatus{JobID: "j1", State: protocol.JobReceived, At: at}
	prn := protocol.JobStatus{JobID: "j1", State: protocol.JobPrinting, At: at.Add(time.Millisecond)}
	tests := []struct {
		name  string
		batch bool
		want  []protocol.Message
	}{
		{"server takes job_statuses", true, []protocol.Message{protocol.JobStatuses{Statuses: []protocol.JobStatus{recv, prn}}}},
		{"older server", false, []protocol.Message{recv, prn}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOutbox(nil, slog.New(slog.DiscardHandler), time.Now())
			f := &fakeSender{}
			o.attach(context.Background(), f, tt.batch)
			o.addFresh(fresh)
			o.withJob("j1", func() { o.sendLocked(printing) })
			o.withJob("j1", func() { o.sendLocked(spool.Job{ID: "j1", State: spool.Done, UpdatedAt: at}) })
			want := append(tt.want, protocol.JobStatus{JobID: "j1", State: protocol.JobDone, At: at})
			if !slices.EqualFunc(f.msgs, want, func(a, b protocol.Message) bool { return fmt.Sprint(a) == fmt.Sprint(b) }) {
				t.Fatalf("sent %v, want %v", f.msgs, want)
			}
		})
	}
	// A fresh job whose first report is its received sends it once.
	o := newOutbox(nil, slog.New(slog.DiscardHandler), time.Now())
	f := &fakeSender{}
	o.attach(context.Background(), f, true)
	o.addFresh(fresh)
	o.withJob("j1", func() { o.sendLocked(fresh) })
	if len(f.msgs) != 1 || f.msgs[0] != protocol.Message(recv) {
		t.Fatalf("sent %v, want one received", f.msgs)
	}
}

// A cancel that follows a new job at once finds it although its insert may not be committed yet: the job
// is either cancelled and never printed, or printed once and the cancel too late. The scripted server
// is an older one (its welcome lists no features): every status comes as a job_status, received first.
func TestCancelFreshJob(t *testing.T) {
	r := newCancelRig(t, false)
	const n = 6
	for i := range n {
		id := fmt.Sprintf("fresh-%d", i)
		r.s.jobs <- protocol.Job{JobID: id, PrinterID: r.pid, Content: label(id), Copies: 1}
		r.s.jobs <- protocol.Cancel{JobID: id}
		testenv.WaitFor(t, id+" cancelled or done", func() bool {
			_, c := r.s.status(id, protocol.JobCancelled)
			_, d := r.s.status(id, protocol.JobDone)
			return c || d
		})
	}
	printed := r.printed()
	r.s.mu.Lock()
	all := slices.Clone(r.s.all)
	r.s.mu.Unlock()
	for i := range n {
		id := fmt.Sprintf("fresh-%d", i)
		var states []string
		for _, st := range all {
			if st.JobID == id {
				states = append(states, st.State)
			}
		}
		cancelled := slices.Contains(states, protocol.JobCancelled)
		times := 0
		for _, p := range printed {
			if p == string(label(id)) {
				times++
			}
		}
		t.Logf("%s: %v", id, states)
		if len(states) == 0 || states[0] != protocol.JobReceived {
			t.Errorf("%s: statuses %v, want received first", id, states)
		}
		if cancelled && times != 0 || !cancelled && times != 1 {
			t.Errorf("%s: statuses %v, printed %d times", id, states, times)
		}
	}
}
