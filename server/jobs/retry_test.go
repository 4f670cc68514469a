package jobs

import (
	"context"
	"errors"
	"testing"
	"time"

	"printdock/server/store"
)

// retryStore runs every transaction's fn twice, as a store that retries serialization failures does
// (store/postgres): the first attempt runs to the end and is rolled back (its commit "failed"), then
// between runs and fn runs again on a new transaction. Everything fn leaves in captured variables must
// come from the attempt that commits.
type retryStore struct {
	store.Store
	between func()
}

var errAgain = errors.New("serialization failure (simulated)")

func (r *retryStore) InTx(ctx context.Context, fn func(tx store.Store) error) error {
	err := r.Store.InTx(ctx, func(tx store.Store) error {
		if err := fn(tx); err != nil {
			return err
		}
		return errAgain
	})
	if !errors.Is(err, errAgain) {
		return err
	}
	if r.between != nil {
		r.between()
		r.between = nil
	}
	return r.Store.InTx(ctx, fn)
}

// TestRetriedTransactions: results accumulated inside a transaction (counts, flags, "created") are
// those of the attempt that commits.
func TestRetriedTransactions(t *testing.T) {
	e := newEnv(t)
	rs := &retryStore{Store: e.st}
	svc := New(Options{Store: rs, Clock: e.clock.Now})
	_, ps := e.agent("p1", "cred-1", "inst-1", "sim://a")

	// Submit: another submission with the same idempotency key commits between the attempts; the
	// retried attempt finds it and must not report "created".
	var first Job
	rs.between = func() { first = e.submit(e.alice, ps[0], SubmitRequest{Content: []byte("x"), IdempotencyKey: "k1"}) }
	j, created, err := svc.Submit(t.Context(), e.alice, ps[0], SubmitRequest{Content: []byte("x"), IdempotencyKey: "k1"})
	if err != nil || created || j.ID != first.ID {
		t.Fatalf("submit = %s created=%v, %v; want the other submission %s, not created", j.ID, created, err, first.ID)
	}

	// ExpireDue counts each expired job once.
	for range 3 {
		e.submit(e.alice, ps[0], SubmitRequest{Content: []byte("y"), ExpiresInSeconds: 60})
	}
	if n, err := svc.ExpireDue(t.Context(), e.clock.Now().Add(time.Hour)); err != nil || n != 3 {
		t.Fatalf("expired %d, %v; want 3", n, err)
	}
}
