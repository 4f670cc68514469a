package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"printdock/internal/testenv"
	"printdock/protocol"
	"printdock/server/jobs"
	"printdock/server/servertest"
)

// Cancel that really cancels, end to end: a real server, websocket agents that list (or do not list)
// the cancel feature, and the REST API.

var canCancel = servertest.DialOptions{Features: []string{protocol.FeatureCancel}}

// cancelJob sends DELETE /api/v1/jobs/{id}, checks the status and returns the job (2xx) or the body.
func cancelJob(t *testing.T, s *servertest.Server, id string, want int) (jobs.Job, []byte) {
	t.Helper()
	code, b := s.Do(t, http.MethodDelete, "/api/v1/jobs/"+id, s.AdminKey, nil)
	if code != want {
		t.Fatalf("cancel %s: %d, want %d: %s", id, code, want, b)
	}
	var j jobs.Job
	if code/100 == 2 {
		if err := json.Unmarshal(b, &j); err != nil {
			t.Fatalf("cancel %s: %v: %s", id, err, b)
		}
	}
	return j, b
}

// TestCancelWaitingJob: a job the agent holds (waiting for paper) is cancelled through REST: 202, the
// agent is sent a cancel (once per session), answers cancelled, and the job ends cancelled; it is never
// delivered again, not even after a reconnect; a DELETE after that is a conflict.
func TestCancelWaitingJob(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	k := s.CreatePrintClient(t, "cancel")
	zd := servertest.SimPrinter("zd")
	a, ids := connectWith(t, s, k.Secret, canCancel, zd)
	ctx := ctx10(t)

	j := s.SubmitJob(t, ids[0], label("waiting"), servertest.JobOptions{})
	expectJobID(t, a, j.ID)
	a.Ack(t, j.ID, protocol.JobReceived)
	if err := a.SendStatus(ctx, j.ID, protocol.JobFailed, "out of paper", true); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, "the wait recorded", func() bool { return s.GetJob(t, j.ID).Reason == "out of paper" })

	got, _ := cancelJob(t, s, j.ID, http.StatusAccepted)
	if got.State != jobs.Sent || got.CancelRequestedAt == nil || !strings.Contains(got.Reason, "cancel requested by "+s.AdminEmail) {
		t.Fatalf("202 answer = %+v", got)
	}
	a.ExpectCancel(t, j.ID)
	again, _ := cancelJob(t, s, j.ID, http.StatusAccepted) // still waiting for the agent: same answer
	if again.State != jobs.Sent {
		t.Fatalf("repeated cancel = %+v", again)
	}
	// The next delivery pass (a new job) does not send the cancel again in this session.
	next := s.SubmitJob(t, ids[0], label("next"), servertest.JobOptions{})
	expectJobID(t, a, next.ID)
	a.Ack(t, next.ID, protocol.JobDone)
	a.Ack(t, j.ID, protocol.JobCancelled)
	got = s.WaitJob(t, j.ID, jobs.Cancelled)
	if got.FinishedAt == nil || got.Reason != "cancelled by "+s.AdminEmail {
		t.Fatalf("cancelled job = %+v", got)
	}
	cancelJob(t, s, j.ID, http.StatusConflict)

	// Reconnect as the same installation: the cancelled job is not redelivered, and no cancel is repeated;
	// the next message is the next job.
	a.Conn.CloseNow()
	s.WaitPrinter(t, a, zd.ID, false)
	o := canCancel
	o.InstallationID = a.Hello.InstallationID
	b, _ := connectWith(t, s, k.Secret, o, zd)
	marker := s.SubmitJob(t, ids[0], label("marker"), servertest.JobOptions{})
	expectJobID(t, b, marker.ID)
}

// TestCancelWhileOffline: a job sent to an agent that went away before acknowledging it is not
// redelivered once cancelled: the reconnecting agent gets the cancel instead, and its answer ends it.
func TestCancelWhileOffline(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	k := s.CreatePrintClient(t, "offline")
	zd := servertest.SimPrinter("zd")
	a, ids := connectWith(t, s, k.Secret, canCancel, zd)
	j := s.SubmitJob(t, ids[0], label("offline"), servertest.JobOptions{})
	expectJobID(t, a, j.ID)
	a.Conn.CloseNow()
	s.WaitPrinter(t, a, zd.ID, false)

	cancelJob(t, s, j.ID, http.StatusAccepted)
	o := canCancel
	o.InstallationID = a.Hello.InstallationID
	b, _ := connectWith(t, s, k.Secret, o, zd)
	b.ExpectCancel(t, j.ID)
	b.Ack(t, j.ID, protocol.JobCancelled)
	if got := s.WaitJob(t, j.ID, jobs.Cancelled); got.Attempts != 1 {
		t.Fatalf("cancelled job was delivered %d times", got.Attempts)
	}
}

// TestCancelTooLate: the agent had started writing: it answers with printing and then done, saying it
// was too late; the job ends done and shows why the cancel did not take.
func TestCancelTooLate(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	k := s.CreatePrintClient(t, "late")
	a, ids := connectWith(t, s, k.Secret, canCancel, servertest.SimPrinter("zd"))
	ctx := ctx10(t)
	j := s.SubmitJob(t, ids[0], label("late"), servertest.JobOptions{})
	expectJobID(t, a, j.ID)
	a.Ack(t, j.ID, protocol.JobReceived)
	testenv.WaitFor(t, "the receipt", func() bool { return s.GetJob(t, j.ID).ReceivedAt != nil })
	cancelJob(t, s, j.ID, http.StatusAccepted)
	a.ExpectCancel(t, j.ID)
	if err := a.SendStatus(ctx, j.ID, protocol.JobPrinting, "too late: already writing to the printer", false); err != nil {
		t.Fatal(err)
	}
	got := s.WaitJob(t, j.ID, jobs.Printing)
	if !strings.Contains(got.Reason, "too late") {
		t.Fatalf("printing job after a late cancel = %+v", got)
	}
	a.Ack(t, j.ID, protocol.JobDone)
	got = s.WaitJob(t, j.ID, jobs.Done)
	if !strings.Contains(got.Reason, "too late") || !strings.Contains(got.Reason, s.AdminEmail) || got.CancelRequestedAt == nil {
		t.Fatalf("done job after a late cancel = %+v", got)
	}
	var seen bool
	for _, e := range s.JobEvents(t, j.ID) {
		seen = seen || strings.Contains(e.Reason, "too late")
	}
	if !seen {
		t.Fatalf("no event records the late cancel: %+v", s.JobEvents(t, j.ID))
	}
}

// TestCancelOldAgent: an agent whose hello does not list the cancel feature cannot discard a job it
// holds: 409 with a message that says so, and the job goes on to print.
func TestCancelOldAgent(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	k := s.CreatePrintClient(t, "old")
	a, ids := connectWith(t, s, k.Secret, servertest.DialOptions{}, servertest.SimPrinter("zd"))
	j := s.SubmitJob(t, ids[0], label("old"), servertest.JobOptions{})
	expectJobID(t, a, j.ID)
	_, b := cancelJob(t, s, j.ID, http.StatusConflict)
	msg := decodeError(t, "cancel on an old agent", b).Error.Message
	if !strings.Contains(msg, "can no longer be cancelled") || !strings.Contains(msg, "update") {
		t.Fatalf("message %q does not say the agent must be updated", msg)
	}
	if got := s.GetJob(t, j.ID); got.State != jobs.Sent || got.CancelRequestedAt != nil {
		t.Fatalf("job after a refused cancel = %+v", got)
	}
	a.Ack(t, j.ID, protocol.JobDone)
	s.WaitJob(t, j.ID, jobs.Done)
}
