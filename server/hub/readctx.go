package hub

import (
	"context"
	"sync"
	"time"
)

// readContext is the context of a session's reads (Session.readCtx); stop cancels it. It exists because an
// idle session is parked in a read for its whole life, and a context.WithCancel context there would keep a
// cancelCtx, its Done channel and a children map per session (small objects among the many short-lived
// ones a connection makes, which pin partly empty heap spans; docs/benchmarks.md, idle agents).
//
// coder/websocket takes the end of a read's context through context.AfterFunc, which calls the parent's
// AfterFunc method when it has one (the afterFuncer interface of package context): readContext keeps those
// functions in its own struct and stop calls them, and the connection closes, which ends the read and any
// wait on the connection. Its Done channel is therefore one shared channel that never closes: readContext
// is for the session's reads only, never for code that waits on Done.
type readContext struct {
	mu      sync.Mutex
	fs      []func() // the functions registered by AfterFunc (nil: unregistered)
	stopped bool
}

// neverDone is every readContext's Done channel (see readContext).
var neverDone = make(chan struct{})

func (c *readContext) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *readContext) Done() <-chan struct{}       { return neverDone }
func (c *readContext) Value(any) any               { return nil }

func (c *readContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return context.Canceled
	}
	return nil
}

// AfterFunc registers f to be called by stop (at once, on a goroutine, when stop was called already); the function it
// returns unregisters f and reports whether it did.
func (c *readContext) AfterFunc(f func()) func() bool {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		go f() // context's caller holds the child's lock: f takes it
		return func() bool { return false }
	}
	i := 0
	for i < len(c.fs) && c.fs[i] != nil {
		i++
	}
	if i == len(c.fs) {
		c.fs = append(c.fs, f)
	} else {
		c.fs[i] = f
	}
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.stopped || c.fs[i] == nil {
			return false
		}
		c.fs[i] = nil
		return true
	}
}

// stop cancels the context: every registered function is called.
func (c *readContext) stop() {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return
	}
	c.stopped = true
	fs := c.fs
	c.fs = nil
	c.mu.Unlock()
	for _, f := range fs {
		if f != nil {
			f()
		}
	}
}

var _ context.Context = (*readContext)(nil)
