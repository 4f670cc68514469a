package jobs

import (
	"slices"
	"strings"
	"testing"
	"time"

	"printdock/protocol"
)

// TestCancelByAgent: what Cancel does for each state of a job and each kind of agent.
func TestCancelByAgent(t *testing.T) {
	for _, tc := range []struct {
		name      string
		canCancel bool     // the agent's hello lists the cancel feature
		progress  []string // what happens before the cancel: "sent", then the agent's statuses
		want      State    // the job's state after Cancel
		requested bool     // a cancel request is recorded (and waits for the agent)
		err       error
	}{
		{name: "queued, old agent", want: Cancelled},
		{name: "queued", canCancel: true, want: Cancelled},
		{name: "sent, old agent", progress: []string{"sent"}, want: Sent, err: ErrAlreadySent},
		{name: "sent", canCancel: true, progress: []string{"sent"}, want: Sent, requested: true},
		{name: "received", canCancel: true, progress: []string{"sent", protocol.JobReceived}, want: Sent, requested: true},
		{name: "waiting for paper", canCancel: true, progress: []string{"sent", protocol.JobFailed}, want: Sent, requested: true},
		{name: "printing", canCancel: true, progress: []string{"sent", protocol.JobPrinting}, want: Printing, err: ErrAlreadyPrinting},
		{name: "done", canCancel: true, progress: []string{"sent", protocol.JobDone}, want: Done, err: ErrConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if tc.canCancel {
				e.features = []string{"other", protocol.FeatureCancel}
			}
			client, prs := e.agent("p1", "key1", "inst1", "usb://a")
			j := e.submit(e.alice, prs[0], SubmitRequest{})
			for _, p := range tc.progress {
				if p == "sent" {
					e.must(e.svc.MarkSent(t.Context(), j.ID))
					continue
				}
				e.must(e.ack(client, j.ID, p, "out of paper", p == protocol.JobFailed))
			}
			got, err := e.svc.Cancel(t.Context(), e.admin, j.ID)
			if tc.err != nil {
				wantErr(t, "cancel", err, tc.err)
			} else if err != nil || got.State != tc.want {
				t.Fatalf("cancel = %+v, %v; want %s", got, err, tc.want)
			}
			sj := e.job(j.ID)
			if sj.State != tc.want || (sj.CancelRequestedAt != nil) != tc.requested {
				t.Fatalf("job = %s, cancel requested %v; want %s, %v", sj.State, sj.CancelRequestedAt, tc.want, tc.requested)
			}
			ids, err := e.svc.CancelsFor(t.Context(), client)
			if err != nil || slices.Contains(ids, j.ID) != tc.requested {
				t.Fatalf("CancelsFor = %v, %v", ids, err)
			}
			if !tc.requested {
				return
			}
			if sj.CancelRequestedBy != "admin@example.com" || !strings.Contains(sj.Reason, "cancel requested by admin@example.com") {
				t.Errorf("requested job = %+v", sj)
			}
			// Asking again answers the same; the job is never sent again, not in a new session either.
			again, err := e.svc.Cancel(t.Context(), e.alice, j.ID)
			if err != nil || again.State != Sent || !again.CancelRequestedAt.Equal(*sj.CancelRequestedAt) {
				t.Errorf("repeated cancel = %+v, %v", again, err)
			}
			wantErr(t, "mark sent", e.svc.MarkSent(t.Context(), j.ID), ErrConflict)
			e.agent("p1", "key1", "inst1", "usb://a") // a new session of the same installation
			if p := e.pending(client); len(p) != 0 {
				t.Errorf("pending after a cancel request = %v", p)
			}
		})
	}
}

// TestCancelAnswers: the agent's answer to a cancel decides how the job ends.
func TestCancelAnswers(t *testing.T) {
	type status struct{ state, reason string }
	for _, tc := range []struct {
		name    string
		answers []status
		want    State
		reason  string // the job's reason at the end
	}{
		{"discarded", []status{{protocol.JobCancelled, ""}}, Cancelled, "cancelled by admin@example.com"},
		{"discarded, repeated", []status{{protocol.JobCancelled, ""}, {protocol.JobCancelled, ""}}, Cancelled,
			"cancelled by admin@example.com"},
		{"too late while printing", []status{{protocol.JobPrinting, "too late: already writing"}}, Printing,
			"cancel requested by admin@example.com came too late: too late: already writing"},
		{"too late, then done", []status{{protocol.JobPrinting, "too late: already writing"}, {protocol.JobDone, ""}}, Done,
			"cancel requested by admin@example.com came too late: too late: already writing"},
		{"too late, done at once", []status{{protocol.JobDone, ""}}, Done, "cancel requested by admin@example.com came too late"},
		{"failed for good", []status{{protocol.JobFailed, "head broken"}}, Failed, "head broken"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.features = []string{protocol.FeatureCancel}
			client, prs := e.agent("p1", "key1", "inst1", "usb://a")
			j := e.submit(e.alice, prs[0], SubmitRequest{})
			e.must(e.svc.MarkSent(t.Context(), j.ID))
			e.must(e.ack(client, j.ID, protocol.JobReceived, "", false))
			if _, err := e.svc.Cancel(t.Context(), e.admin, j.ID); err != nil {
				t.Fatal(err)
			}
			for _, a := range tc.answers {
				e.clock.Advance(time.Second)
				e.must(e.ack(client, j.ID, a.state, a.reason, false))
			}
			if got := e.job(j.ID); got.State != tc.want || got.Reason != tc.reason {
				t.Fatalf("job = %s %q, want %s %q", got.State, got.Reason, tc.want, tc.reason)
			}
			if ids, _ := e.svc.CancelsFor(t.Context(), client); len(ids) != 0 {
				t.Errorf("cancel still pending after the answer: %v", ids)
			}
		})
	}
}

// TestSubmitExpiry: a job's expiry is the default, expires_in_seconds or expires_at, within bounds.
func TestSubmitExpiry(t *testing.T) {
	e := newEnv(t)
	_, prs := e.agent("p1", "key1", "inst1", "usb://a")
	at := func(d time.Duration) *time.Time { v := t0.Add(d); return &v }
	for _, tc := range []struct {
		name string
		req  SubmitRequest
		want time.Duration // from now; 0: refused with ErrInvalid
	}{
		{"default", SubmitRequest{}, 24 * time.Hour},
		{"in seconds", SubmitRequest{ExpiresInSeconds: 90}, 90 * time.Second},
		{"in seconds, the most", SubmitRequest{ExpiresInSeconds: int64(MaxExpiry / time.Second)}, MaxExpiry},
		{"in seconds, too many", SubmitRequest{ExpiresInSeconds: int64(MaxExpiry/time.Second) + 1}, 0},
		{"in seconds, negative", SubmitRequest{ExpiresInSeconds: -1}, 0},
		{"at", SubmitRequest{ExpiresAt: at(2 * time.Hour)}, 2 * time.Hour},
		{"at, the most", SubmitRequest{ExpiresAt: at(MaxExpiry)}, MaxExpiry},
		{"at, too far", SubmitRequest{ExpiresAt: at(MaxExpiry + time.Microsecond)}, 0},
		{"at, now", SubmitRequest{ExpiresAt: at(0)}, 0},
		{"at, past", SubmitRequest{ExpiresAt: at(-time.Hour)}, 0},
		{"both", SubmitRequest{ExpiresAt: at(time.Hour), ExpiresInSeconds: 60}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Content = []byte("^XA^XZ")
			j, _, err := e.svc.Submit(t.Context(), e.alice, prs[0], tc.req)
			if tc.want == 0 {
				wantErr(t, "submit", err, ErrInvalid)
				return
			}
			if err != nil || !j.ExpiresAt.Equal(t0.Add(tc.want)) {
				t.Fatalf("submit = expires %v, %v; want %v", j.ExpiresAt, err, t0.Add(tc.want))
			}
		})
	}
}
