package jobs

import (
	"strings"
	"testing"

	"printdock/protocol"
)

// TestStatementsPerJob counts the SQLite statements one job costs along the path the server takes under
// load: submitted and claimed by the client's session (Claimed, claim.go), then acknowledged as a current
// agent does (agentAcks: received and printing in one AckAll, done in another; or all three in one when
// the done arrives within the hub's linger). The single SQLite writer runs most of them, so they bound
// the server's jobs per second; the bounds below keep a change from adding statements unnoticed (see
// docs/benchmarks.md).
func TestStatementsPerJob(t *testing.T) {
	for _, tc := range []struct {
		name string
		most float64 // statements per job
	}{
		// Before ackRun: 15.1 and 13.1, and 10.1 for the received+done pair of older light agents; before
		// claims (MarkPushedAll per job): 13.1, 11.1 and 10.1 (19 before issue 13's server-path work).
		{ackTwo, 12},
		{ackOne, 10},
		{ackPair, 9},
	} {
		t.Run(tc.name, func(t *testing.T) { statementsPerJob(t, tc.name, tc.most) })
	}
}

func statementsPerJob(t *testing.T, pattern string, most float64) {
	e := newEnv(t)
	client, prs := e.agent("p1", "key1", "inst1", "usb://a")
	sub, stop := e.session(client)
	defer stop()
	const n = 20
	before := e.st.Stats()
	for i := range n {
		e.submit(e.alice, prs[i%len(prs)], SubmitRequest{Title: "count"})
		js := e.svc.Claimed(sub)
		if len(js) != 1 {
			t.Fatalf("Claimed = %d jobs; want the job", len(js))
		}
		for _, sts := range agentAcks(js[0].JobID, pattern) {
			errs, err := e.svc.AckAll(t.Context(), client, sts)
			e.must(err)
			for _, err := range errs {
				e.must(err)
			}
		}
	}
	after := e.st.Stats()
	writes, reads := float64(after.Writes-before.Writes)/n, float64(after.Reads-before.Reads)/n
	t.Logf("per job: %.1f statements on the writer, %.1f on the read pool, %.1f transactions", writes, reads,
		float64(after.Transactions-before.Transactions)/n)
	if writes+reads > most {
		t.Errorf("%.1f statements per job, want at most %.0f", writes+reads, most)
	}
}

// The AckAll batches of an agent's statuses for a job (agentAcks): a current agent's received and
// printing (one job_statuses message) then done, or all three in one batch when the done arrives within
// the hub's linger; the received and done of older light bench agents.
const (
	ackTwo  = "received+printing then done"
	ackOne  = "received+printing+done"
	ackPair = "received+done"
)

// agentAcks returns the AckAll batches of pattern (ackTwo, ackOne, ackPair) for job id.
func agentAcks(id, pattern string) [][]protocol.JobStatus {
	var out [][]protocol.JobStatus
	for _, batch := range strings.Split(pattern, " then ") {
		var sts []protocol.JobStatus
		for _, state := range strings.Split(batch, "+") {
			sts = append(sts, protocol.JobStatus{JobID: id, State: state})
		}
		out = append(out, sts)
	}
	return out
}
