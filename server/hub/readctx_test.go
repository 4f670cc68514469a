package hub

import (
	"context"
	"errors"
	"runtime"
	"testing"

	"printdock/internal/testenv"
)

func TestReadContext(t *testing.T) {
	var c readContext
	if c.Err() != nil || c.Done() == nil {
		t.Fatalf("a new readContext: Err %v, Done %v", c.Err(), c.Done())
	}
	g := runtime.NumGoroutine()
	// Registrations as coder/websocket makes them: a new one, then the previous one unregistered.
	called := make(chan int, 4)
	stop1 := context.AfterFunc(&c, func() { called <- 1 })
	stop2 := context.AfterFunc(&c, func() { called <- 2 })
	if !stop1() {
		t.Fatal("unregistering the first function: false")
	}
	stop3 := context.AfterFunc(&c, func() { called <- 3 }) // takes the first one's slot
	child, cancel := context.WithCancel(&c)
	defer cancel()
	if n := runtime.NumGoroutine(); n > g {
		t.Fatalf("%d goroutines after registering, %d before: context fell back to a goroutine per registration", n, g)
	}
	if len(c.fs) != 3 {
		t.Fatalf("%d slots, want 3", len(c.fs))
	}
	c.stop()
	got := map[int]bool{}
	for range 2 {
		got[<-called] = true
	}
	if !got[2] || !got[3] {
		t.Fatalf("called %v, want 2 and 3", got)
	}
	testenv.WaitFor(t, "the child context to end", func() bool { return child.Err() != nil })
	if !errors.Is(c.Err(), context.Canceled) || stop2() || stop3() {
		t.Fatalf("after stop: Err %v, stop2 %v, stop3 %v", c.Err(), stop2(), stop3())
	}
	// Registered after the stop: called at once.
	context.AfterFunc(&c, func() { called <- 4 })
	if n := <-called; n != 4 {
		t.Fatalf("called %d, want 4", n)
	}
	c.stop() // a second stop does nothing
}
