package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"printdock/server/store"
)

var errRollback = errors.New("roll back")

func eventIDs(es []store.Event) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

func deliveryEvents(ds []store.WebhookDelivery) []int64 {
	out := make([]int64, len(ds))
	for i, d := range ds {
		out[i] = d.EventID
	}
	slices.Sort(out)
	return out
}

func testEvents(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	portal(t, s, "p1")
	portal(t, s, "p2")
	hook := func(id, portalID string, enabled bool, events ...string) store.Webhook {
		w := store.Webhook{ID: id, PortalID: portalID, URL: "https://example.com/" + id, Events: events,
			Description: "d " + id, Enabled: enabled, Secret: []byte{1, 2, 3}, CreatedAt: t0, CreatedBy: "a@example.com", UpdatedAt: t0}
		must(t, s.CreateWebhook(ctx, w))
		return w
	}
	all := hook("wh_all", "p1", true)
	jobsOnly := hook("wh_jobs", "p1", true, "job.state_changed")
	hook("wh_off", "p1", false)
	hook("wh_other", "p2", true)

	if got, err := s.GetWebhook(ctx, jobsOnly.ID); err != nil || !slices.Equal(got.Events, jobsOnly.Events) ||
		!got.CreatedAt.Equal(t0) || got.URL != jobsOnly.URL || !got.Enabled || string(got.Secret) != "\x01\x02\x03" {
		t.Fatalf("GetWebhook = %+v, %v", got, err)
	}
	if ws, err := s.ListWebhooks(ctx, "p1"); err != nil || len(ws) != 3 {
		t.Fatalf("ListWebhooks = %d, %v", len(ws), err)
	}

	ev := func(typ, subject, printer string, at time.Time) int64 {
		id, err := s.AppendEvent(ctx, store.Event{PortalID: "p1", Type: typ, At: at, Subject: subject, PrinterID: printer, Data: `{"x":1}`})
		must(t, err)
		return id
	}
	e1 := ev("job.state_changed", "job_a", "prn_1", t0)
	e2 := ev("client.connected", "cli_1", "", t0)
	e3 := ev("job.state_changed", "job_a", "prn_1", t0.Add(time.Second))
	e4 := ev("job.state_changed", "job_b", "prn_2", t0.Add(time.Second))
	if !(e1 < e2 && e2 < e3 && e3 < e4) {
		t.Fatalf("event IDs not increasing: %d %d %d %d", e1, e2, e3, e4)
	}
	if last, err := s.LastEventID(ctx, "p1"); err != nil || last != e4 {
		t.Errorf("LastEventID = %d, %v; want %d", last, err, e4)
	}
	if last, err := s.LastEventID(ctx, "p2"); err != nil || last != 0 {
		t.Errorf("LastEventID(p2) = %d, %v; want 0", last, err)
	}
	for _, tc := range []struct {
		f    store.EventFilter
		want []int64
	}{
		{store.EventFilter{PortalID: "p1"}, []int64{e1, e2, e3, e4}},
		{store.EventFilter{PortalID: "p1", After: e2}, []int64{e3, e4}},
		{store.EventFilter{PortalID: "p1", Types: []string{"client.connected"}}, []int64{e2}},
		{store.EventFilter{PortalID: "p1", PrinterID: "prn_1"}, []int64{e1, e3}},
		{store.EventFilter{PortalID: "p1", Limit: 1}, []int64{e1}},
		{store.EventFilter{PortalID: "p2"}, []int64{}},
	} {
		got, err := s.ListEvents(ctx, tc.f)
		must(t, err)
		if ids := eventIDs(got); !slices.Equal(ids, tc.want) {
			t.Errorf("ListEvents(%+v) = %v, want %v", tc.f, ids, tc.want)
		}
	}
	got, err := s.ListEvents(ctx, store.EventFilter{PortalID: "p1", Limit: 1})
	must(t, err)
	if e := got[0]; e.Type != "job.state_changed" || e.Subject != "job_a" || e.PrinterID != "prn_1" || e.Data != `{"x":1}` || !e.At.Equal(t0) {
		t.Errorf("event = %+v", e)
	}

	// Queued: wh_all gets all four, wh_jobs the three job events, the disabled and other portal's none.
	da, err := s.ListDeliveries(ctx, all.ID, 0)
	must(t, err)
	dj, err := s.ListDeliveries(ctx, jobsOnly.ID, 0)
	must(t, err)
	if g := deliveryEvents(da); !slices.Equal(g, []int64{e1, e2, e3, e4}) {
		t.Errorf("deliveries of wh_all: events %v", g)
	}
	if g := deliveryEvents(dj); !slices.Equal(g, []int64{e1, e3, e4}) {
		t.Errorf("deliveries of wh_jobs: events %v", g)
	}
	if d := da[0]; d.State != store.DeliveryPending || d.Attempts != 0 || d.LastAttemptAt != nil || d.ID == 0 {
		t.Errorf("new delivery = %+v", d)
	}

	// Claim: per webhook and subject, only the earliest pending event (e3 waits for e1).
	now := t0.Add(time.Minute)
	lease := now.Add(time.Minute)
	claimed, err := s.ClaimDeliveries(ctx, now, lease, 100)
	must(t, err)
	if g := deliveryEvents(claimed); !slices.Equal(g, []int64{e1, e1, e2, e4, e4}) {
		t.Fatalf("claimed events %v, want e1 twice, e2, e4 twice", g)
	}
	for _, d := range claimed {
		if d.Attempts != 1 || !d.NextAttemptAt.Equal(lease) {
			t.Errorf("claimed %+v", d)
		}
	}
	if again, err := s.ClaimDeliveries(ctx, now, lease, 100); err != nil || len(again) != 0 {
		t.Errorf("second claim = %d, %v; want none while leased", len(again), err)
	}
	// Delivering e1 to wh_all releases e3 there; failing it for good on wh_jobs releases e3 there too.
	for _, d := range claimed {
		r := store.DeliveryResult{ID: d.ID, State: store.DeliveryDelivered, At: now, NextAttemptAt: now, Status: 204}
		if d.EventID == e1 && d.WebhookID == jobsOnly.ID {
			r.State, r.Status, r.Error = store.DeliveryFailed, 500, "HTTP 500"
		}
		if d.EventID == e1 || d.EventID == e2 {
			must(t, s.FinishDelivery(ctx, r))
		}
	}
	claimed, err = s.ClaimDeliveries(ctx, now, lease, 100)
	must(t, err)
	if g := deliveryEvents(claimed); !slices.Equal(g, []int64{e3, e3}) {
		t.Errorf("claimed after finishing e1: %v, want e3 twice", g)
	}
	d, err := s.GetDelivery(ctx, da[len(da)-1].ID) // wh_all's e1
	must(t, err)
	if d.State != store.DeliveryDelivered || d.LastStatus != 204 || d.DeliveredAt == nil || !d.DeliveredAt.Equal(now) || d.EventID != e1 {
		t.Errorf("delivered = %+v", d)
	}
	must(t, s.ResendDelivery(ctx, d.ID, now))
	if d, err = s.GetDelivery(ctx, d.ID); err != nil || d.State != store.DeliveryPending || !d.NextAttemptAt.Equal(now) {
		t.Errorf("resent = %+v, %v", d, err)
	}
	wantErr(t, "resend unknown", s.ResendDelivery(ctx, 1<<40, now), store.ErrNotFound)

	// Update and delete.
	jobsOnly.Enabled, jobsOnly.Events, jobsOnly.UpdatedAt = false, []string{"key.rotated", "key.revoked"}, t0.Add(time.Hour)
	must(t, s.UpdateWebhook(ctx, jobsOnly))
	if got, err := s.GetWebhook(ctx, jobsOnly.ID); err != nil || got.Enabled || !slices.Equal(got.Events, jobsOnly.Events) || !got.UpdatedAt.Equal(jobsOnly.UpdatedAt) {
		t.Errorf("updated = %+v, %v", got, err)
	}
	must(t, s.DeleteWebhook(ctx, all.ID))
	wantErr(t, "get deleted", func() error { _, err := s.GetWebhook(ctx, all.ID); return err }(), store.ErrNotFound)
	wantErr(t, "delete again", s.DeleteWebhook(ctx, all.ID), store.ErrNotFound)
	if ds, err := s.ListDeliveries(ctx, all.ID, 0); err != nil || len(ds) != 0 {
		t.Errorf("deliveries of a deleted webhook: %d, %v", len(ds), err)
	}
	// Events inside a transaction that rolls back leave nothing.
	_ = s.InTx(ctx, func(tx store.Store) error {
		_, err := tx.AppendEvent(ctx, store.Event{PortalID: "p1", Type: "key.rotated", At: t0, Subject: "k", Data: "{}"})
		must(t, err)
		return errRollback
	})
	if last, err := s.LastEventID(ctx, "p1"); err != nil || last != e4 {
		t.Errorf("after rollback LastEventID = %d, %v; want %d", last, err, e4)
	}
}
