package retention_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"printdock/internal/testenv"
	"printdock/server/store"
	"printdock/server/store/postgres"
	"printdock/server/store/postgres/pgtest"
	"printdock/server/store/retention"
	"printdock/server/store/sqlite"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

func TestWithDefaults(t *testing.T) {
	tests := []struct {
		in, want retention.Policy
	}{
		{retention.Policy{}, retention.Policy{JobContent: 7 * day, Jobs: 90 * day, Audit: 400 * day, Events: 30 * day, Deliveries: 30 * day}},
		{retention.Policy{JobContent: time.Hour, Jobs: -1, Audit: 2 * day, Events: -1, Deliveries: day},
			retention.Policy{JobContent: time.Hour, Jobs: -1, Audit: 2 * day, Events: -1, Deliveries: day}},
	}
	for _, tc := range tests {
		if got := tc.in.WithDefaults(); got != tc.want {
			t.Errorf("%+v.WithDefaults() = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func openSQLite(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "printdock.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// seed creates a portal with one printer and n jobs per day for days days before end, each finished an
// hour after its creation (cancelled), with content of size bytes, in one transaction per day; audit
// entries one per job. It returns the printer.
func seed(t testing.TB, st store.Store, days, n, size int, end time.Time, each func(day time.Time)) {
	t.Helper()
	ctx := context.Background()
	must(t, st.CreatePortal(ctx, store.Portal{ID: "p1", Name: "P", CreatedAt: end.Add(-time.Duration(days+1) * day)}))
	if _, err := st.ConnectClient(ctx, store.Client{ID: "c1", PortalID: "p1", LastSeenAt: end}); err != nil {
		t.Fatal(err)
	}
	must(t, st.UpsertPrinter(ctx, store.Printer{ID: "pr1", PortalID: "p1", ClientID: "c1", URI: "usb://a", Present: true, UpdatedAt: end}))
	content := make([]byte, size)
	for i := range content {
		content[i] = byte('A' + i%26)
	}
	for d := days; d > 0; d-- {
		at := end.Add(-time.Duration(d) * day)
		must(t, st.InTx(ctx, func(tx store.Store) error {
			for i := range n {
				id := fmt.Sprintf("j%d-%d", d, i)
				created := at.Add(time.Duration(i) * time.Second)
				if err := tx.CreateJob(ctx, store.Job{ID: id, PortalID: "p1", PrinterID: "pr1", ClientID: "c1", Content: content,
					Copies: 1, State: store.JobQueued, CreatedAt: created, UpdatedAt: created, ExpiresAt: created.Add(day)}); err != nil {
					return err
				}
				if err := tx.UpdateJob(ctx, store.JobUpdate{ID: id, From: store.JobQueued, To: store.JobCancelled,
					At: created.Add(time.Hour)}); err != nil {
					return err
				}
				if _, err := tx.AppendAudit(ctx, store.AuditEntry{PortalID: "p1", At: created, Actor: "a", Action: "job.cancel", Target: id}); err != nil {
					return err
				}
			}
			return nil
		}))
		if each != nil {
			each(at.Add(day))
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestOnceBatches: Once keeps going past Batch rows until everything old enough is gone, and a negative
// age keeps forever.
func TestOnceBatches(t *testing.T) {
	st := openSQLite(t)
	per := retention.Batch/2 + 1 // two days of jobs are more than a batch
	seed(t, st, 2, per, 10, now, nil)
	all := int64(2 * per)
	r, err := retention.Once(t.Context(), st, retention.Policy{JobContent: time.Minute, Jobs: -1, Audit: -1, Events: -1, Deliveries: -1}, now)
	if err != nil || r != (retention.Result{JobContents: all}) {
		t.Fatalf("Once = %+v, %v", r, err)
	}
	r, err = retention.Once(t.Context(), st, retention.Policy{JobContent: time.Minute, Jobs: day + time.Minute, Audit: time.Minute, Events: -1, Deliveries: -1}, now)
	if err != nil || r != (retention.Result{Jobs: int64(per), Audit: all}) {
		t.Fatalf("second Once = %+v, %v", r, err)
	}
}

// TestRun: the periodic task runs a pass at once.
func TestRun(t *testing.T) {
	st := openSQLite(t)
	seed(t, st, 10, 2, 10, now, nil)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		retention.Run(ctx, st, retention.Options{Clock: func() time.Time { return now }})
	}()
	testenv.WaitFor(t, "old job content dropped", func() bool {
		b, err := st.JobContent(ctx, "j10-0")
		return err == nil && len(b) == 0
	})
	cancel()
	<-done
	if b, _ := st.JobContent(t.Context(), "j1-0"); len(b) == 0 {
		t.Error("content of a job finished a day ago dropped")
	}
}

// TestExclusive: on PostgreSQL, one replica at a time runs the task.
func TestExclusive(t *testing.T) {
	u := pgtest.FreshSchema(t)
	var dbs [2]*postgres.DB
	for i := range dbs {
		db, err := postgres.Open(t.Context(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	var ex store.Exclusive = dbs[0]
	inside, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		ran, err := ex.RunExclusive(t.Context(), retention.TaskName, func(context.Context) error {
			close(inside)
			<-release
			return nil
		})
		if err == nil && !ran {
			err = fmt.Errorf("first replica did not run")
		}
		first <- err
	}()
	<-inside
	ran, err := dbs[1].RunExclusive(t.Context(), retention.TaskName, func(context.Context) error { return nil })
	if err != nil || ran {
		t.Errorf("second replica while the first runs: ran = %v, %v", ran, err)
	}
	ran, err = dbs[1].RunExclusive(t.Context(), "other", func(context.Context) error { return nil })
	if err != nil || !ran {
		t.Errorf("another task: ran = %v, %v", ran, err)
	}
	close(release)
	must(t, <-first)
	ran, err = dbs[1].RunExclusive(t.Context(), retention.TaskName, func(context.Context) error { return nil })
	if err != nil || !ran {
		t.Errorf("second replica after the first: ran = %v, %v", ran, err)
	}
}
