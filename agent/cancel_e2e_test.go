package agent

import (
	"net/http"
	"strings"
	"testing"

	"printdock/internal/testenv"
	"printdock/server/jobs"
	"printdock/server/servertest"
)

// TestCancelThroughRESTEndToEnd: a real server, a real agent and the TCP simulator. A job waiting at the
// agent for paper is cancelled with DELETE /api/v1/jobs/{id} (202), ends cancelled, and never prints —
// not after the paper returns either, while the next job does. A job already printed cannot be
// cancelled, and the answer says so.
func TestCancelThroughRESTEndToEnd(t *testing.T) {
	r := newJobRig(t, nil)
	p := r.sim.Printer()
	testenvWaitLearned(t, r.a.cfg.StateDir, r.sim.URI()) // the agent knows this printer answers ~HS
	p.SetMediaOut(true)
	waiting := r.submit(t, label("cancel me"), servertest.JobOptions{})
	r.waitJob(t, waiting.ID, "held by the agent", func(j jobs.Job) bool { return j.ReceivedAt != nil })

	code, body := r.ts.Do(t, http.MethodDelete, "/api/v1/jobs/"+waiting.ID, r.ts.AdminKey, nil)
	if code != http.StatusAccepted {
		t.Fatalf("DELETE of a job waiting at the agent: %d %s, want 202", code, body)
	}
	r.waitJob(t, waiting.ID, "cancelled", stateIsJob(jobs.Cancelled))

	p.SetMediaOut(false)
	next := r.submit(t, label("print me"), servertest.JobOptions{})
	r.waitJob(t, next.ID, "done", stateIsJob(jobs.Done))
	got := waitSimJobs(t, p, 1)
	if n := len(p.Jobs()); n != 1 || !strings.Contains(string(got[0].Data), "print me") {
		t.Fatalf("the printer got %d jobs (%q); want only the one not cancelled", n, got[0].Data)
	}
	testenv.WaitFor(t, "the cancelled job to stay cancelled", func() bool {
		return r.ts.GetJob(t, waiting.ID).State == jobs.Cancelled
	})

	// Too late: printed already.
	code, body = r.ts.Do(t, http.MethodDelete, "/api/v1/jobs/"+next.ID, r.ts.AdminKey, nil)
	if code != http.StatusConflict || !strings.Contains(string(body), "done") && !strings.Contains(string(body), "printed") {
		t.Fatalf("DELETE of a printed job: %d %s, want 409 saying it was printed", code, body)
	}
	if len(p.Jobs()) != 1 {
		t.Fatalf("the printer got %d jobs", len(p.Jobs()))
	}
}
