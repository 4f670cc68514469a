package hub_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"printdock/internal/testenv"
	"printdock/protocol"
	"printdock/server/hub"
	"printdock/server/jobs"
	"printdock/server/keys"
	"printdock/server/store"
)

// flakyJobs fails MarkSentAll and MarkPushedAll a number of times, as a store does under serialization
// conflicts.
type flakyJobs struct {
	*jobs.Service
	fail atomic.Int32
}

func (f *flakyJobs) MarkSentAll(ctx context.Context, ids []string) ([]error, error) {
	if f.fail.Add(-1) >= 0 {
		return nil, errors.New("injected: could not serialize access (SQLSTATE 40001)")
	}
	return f.Service.MarkSentAll(ctx, ids)
}

func (f *flakyJobs) MarkPushedAll(ctx context.Context, ids []string) ([]error, error) {
	if f.fail.Add(-1) >= 0 {
		return nil, errors.New("injected: could not serialize access (SQLSTATE 40001)")
	}
	return f.Service.MarkPushedAll(ctx, ids)
}

// A delivery that failed on a transient store error is tried again within a fraction of a second, not
// after RetryEvery (the chaos suite's replicas scenario found every delivery stalled 5 s after a
// serialization conflict).
func TestDeliveryRetriedSoonAfterTransientFailure(t *testing.T) {
	var fj *flakyJobs
	e := newEnv(t, hub.Options{RetryEvery: time.Hour}, func(js *jobs.Service) hub.Jobs {
		fj = &flakyJobs{Service: js}
		fj.fail.Store(2)
		return fj
	})
	c, w := e.connect(t)
	send(t, c, protocol.Printers{Printers: []protocol.Printer{{ID: "sim://retry", Name: "retry", Status: "ready"}}})
	var printerID string
	testenv.WaitFor(t, "the printer recorded", func() bool {
		ps, err := e.jobs.ListPrinters(context.Background(), w.Portal, store.Page{})
		if err == nil && len(ps) == 1 {
			printerID = ps[0].ID
		}
		return printerID != ""
	})
	if _, _, err := e.jobs.Submit(context.Background(), keys.Actor{Principal: e.admin, RemoteAddr: "127.0.0.1"}, printerID,
		jobs.SubmitRequest{Content: []byte("^XA^XZ"), Title: "retry", Copies: 1}); err != nil {
		t.Fatal(err)
	}
	ctx := ctx10(t)
	for {
		m, err := read(ctx, c)
		if err != nil {
			t.Fatalf("no job within 10 s after two failed deliveries (RetryEvery is an hour): %v", err)
		}
		if j, ok := m.(protocol.Job); ok && j.Title == "retry" {
			break
		}
	}
	if left := fj.fail.Load(); left > 0 {
		t.Fatalf("delivered with %d injected failures left", left)
	}
}
