// Package retention keeps printdock-server's database small: it drops the content of finished print jobs
// after a while (7 days by default), deletes finished jobs with their events later (90 days) and audit
// entries last (400 days); the event log and finished webhook deliveries go after 30 days. A periodic task (Run) applies the Policy; on a store shared by replicas
// (store.Exclusive, PostgreSQL) one replica at a time runs it, under an advisory lock. docs/server.md
// describes the settings.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"printdock/server/store"
)

// Defaults for Policy and Run.
const (
	DefaultJobContent = 7 * 24 * time.Hour
	DefaultJobs       = 90 * 24 * time.Hour
	DefaultAudit      = 400 * 24 * time.Hour
	DefaultEvents     = 30 * 24 * time.Hour
	DefaultDeliveries = 30 * 24 * time.Hour
	DefaultEvery      = time.Hour
	// Batch is how many rows one statement (one short write transaction) drops or deletes at most, so that
	// a large backlog never holds SQLite's single writer for long.
	Batch = 1000
)

// TaskName is the name under which replicas take turns (store.Exclusive).
const TaskName = "retention"

// Policy says how long what is kept. A zero duration takes the default; a negative one keeps forever.
type Policy struct {
	JobContent time.Duration // content of finished jobs (done, failed, cancelled, expired)
	Jobs       time.Duration // finished jobs and their events
	Audit      time.Duration // audit entries
	Events     time.Duration // the event log (webhooks, event stream); never an event a pending delivery needs
	Deliveries time.Duration // finished (delivered, failed) webhook deliveries; never a pending one
}

// WithDefaults returns p with the defaults in place of its zero durations.
func (p Policy) WithDefaults() Policy {
	def := func(d, v time.Duration) time.Duration {
		if d == 0 {
			return v
		}
		return d
	}
	return Policy{JobContent: def(p.JobContent, DefaultJobContent), Jobs: def(p.Jobs, DefaultJobs),
		Audit: def(p.Audit, DefaultAudit), Events: def(p.Events, DefaultEvents), Deliveries: def(p.Deliveries, DefaultDeliveries)}
}

// Result counts what one pass removed.
type Result struct {
	JobContents int64 // jobs whose content was dropped
	Jobs        int64 // jobs deleted
	Audit       int64 // audit entries deleted
	Deliveries  int64 // webhook deliveries deleted
	Events      int64 // events deleted (with their finished deliveries)
}

// Once applies p (with defaults) at now: everything older than its age is dropped or deleted, Batch rows
// at a time, until nothing is left or ctx ends.
func Once(ctx context.Context, st store.RetentionStore, p Policy, now time.Time) (Result, error) {
	p = p.WithDefaults()
	var r Result
	steps := []struct {
		what string
		age  time.Duration
		do   func(context.Context, time.Time, int) (int64, error)
		n    *int64
	}{
		{"drop job content", p.JobContent, st.DropJobContent, &r.JobContents},
		{"delete jobs", p.Jobs, st.DeleteFinishedJobs, &r.Jobs},
		{"delete audit", p.Audit, st.DeleteAudit, &r.Audit},
		{"delete webhook deliveries", p.Deliveries, st.DeleteDeliveries, &r.Deliveries},
		{"delete events", p.Events, st.DeleteEvents, &r.Events},
	}
	for _, s := range steps {
		if s.age < 0 {
			continue
		}
		before := now.Add(-s.age)
		for {
			if err := ctx.Err(); err != nil {
				return r, fmt.Errorf("retention: %s: %w", s.what, err)
			}
			n, err := s.do(ctx, before, Batch)
			*s.n += n
			if err != nil {
				return r, fmt.Errorf("retention: %s: %w", s.what, err)
			}
			if n < Batch {
				break
			}
		}
	}
	return r, nil
}

// Options configure Run. Zero values take the defaults.
type Options struct {
	Policy Policy
	Every  time.Duration    // between passes (DefaultEvery); the first pass runs at once
	Clock  func() time.Time // time.Now
	Log    *slog.Logger     // slog.Default()
}

// Run applies o.Policy now and every o.Every until ctx ends. On a store.Exclusive store a pass is skipped
// while another replica runs one. Errors are logged and the next pass tries again.
func Run(ctx context.Context, st store.RetentionStore, o Options) {
	if o.Every <= 0 {
		o.Every = DefaultEvery
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	log := o.Log.With("component", "retention")
	t := time.NewTicker(o.Every)
	defer t.Stop()
	for {
		pass(ctx, st, o, log)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pass runs Once, under the replicas' lock when the store has one.
func pass(ctx context.Context, st store.RetentionStore, o Options, log *slog.Logger) {
	var r Result
	once := func(ctx context.Context) (err error) {
		r, err = Once(ctx, st, o.Policy, o.Clock())
		return err
	}
	ran, err := true, error(nil)
	if ex, ok := st.(store.Exclusive); ok {
		ran, err = ex.RunExclusive(ctx, TaskName, once)
	} else {
		err = once(ctx)
	}
	switch {
	case err != nil && !errors.Is(err, context.Canceled):
		log.Warn("retention pass failed", "err", err, "job_contents", r.JobContents, "jobs", r.Jobs, "audit", r.Audit,
			"deliveries", r.Deliveries, "events", r.Events)
	case !ran:
		log.Debug("retention pass skipped: another replica runs it")
	case r != Result{}:
		log.Info("retention pass", "job_contents", r.JobContents, "jobs", r.Jobs, "audit", r.Audit,
			"deliveries", r.Deliveries, "events", r.Events)
	}
}
