package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"printdock/server/store"
)

// testRetention: the RetentionStore methods drop and delete only what is old enough, at most limit rows a
// call, oldest first; unfinished jobs are never touched, whatever their age.
func testRetention(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	pa := printers(t, s, "p1 c1 prA usb://a")["prA"]
	day := 24 * time.Hour
	finish := func(id string, created time.Time, to store.JobState) {
		j := job(pa, id, created)
		j.Preview = []byte("\x89PNG preview of " + id) // a rendered PDF label: dropped with the content
		must(t, s.CreateJob(ctx, j))
		must(t, s.UpdateJob(ctx, store.JobUpdate{ID: id, From: store.JobQueued, To: to, At: created.Add(time.Hour)}))
		_, err := s.AppendJobEvent(ctx, store.JobEvent{JobID: id, At: created, To: store.JobQueued, Actor: "a"})
		must(t, err)
	}
	finish("old1", t0.Add(-100*day), store.JobCancelled)
	finish("old2", t0.Add(-99*day), store.JobExpired)
	finish("mid", t0.Add(-10*day), store.JobCancelled)
	finish("new", t0.Add(-time.Hour*2), store.JobCancelled)
	must(t, s.CreateJob(ctx, job(pa, "queued", t0.Add(-200*day))))
	for i, at := range []time.Time{t0.Add(-500 * day), t0.Add(-450 * day), t0.Add(-day)} {
		_, err := s.AppendAudit(ctx, store.AuditEntry{PortalID: "p1", At: at, Actor: "a", Action: "x", Target: string(rune('a' + i))})
		must(t, err)
	}

	count := func(what string, n int64, err error, want int64) {
		t.Helper()
		if err != nil || n != want {
			t.Errorf("%s = %d, %v; want %d", what, n, err, want)
		}
	}
	n, err := s.DropJobContent(ctx, t0.Add(-7*day), 2)
	count("drop content (limit 2)", n, err, 2)
	n, err = s.DropJobContent(ctx, t0.Add(-7*day), 2)
	count("drop content again", n, err, 1)
	n, err = s.DropJobContent(ctx, t0.Add(-7*day), 2)
	count("drop content, nothing left", n, err, 0)
	for id, want := range map[string]bool{"old1": false, "old2": false, "mid": false, "new": true, "queued": true} {
		b, err := s.JobContent(ctx, id)
		if err != nil || (len(b) > 0) != want {
			t.Errorf("content of %s = %d bytes, %v; want kept = %v", id, len(b), err, want)
		}
		b, err = s.JobPreview(ctx, id)
		switch {
		case id == "queued": // created without a preview
			wantErr(t, "preview of a raw job", err, store.ErrNotFound)
		case want && (err != nil || string(b) != "\x89PNG preview of "+id):
			t.Errorf("preview of %s = %q, %v", id, b, err)
		case !want && !errors.Is(err, store.ErrNotFound):
			t.Errorf("preview of %s after the content was dropped: %v; want ErrNotFound", id, err)
		}
	}
	if j, _ := s.GetJob(ctx, "mid"); j.Size == 0 {
		t.Error("size lost with the content")
	}

	n, err = s.DeleteFinishedJobs(ctx, t0.Add(-90*day), 1)
	count("delete jobs (limit 1)", n, err, 1)
	if _, err := s.GetJob(ctx, "old1"); err == nil {
		t.Error("oldest finished job kept, a newer one deleted first")
	}
	n, err = s.DeleteFinishedJobs(ctx, t0.Add(-90*day), 10)
	count("delete jobs", n, err, 1)
	for id, want := range map[string]bool{"old1": false, "old2": false, "mid": true, "new": true, "queued": true} {
		_, err := s.GetJob(ctx, id)
		evs, _ := s.ListJobEvents(ctx, id, store.Page{})
		if (err == nil) != want || (len(evs) > 0) != (want && id != "queued") {
			t.Errorf("job %s: %v, %d events; want kept = %v", id, err, len(evs), want)
		}
	}

	n, err = s.DeleteAudit(ctx, t0.Add(-400*day), 10)
	count("delete audit", n, err, 2)
	es, err := s.ListAudit(ctx, store.AuditFilter{PortalID: "p1"})
	if err != nil || len(es) != 1 || es[0].Target != "c" {
		t.Errorf("audit after retention = %+v, %v", es, err)
	}
}

// testEventRetention: finished deliveries and old events go, oldest first, at most limit a call; a
// pending delivery and its event stay whatever their age.
func testEventRetention(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	portal(t, s, "p1")
	day := 24 * time.Hour
	must(t, s.CreateWebhook(ctx, store.Webhook{ID: "wh", PortalID: "p1", URL: "https://example.com/h", Enabled: true,
		Secret: []byte{1}, CreatedAt: t0.Add(-50 * day), CreatedBy: "a", UpdatedAt: t0.Add(-50 * day)}))
	type step struct {
		subject string
		at      time.Time // the event's time and its delivery's attempt
		state   string
	}
	steps := []step{{"a", t0.Add(-40 * day), store.DeliveryDelivered}, {"b", t0.Add(-40 * day), store.DeliveryFailed},
		{"c", t0.Add(-40 * day), store.DeliveryPending}, {"d", t0.Add(-day), store.DeliveryDelivered}}
	ids := map[string]int64{}
	for _, st := range steps {
		id, err := s.AppendEvent(ctx, store.Event{PortalID: "p1", Type: "job.state_changed", At: st.at, Subject: st.subject, Data: "{}"})
		must(t, err)
		ids[st.subject] = id
	}
	claimed, err := s.ClaimDeliveries(ctx, t0, t0.Add(time.Minute), 10)
	if err != nil || len(claimed) != len(steps) {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	for _, d := range claimed {
		st := steps[slices.IndexFunc(steps, func(st step) bool { return ids[st.subject] == d.EventID })]
		must(t, s.FinishDelivery(ctx, store.DeliveryResult{ID: d.ID, State: st.state, At: st.at, NextAttemptAt: t0.Add(day), Status: 500}))
	}
	count := func(what string, n int64, err error, want int64) {
		t.Helper()
		if err != nil || n != want {
			t.Errorf("%s = %d, %v; want %d", what, n, err, want)
		}
	}
	before := t0.Add(-30 * day)
	n, err := s.DeleteDeliveries(ctx, before, 1)
	count("delete deliveries (limit 1)", n, err, 1)
	n, err = s.DeleteDeliveries(ctx, before, 10)
	count("delete deliveries", n, err, 1)
	n, err = s.DeleteDeliveries(ctx, before, 10)
	count("delete deliveries, nothing left", n, err, 0)
	ds, err := s.ListDeliveries(ctx, "wh", store.Page{})
	must(t, err)
	if g := deliveryEvents(ds); !slices.Equal(g, []int64{ids["c"], ids["d"]}) {
		t.Errorf("deliveries left for events %v, want the pending old one and the new one", g)
	}
	n, err = s.DeleteEvents(ctx, before, 1)
	count("delete events (limit 1)", n, err, 1)
	n, err = s.DeleteEvents(ctx, before, 10)
	count("delete events", n, err, 1)
	es, err := s.ListEvents(ctx, store.EventFilter{PortalID: "p1"})
	must(t, err)
	if g := eventIDs(es); !slices.Equal(g, []int64{ids["c"], ids["d"]}) {
		t.Errorf("events left %v, want the one a pending delivery needs and the new one", g)
	}
}
