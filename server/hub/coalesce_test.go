package hub

import (
	"slices"
	"testing"
	"time"
)

// fakeTimers is a manual clock and timer set for the coalescer.
type fakeTimers struct {
	now     time.Time
	pending []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func (t *fakeTimer) Stop() bool {
	was := !t.stopped
	t.stopped = true
	return was
}

func (ft *fakeTimers) after(d time.Duration, f func()) stopper {
	t := &fakeTimer{at: ft.now.Add(d), f: f}
	ft.pending = append(ft.pending, t)
	return t
}

// advance moves the clock and fires the timers due by then (a stopped one still runs its function when
// it was already due, as a time.AfterFunc racing with Stop may).
func (ft *fakeTimers) advance(d time.Duration, fireStopped bool) {
	ft.now = ft.now.Add(d)
	due := ft.pending[:0:0]
	rest := ft.pending[:0:0]
	for _, t := range ft.pending {
		if !t.at.After(ft.now) {
			due = append(due, t)
		} else {
			rest = append(rest, t)
		}
	}
	ft.pending = rest
	for _, t := range due {
		if !t.stopped || fireStopped {
			t.f()
		}
	}
}

// TestCoalescer drives a coalescer with a manual clock through sequences of offers, clock steps and a
// stop, and checks which values were delivered after each step.
func TestCoalescer(t *testing.T) {
	const every = time.Second
	type step struct {
		offer   int           // a value to offer (0: none)
		advance time.Duration // then move the clock by this much
		stop    bool          // then stop
		want    []int         // everything delivered so far
	}
	for _, tc := range []struct {
		name        string
		fireStopped bool
		steps       []step
	}{
		{name: "first value at once", steps: []step{
			{offer: 1, want: []int{1}},
		}},
		{name: "values within the interval coalesce to the newest", steps: []step{
			{offer: 1, want: []int{1}},
			{offer: 2, advance: 100 * time.Millisecond, want: []int{1}},
			{offer: 3, want: []int{1}},
			{offer: 4, advance: 899 * time.Millisecond, want: []int{1}},
			{advance: time.Millisecond, want: []int{1, 4}},
			{advance: 10 * time.Second, want: []int{1, 4}},
		}},
		{name: "after a quiet interval a value goes at once", steps: []step{
			{offer: 1, advance: 2 * time.Second, want: []int{1}},
			{offer: 2, want: []int{1, 2}},
			{offer: 3, advance: every, want: []int{1, 2, 3}},
		}},
		{name: "the interval counts from the last delivery", steps: []step{
			{offer: 1, advance: 500 * time.Millisecond, want: []int{1}},
			{offer: 2, advance: 500 * time.Millisecond, want: []int{1, 2}},
			{offer: 3, advance: 999 * time.Millisecond, want: []int{1, 2}},
			{advance: time.Millisecond, want: []int{1, 2, 3}},
		}},
		{name: "stop drops the pending value and later ones", steps: []step{
			{offer: 1, want: []int{1}},
			{offer: 2, stop: true, want: []int{1}},
			{advance: every, want: []int{1}},
			{offer: 3, advance: every, want: []int{1}},
		}},
		{name: "a timer that fires despite stop delivers nothing", fireStopped: true, steps: []step{
			{offer: 1, want: []int{1}},
			{offer: 2, stop: true, advance: every, want: []int{1}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ft := &fakeTimers{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			var got []int
			c := newCoalescer(every, func(v int) { got = append(got, v) })
			c.now = func() time.Time { return ft.now }
			c.after = ft.after
			for i, s := range tc.steps {
				if s.offer != 0 {
					c.Offer(s.offer)
				}
				if s.stop {
					c.Stop()
				}
				ft.advance(s.advance, tc.fireStopped)
				if !slices.Equal(got, s.want) {
					t.Fatalf("after step %d: delivered %v, want %v", i, got, s.want)
				}
			}
		})
	}
}
