package gui

import (
	"printdock/internal/testenv"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// loopApp is Fyne's headless test app with one change: fyne.Do queues its function for the test
// goroutine instead of running it on the caller's goroutine. The test goroutine plays the Fyne main
// goroutine (pump/waitFor run the queue), so widgets are only ever touched from one goroutine — which
// is what the race detector checks — and a UI update that bypasses fyne.Do shows up as a race.
type loopApp struct {
	fyne.App
	drv *loopDriver

	mu    sync.Mutex
	notes []*fyne.Notification
}

type loopDriver struct {
	fyne.Driver
	mu   sync.Mutex
	q    []func()
	wake chan struct{}
}

func newLoopApp(t *testing.T) *loopApp {
	t.Helper()
	inner := test.NewApp()
	a := &loopApp{App: inner, drv: &loopDriver{Driver: inner.Driver(), wake: make(chan struct{}, 1)}}
	fyne.SetCurrentApp(a)
	t.Cleanup(func() {
		fyne.SetCurrentApp(inner)
		inner.Quit()
	})
	return a
}

func (a *loopApp) Driver() fyne.Driver { return a.drv }

func (a *loopApp) SendNotification(n *fyne.Notification) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.notes = append(a.notes, n)
}

func (a *loopApp) notifications() []*fyne.Notification {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]*fyne.Notification(nil), a.notes...)
}

func (d *loopDriver) DoFromGoroutine(f func(), wait bool) {
	var done chan struct{}
	if wait {
		done = make(chan struct{})
		g := f
		f = func() { g(); close(done) }
	}
	d.mu.Lock()
	d.q = append(d.q, f)
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
	if wait {
		<-done
	}
}

// pump runs every queued fyne.Do function on the calling (test) goroutine.
func (a *loopApp) pump() {
	for {
		a.drv.mu.Lock()
		q := a.drv.q
		a.drv.q = nil
		a.drv.mu.Unlock()
		if len(q) == 0 {
			return
		}
		for _, f := range q {
			f()
		}
	}
}

// waitFor pumps the queue until cond holds, failing the test after testenv.WaitTimeout.
func (a *loopApp) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.WaitFor(t, what, func() bool {
		a.pump()
		return cond()
	})
}

// settle pumps until the backend has no request in flight and the queue is empty.
func (a *loopApp) settle(t *testing.T, f *fakeBackend) {
	t.Helper()
	a.waitFor(t, "the backend to be idle", func() bool { return f.inFlight() == 0 })
	a.pump()
}

// startUI builds a UI on a loopApp against b and starts it; Stop runs at cleanup.
func startUI(t *testing.T, b Backend, opts Options) (*UI, *loopApp) {
	t.Helper()
	a := newLoopApp(t)
	if opts.Now == nil {
		opts.Now = func() time.Time { return time.Date(2026, 3, 4, 14, 5, 0, 0, time.Local) }
	}
	u := New(a, b, opts)
	u.Window().Resize(fyne.NewSize(760, 540))
	u.Start()
	t.Cleanup(func() {
		stopped := make(chan struct{})
		go func() { u.Stop(); close(stopped) }()
		for {
			select {
			case <-stopped:
				a.pump()
				return
			case <-a.drv.wake:
				a.pump()
			}
		}
	})
	return u, a
}

// hasButton reports whether root shows a button labelled text.
func hasButton(root fyne.CanvasObject, text string) bool {
	for _, o := range test.LaidOutObjects(root) {
		if b, ok := o.(*widget.Button); ok && b.Text == text {
			return true
		}
	}
	return false
}

// labels joins the texts of root's labels.
func labels(root fyne.CanvasObject) string {
	var out []string
	for _, o := range test.LaidOutObjects(root) {
		if l, ok := o.(*widget.Label); ok {
			out = append(out, l.Text)
		}
	}
	return strings.Join(out, "|")
}
