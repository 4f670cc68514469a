package retention_test

import (
	"fmt"
	"testing"
	"time"

	"printdock/server/store"
	"printdock/server/store/postgres"
	"printdock/server/store/postgres/pgtest"
	"printdock/server/store/retention"
)

// seedEvents records n events a day for days days before end on both a webhook's log, one transaction a
// day; each delivery is delivered an hour after its event, except the oldest day's first, left pending.
func seedEvents(t *testing.T, st store.Store, days, n int, end time.Time) {
	ctx := t.Context()
	must(t, st.CreatePortal(ctx, store.Portal{ID: "p1", Name: "P", CreatedAt: end.Add(-time.Duration(days+1) * day)}))
	must(t, st.CreateWebhook(ctx, store.Webhook{ID: "wh", PortalID: "p1", URL: "https://example.com/h", Enabled: true,
		Secret: []byte{1}, CreatedAt: end.Add(-time.Duration(days+1) * day), CreatedBy: "a", UpdatedAt: end}))
	for d := days; d > 0; d-- {
		at := end.Add(-time.Duration(d) * day)
		must(t, st.InTx(ctx, func(tx store.Store) error {
			for i := range n {
				if _, err := tx.AppendEvent(ctx, store.Event{PortalID: "p1", Type: "job.state_changed", At: at.Add(time.Duration(i) * time.Second),
					Subject: fmt.Sprintf("job%d-%d", d, i), Data: "{}"}); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	ds, err := st.ClaimDeliveries(ctx, end, end.Add(time.Hour), days*n)
	if err != nil || len(ds) != days*n {
		t.Fatalf("claimed %d, %v", len(ds), err)
	}
	for _, d := range ds {
		r := store.DeliveryResult{ID: d.ID, State: store.DeliveryDelivered, At: d.CreatedAt.Add(time.Hour), NextAttemptAt: end, Status: 204}
		if d.Subject == fmt.Sprintf("job%d-0", days) {
			r.State = store.DeliveryPending
		}
		must(t, st.FinishDelivery(ctx, r))
	}
}

// TestOnceEvents: on both stores, a pass deletes finished deliveries and events older than their ages,
// past Batch rows, and keeps a pending delivery and its event however old.
func TestOnceEvents(t *testing.T) {
	stores := map[string]func(t *testing.T) store.Store{
		"sqlite": func(t *testing.T) store.Store { return openSQLite(t) },
		"postgres": func(t *testing.T) store.Store {
			db, err := postgres.Open(t.Context(), pgtest.FreshSchema(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			per := retention.Batch/2 + 1 // the two old days are more than a batch
			seedEvents(t, st, 3, per, now)
			old := int64(2*per - 1) // the oldest day's first stays pending
			keep := retention.Policy{JobContent: -1, Jobs: -1, Audit: -1}
			p := keep
			p.Events, p.Deliveries = -1, day+2*time.Hour
			r, err := retention.Once(t.Context(), st, p, now)
			if err != nil || r != (retention.Result{Deliveries: old}) {
				t.Fatalf("deliveries only: Once = %+v, %v", r, err)
			}
			p.Events = day + 2*time.Hour
			r, err = retention.Once(t.Context(), st, p, now)
			if err != nil || r != (retention.Result{Events: old}) {
				t.Fatalf("events: Once = %+v, %v", r, err)
			}
			es, err := st.ListEvents(t.Context(), store.EventFilter{PortalID: "p1", Limit: 10 * per})
			if err != nil || len(es) != per+1 || es[0].Subject != "job3-0" {
				t.Errorf("events left: %d, %v; want the pending one and the last day's %d", len(es), err, per)
			}
		})
	}
}
