package hub

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"printdock/internal/testenv"
	"printdock/protocol"
)

// batchJobs records the batches AckAll was given.
type batchJobs struct {
	Jobs // only AckAll is called
	mu   sync.Mutex
	got  [][]string // "job state" of each status, per batch
}

func (j *batchJobs) AckAll(_ context.Context, _ string, sts []protocol.JobStatus) ([]error, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var b []string
	for _, st := range sts {
		b = append(b, st.JobID+" "+st.State)
	}
	j.got = append(j.got, b)
	return make([]error, len(sts)), nil
}

func (j *batchJobs) batches() [][]string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.got)
}

// TestAckLinger: an unfinished job's statuses wait for its next one and go to the store with it, in
// order; a finished job's go at once; and the session's end records a waiting batch without the wait.
func TestAckLinger(t *testing.T) {
	defer func(d time.Duration) { ackLinger = d }(ackLinger)
	ackLinger = time.Hour // only a later status or the end can release a waiting batch
	j := &batchJobs{}
	s := &Session{hub: &Hub{o: Options{Jobs: j}}, ctx: context.Background()}
	s.acks.cond.L = &s.acks.mu
	st := func(id, state string) protocol.JobStatus { return protocol.JobStatus{JobID: id, State: state} }

	s.ack(st("a", protocol.JobReceived))
	s.ack(st("a", protocol.JobPrinting))
	if b := j.batches(); len(b) != 0 {
		t.Fatalf("unfinished statuses recorded without waiting: %v", b)
	}
	s.ack(st("a", protocol.JobDone))
	testenv.WaitFor(t, "job a's statuses recorded", func() bool { return len(j.batches()) == 1 })
	if b := j.batches(); !slices.Equal(b[0], []string{"a received", "a printing", "a done"}) {
		t.Fatalf("batches %v, want a's three statuses in one, in order", b)
	}

	s.ack(st("p", protocol.JobReceived))
	s.waitAcks(false) // a ping: what was read before it is recorded at once
	if b := j.batches(); len(b) != 2 || !slices.Equal(b[1], []string{"p received"}) {
		t.Fatalf("batches %v, want p's received recorded before the pong", b)
	}
	s.ack(st("b", protocol.JobReceived)) // after the ping, batches linger again
	if b := j.batches(); len(b) != 2 {
		t.Fatalf("batches %v: b's received recorded without waiting after a ping", b)
	}
	s.waitAcks(true) // the reader ended: recorded at once
	if b := j.batches(); len(b) != 3 || !slices.Equal(b[2], []string{"b received"}) {
		t.Fatalf("batches %v, want b's received recorded at the end", b)
	}
	s.ack(st("c", protocol.JobFailed)) // finished (and after the end): no wait
	testenv.WaitFor(t, "job c's status recorded", func() bool { return len(j.batches()) == 4 })
}
