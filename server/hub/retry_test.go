package hub_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"printdock/server/hub"
	"printdock/server/jobs"
)

// flakyJobs fails MarkSentAll and MarkPushedAll a number of times, as a store does under serialization
// conflicts. Its sessions claim no jobs at submission (see jobs.Service.Claimed): every job is marked
// sent by its session, as a job submitted on another replica is.
type flakyJobs struct {
	*jobs.Service
	fail atomic.Int32
}

func (f *flakyJobs) SubscribeFunc(clientID string, _ int64, wake func()) (*jobs.Subscription, func()) {
	return f.Service.SubscribeFunc(clientID, 0, wake)
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
	deliveredJob(t, e, "retry") // RetryEvery is an hour: only the soon retry delivers it within 10 s
	if left := fj.fail.Load(); left > 0 {
		t.Fatalf("delivered with %d injected failures left", left)
	}
}
