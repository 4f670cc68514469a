package storetest

import (
	"testing"
	"time"

	"printdock/server/store"
)

// The one-statement job updates of the hot path (SendQueuedJob, AckJob).

// testSendQueuedJob: SendQueuedJob marks a queued, deliverable job sent in its client's current session in
// one statement, and refuses (ErrConflict, nothing written) a job that is not queued, is being cancelled,
// has expired or does not exist.
func testSendQueuedJob(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	pa := printers(t, s, "p1 c1 prA usb://a")["prA"]
	connect(t, s, "p1", "c1", t0) // a second session: SessionSeq 2
	t1 := t0.Add(time.Second)
	j := job(pa, "j1", t0)
	j.IdempotencyKey = "key-1"
	must(t, s.CreateJob(ctx, j))
	got, err := s.SendQueuedJob(ctx, "j1", t1)
	must(t, err)
	if got.ID != "j1" || got.PortalID != "p1" || got.PrinterID != pa.ID || got.ClientID != "c1" || got.Title != j.Title ||
		got.IdempotencyKey != "key-1" || got.Attempts != 1 || got.SentSession != 2 || !got.ExpiresAt.Equal(j.ExpiresAt) {
		t.Errorf("SendQueuedJob = %+v", got)
	}
	row, _ := s.GetJob(ctx, "j1")
	if row.State != store.JobSent || row.Attempts != 1 || row.SentSession != 2 || !eqT(row.SentAt, t1) ||
		!row.UpdatedAt.Equal(t1) || row.Reason != "" || row.ReceivedAt != nil || row.FinishedAt != nil {
		t.Errorf("after SendQueuedJob = %+v", row)
	}
	_, err = s.SendQueuedJob(ctx, "j1", t1)
	wantErr(t, "already sent", err, store.ErrConflict)
	_, err = s.SendQueuedJob(ctx, "nope", t1)
	wantErr(t, "unknown", err, store.ErrConflict)

	must(t, s.CreateJob(ctx, job(pa, "j2", t0)))
	must(t, s.UpdateJob(ctx, store.JobUpdate{ID: "j2", From: store.JobQueued, To: store.JobQueued, At: t0, CancelBy: "bob"}))
	_, err = s.SendQueuedJob(ctx, "j2", t1)
	wantErr(t, "cancel requested", err, store.ErrConflict)

	must(t, s.CreateJob(ctx, job(pa, "j3", t0)))
	_, err = s.SendQueuedJob(ctx, "j3", j.ExpiresAt)
	wantErr(t, "expired", err, store.ErrConflict)
	for _, id := range []string{"j2", "j3"} {
		if row, _ := s.GetJob(ctx, id); row.State != store.JobQueued || row.Attempts != 0 || row.SentAt != nil {
			t.Errorf("%s written by a refused SendQueuedJob: %+v", id, row)
		}
	}
}

// testAckJob: AckJob applies a run of statuses of a sent job of the client in one statement — received and
// done; received, printing and done; received and printing; done alone of a printing job — and refuses
// (ErrConflict, nothing written) any other job.
func testAckJob(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	pa := printers(t, s, "p1 c1 prA usb://a")["prA"]
	t1, t2, t3 := t0.Add(time.Second), t0.Add(2*time.Second), t0.Add(3*time.Second)
	send := func(id string) {
		t.Helper()
		j := job(pa, id, t0)
		j.IdempotencyKey = "key-" + id
		must(t, s.CreateJob(ctx, j))
		_, err := s.SendQueuedJob(ctx, id, t1)
		must(t, err)
	}
	ack := func(id, client string, from, to store.JobState, received, printing bool, at time.Time) (store.Job, error) {
		return s.AckJob(ctx, store.JobAck{ID: id, ClientID: client, From: from, To: to, Received: received, Printing: printing, At: at})
	}
	send("j1")
	got, err := ack("j1", "c1", store.JobSent, store.JobDone, true, false, t2)
	must(t, err)
	if got.ID != "j1" || got.PortalID != "p1" || got.PrinterID != pa.ID || got.ClientID != "c1" || got.Title != "label j1" ||
		got.IdempotencyKey != "key-j1" {
		t.Errorf("AckJob = %+v", got)
	}
	row, _ := s.GetJob(ctx, "j1")
	if row.State != store.JobDone || row.Reason != "" || !eqT(row.ReceivedAt, t2) || !eqT(row.FinishedAt, t2) ||
		!row.UpdatedAt.Equal(t2) || !eqT(row.SentAt, t1) || row.Attempts != 1 || row.PrintingAt != nil {
		t.Errorf("after AckJob received+done = %+v", row)
	}
	_, err = ack("j1", "c1", store.JobSent, store.JobDone, true, false, t2)
	wantErr(t, "already done", err, store.ErrConflict)
	_, err = ack("nope", "c1", store.JobSent, store.JobDone, true, false, t2)
	wantErr(t, "unknown", err, store.ErrConflict)

	send("j5") // received, printing and done
	_, err = ack("j5", "c1", store.JobSent, store.JobDone, true, true, t2)
	must(t, err)
	if row, _ := s.GetJob(ctx, "j5"); row.State != store.JobDone || !eqT(row.ReceivedAt, t2) || !eqT(row.PrintingAt, t2) ||
		!eqT(row.FinishedAt, t2) || !row.UpdatedAt.Equal(t2) {
		t.Errorf("after AckJob received+printing+done = %+v", row)
	}
	send("j6") // received and printing, then done alone
	_, err = ack("j6", "c1", store.JobSent, store.JobPrinting, true, false, t2)
	must(t, err)
	if row, _ := s.GetJob(ctx, "j6"); row.State != store.JobPrinting || !eqT(row.ReceivedAt, t2) || !eqT(row.PrintingAt, t2) ||
		row.FinishedAt != nil || !row.UpdatedAt.Equal(t2) {
		t.Errorf("after AckJob received+printing = %+v", row)
	}
	_, err = ack("j6", "c1", store.JobSent, store.JobDone, false, false, t3)
	wantErr(t, "done from sent, printing", err, store.ErrConflict)
	_, err = ack("j6", "c1", store.JobPrinting, store.JobDone, false, false, t3)
	must(t, err)
	if row, _ := s.GetJob(ctx, "j6"); row.State != store.JobDone || !eqT(row.ReceivedAt, t2) || !eqT(row.PrintingAt, t2) ||
		!eqT(row.FinishedAt, t3) || !row.UpdatedAt.Equal(t3) {
		t.Errorf("after AckJob done = %+v", row)
	}

	send("j2")
	_, err = ack("j2", "c2", store.JobSent, store.JobDone, true, false, t2)
	wantErr(t, "another client's", err, store.ErrConflict)
	must(t, s.UpdateJob(ctx, store.JobUpdate{ID: "j2", From: store.JobSent, To: store.JobSent, At: t1, Received: true}))
	_, err = ack("j2", "c1", store.JobSent, store.JobPrinting, true, false, t2)
	wantErr(t, "received before", err, store.ErrConflict)
	send("j3")
	must(t, s.UpdateJob(ctx, store.JobUpdate{ID: "j3", From: store.JobSent, To: store.JobSent, At: t1, CancelBy: "bob"}))
	_, err = ack("j3", "c1", store.JobSent, store.JobDone, true, true, t2)
	wantErr(t, "cancel requested", err, store.ErrConflict)
	must(t, s.CreateJob(ctx, job(pa, "j4", t0)))
	_, err = ack("j4", "c1", store.JobSent, store.JobDone, true, false, t2)
	wantErr(t, "queued", err, store.ErrConflict)
	for _, id := range []string{"j2", "j3", "j4"} {
		if row, _ := s.GetJob(ctx, id); row.State.Terminal() || row.FinishedAt != nil || row.UpdatedAt.Equal(t2) {
			t.Errorf("%s written by a refused AckJob: %+v", id, row)
		}
	}
}
