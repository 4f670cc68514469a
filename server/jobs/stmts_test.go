package jobs

import (
	"testing"

	"printdock/protocol"
)

// TestStatementsPerJob counts the SQLite statements one job costs along the path the server takes under
// load: submitted, handed to the client's session (Pushed, MarkPushedAll), then received and printed
// (one AckAll). The single SQLite writer runs most of them, so they bound the server's jobs per second;
// the bound below keeps a change from adding statements unnoticed (see docs/benchmarks.md).
func TestStatementsPerJob(t *testing.T) {
	e := newEnv(t)
	client, prs := e.agent("p1", "key1", "inst1", "usb://a")
	sub, stop := e.svc.Subscribe(client)
	defer stop()
	e.svc.Pushed(sub) // the first answer is full
	const n = 20
	before := e.st.Stats()
	for i := range n {
		e.submit(e.alice, prs[i%len(prs)], SubmitRequest{Title: "count"})
		js, full := e.svc.Pushed(sub)
		if full || len(js) != 1 {
			t.Fatalf("Pushed = %d jobs, full %v; want the job", len(js), full)
		}
		errs, err := e.svc.MarkPushedAll(t.Context(), []string{js[0].JobID})
		e.must(err)
		e.must(errs[0])
		errs, err = e.svc.AckAll(t.Context(), client, []protocol.JobStatus{
			{JobID: js[0].JobID, State: protocol.JobReceived}, {JobID: js[0].JobID, State: protocol.JobDone}})
		e.must(err)
		e.must(errs[0])
		e.must(errs[1])
	}
	after := e.st.Stats()
	writes, reads := float64(after.Writes-before.Writes)/n, float64(after.Reads-before.Reads)/n
	t.Logf("per job: %.1f statements on the writer, %.1f on the read pool, %.1f transactions", writes, reads,
		float64(after.Transactions-before.Transactions)/n)
	if most := 11.0; writes+reads > most { // 19 before issue 13's server-path work
		t.Errorf("%.1f statements per job, want at most %.0f", writes+reads, most)
	}
}
