package hub_test

import (
	"testing"
	"time"

	"printdock/protocol"
	"printdock/server/jobs"
	"printdock/server/servertest"
)

// TestJobStatusesLikeJobStatus: the server lists job_statuses in welcome, and a job whose received and
// printing came together in one job_statuses ends with the same state and history (REST, hence portal and
// webhooks, which read the same events) as one whose statuses came one by one.
func TestJobStatusesLikeJobStatus(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	k := s.CreatePrintClient(t, "batch")
	p := servertest.SimPrinter("batch")
	a := s.Connect(t, k.Secret, servertest.DialOptions{Printers: []protocol.Printer{p}})
	if !a.Welcome.Has(protocol.FeatureJobStatuses) {
		t.Fatalf("welcome lists %v, want %s", a.Welcome.Features, protocol.FeatureJobStatuses)
	}
	pr := s.WaitPrinter(t, a, p.ID, true)
	ctx := ctx10(t)
	history := func(id string) []jobs.Event {
		evs := s.JobEvents(t, id)
		for i := range evs {
			evs[i].At, evs[i].Seq = time.Time{}, 0
		}
		return evs
	}

	one := s.SubmitJob(t, pr.ID, []byte("^XA^FDone^FS^XZ"), servertest.JobOptions{})
	if j := a.ExpectJob(t); j.JobID != one.ID {
		t.Fatalf("got job %s, want %s", j.JobID, one.ID)
	}
	for _, st := range []string{protocol.JobReceived, protocol.JobPrinting, protocol.JobDone} {
		a.Ack(t, one.ID, st)
	}
	s.WaitJob(t, one.ID, jobs.Done)

	two := s.SubmitJob(t, pr.ID, []byte("^XA^FDtwo^FS^XZ"), servertest.JobOptions{})
	if j := a.ExpectJob(t); j.JobID != two.ID {
		t.Fatalf("got job %s, want %s", j.JobID, two.ID)
	}
	now := time.Now().UTC()
	if err := a.Send(ctx, protocol.JobStatuses{Statuses: []protocol.JobStatus{
		{JobID: two.ID, State: protocol.JobReceived, At: now},
		{JobID: two.ID, State: protocol.JobPrinting, At: now},
	}}); err != nil {
		t.Fatal(err)
	}
	s.WaitJob(t, two.ID, jobs.Printing)
	a.Ack(t, two.ID, protocol.JobDone)
	s.WaitJob(t, two.ID, jobs.Done)

	h1, h2 := history(one.ID), history(two.ID)
	if len(h1) != len(h2) || len(h1) < 4 {
		t.Fatalf("histories differ:\none by one: %+v\nbatched:    %+v", h1, h2)
	}
	for i := range h1 {
		if h1[i] != h2[i] {
			t.Fatalf("event %d differs: one by one %+v, batched %+v", i, h1[i], h2[i])
		}
	}

	// A refused status in a batch is answered like a job_status of its own; the others are recorded.
	if err := a.Send(ctx, protocol.JobStatuses{Statuses: []protocol.JobStatus{
		{JobID: "job_unknown", State: protocol.JobDone, At: now},
	}}); err != nil {
		t.Fatal(err)
	}
	if e := a.ExpectError(t, "not_found"); e.Code != "not_found" {
		t.Fatalf("got %+v", e)
	}
}
