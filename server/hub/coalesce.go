package hub

import (
	"sync"
	"time"
)

// stopper is the part of *time.Timer a coalescer uses.
type stopper interface{ Stop() bool }

// coalescer hands the newest of a stream of values to fn at most once per interval: a value offered at
// least the interval after the last call starts a call at once; one offered sooner waits until the
// interval has passed, and the call then takes the newest value offered by that time (the ones in
// between are superseded, never delivered). Calls never overlap. After Stop nothing more is delivered.
//
// The session uses it for the agent's printers messages: each is the agent's full list, so only the
// newest matters, and each delivery is a store transaction.
type coalescer[T any] struct {
	every time.Duration
	fn    func(T)
	now   func() time.Time                        // time.Now; tests inject a clock
	after func(d time.Duration, f func()) stopper // time.AfterFunc; tests inject timers

	// mu guards the fields below and is held while fn runs, so calls never overlap and Stop returns
	// only after a running call. It is a leaf lock: fn must not take it again.
	mu      sync.Mutex
	pending T       // the newest value not yet delivered
	has     bool    // pending is set
	timer   stopper // a scheduled delivery, or nil
	last    time.Time
	stopped bool
}

func newCoalescer[T any](every time.Duration, fn func(T)) *coalescer[T] {
	return &coalescer[T]{
		every: every,
		fn:    fn,
		now:   time.Now,
		after: func(d time.Duration, f func()) stopper { return time.AfterFunc(d, f) },
	}
}

// Offer hands v over: delivered at once when the interval since the last call has passed (Offer then
// returns after fn), else at the end of the interval unless a newer value is offered meanwhile.
func (c *coalescer[T]) Offer(v T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return
	}
	c.pending, c.has = v, true
	if c.timer != nil {
		return // a delivery is scheduled; it takes the newest value
	}
	if wait := c.last.Add(c.every).Sub(c.now()); wait > 0 {
		c.timer = c.after(wait, c.fire)
		return
	}
	c.deliverLocked()
}

// fire is the scheduled delivery.
func (c *coalescer[T]) fire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.timer = nil
	if !c.stopped && c.has {
		c.deliverLocked()
	}
}

func (c *coalescer[T]) deliverLocked() {
	v := c.pending
	var zero T
	c.pending, c.has = zero, false
	c.last = c.now()
	c.fn(v)
}

// Stop drops a pending value and refuses later ones; it waits for a running call.
func (c *coalescer[T]) Stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	var zero T
	c.pending, c.has = zero, false
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
}
