package sqlite_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"printdock/server/store"
	"printdock/server/store/sqlite"
)

var p0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// pendingDB is a store with portal p1, a client, a printer and jobs j0..j(n-1).
func pendingDB(t *testing.T, n int) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "printdock.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.CreatePortal(ctx, store.Portal{ID: "p1", Name: "p1", CreatedAt: p0}))
	_, err = db.ConnectClient(ctx, store.Client{ID: "c1", PortalID: "p1", LastSeenAt: p0})
	must(err)
	must(db.UpsertPrinter(ctx, store.Printer{ID: "pr1", PortalID: "p1", ClientID: "c1", URI: "usb://a", Present: true, UpdatedAt: p0}))
	for i := range n {
		must(db.CreateJob(ctx, store.Job{ID: fmt.Sprintf("j%d", i), PortalID: "p1", PrinterID: "pr1", ClientID: "c1",
			Content: []byte("x"), Copies: 1, State: store.JobQueued, CreatedAt: p0, UpdatedAt: p0, ExpiresAt: p0.Add(time.Hour)}))
	}
	return db
}

// concurrently runs fn(0..n-1) at once and returns their errors.
func concurrently(n int, fn func(i int) error) []error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = fn(i) })
	}
	wg.Wait()
	return errs
}

// Rows appended in concurrent transactions (one group commit) are all written, each job's in order, and a
// statement in the transaction that reads them sees them.
func TestPendingRows(t *testing.T) {
	const n = 40
	db := pendingDB(t, n)
	ctx := t.Context()
	errs := concurrently(n, func(i int) error {
		return db.InTx(ctx, func(tx store.Store) error {
			id := fmt.Sprintf("j%d", i)
			for k := range 3 {
				if _, err := tx.AppendJobEvent(ctx, store.JobEvent{JobID: id, At: p0, To: store.JobSent, Reason: fmt.Sprint(k)}); err != nil {
					return err
				}
			}
			if _, err := tx.AppendEvent(ctx, store.Event{PortalID: "p1", Type: "job.state_changed", At: p0, Subject: id, Data: "{}"}); err != nil {
				return err
			}
			evs, err := tx.ListJobEvents(ctx, id, store.Page{})
			if err != nil || len(evs) != 3 {
				return fmt.Errorf("in the transaction: %d events, %v", len(evs), err)
			}
			return nil
		})
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("job %d: %v", i, err)
		}
	}
	for i := range n {
		evs, err := db.ListJobEvents(ctx, fmt.Sprintf("j%d", i), store.Page{})
		if err != nil || len(evs) != 3 || evs[0].Reason != "0" || evs[1].Reason != "1" || evs[2].Reason != "2" {
			t.Fatalf("j%d: events %+v, %v", i, evs, err)
		}
	}
	es, err := db.ListEvents(ctx, store.EventFilter{PortalID: "p1", Limit: 1000})
	if err != nil || len(es) != n {
		t.Fatalf("%d events, %v; want %d", len(es), err, n)
	}
	for i := 1; i < len(es); i++ {
		if es[i].ID <= es[i-1].ID {
			t.Fatalf("event IDs not increasing: %d after %d", es[i].ID, es[i-1].ID)
		}
	}
}

// A pending row the database refuses (an event of an unknown job) fails the transaction that appended it
// alone: the others of its group commit.
func TestPendingRowRefused(t *testing.T) {
	const n = 20
	db := pendingDB(t, n)
	ctx := t.Context()
	errs := concurrently(n, func(i int) error {
		id := fmt.Sprintf("j%d", i)
		if i == n/2 {
			id = "unknown"
		}
		return db.InTx(ctx, func(tx store.Store) error {
			_, err := tx.AppendJobEvent(ctx, store.JobEvent{JobID: id, At: p0, To: store.JobSent})
			return err
		})
	})
	for i, err := range errs {
		if (err != nil) != (i == n/2) {
			t.Errorf("transaction %d: %v", i, err)
		}
	}
	for i := range n {
		evs, err := db.ListJobEvents(ctx, fmt.Sprintf("j%d", i), store.Page{})
		if err != nil || len(evs) != 1 && i != n/2 {
			t.Errorf("j%d: %d events, %v", i, len(evs), err)
		}
	}
}
