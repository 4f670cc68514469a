package storetest

import (
	"fmt"
	"sync"
	"testing"

	"printdock/server/store"
)

// txWorkers is how many goroutines race in the concurrency tests.
const txWorkers = 8

// race runs fn(i) for i in [0, txWorkers) at once and reports their errors.
func race(t *testing.T, fn func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, txWorkers)
	for i := range txWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("worker %d: %v", i, err)
		}
	}
}

// testConcurrentTx checks that InTx behaves as if transactions ran one after another (as packages keys and
// jobs assume): a check-then-insert creates one row however many run at once (the first portal of an empty
// store, two replicas bootstrapping), and a check-then-update cannot remove the last of something (write
// skew: the portal's last administrator). A store may retry a transaction that lost a race, but must not
// fail it.
func testConcurrentTx(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	race(t, func(i int) error {
		return s.InTx(ctx, func(tx store.Store) error {
			n, err := tx.CountPortals(ctx)
			if err != nil || n > 0 {
				return err
			}
			return tx.CreatePortal(ctx, store.Portal{ID: fmt.Sprintf("p%d", i), Name: "first", CreatedAt: t0})
		})
	})
	if n, err := s.CountPortals(ctx); err != nil || n != 1 {
		t.Fatalf("portals after racing first-portal transactions = %d, %v; want 1", n, err)
	}

	portal(t, s, "px")
	for i := range txWorkers {
		user(t, s, "px", fmt.Sprintf("admin%d", i), "admin")
	}
	race(t, func(i int) error {
		return s.InTx(ctx, func(tx store.Store) error {
			n, err := tx.CountAdmins(ctx, "px")
			if err != nil || n <= 1 {
				return err
			}
			return tx.SetUserRole(ctx, fmt.Sprintf("admin%d", i), "user")
		})
	})
	if n, err := s.CountAdmins(ctx, "px"); err != nil || n != 1 {
		t.Errorf("admins after racing demotions = %d, %v; want exactly 1", n, err)
	}
}
