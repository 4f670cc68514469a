package main

import (
	"testing"
	"time"
)

// The replicas mode reads the light agents' output lines: a job's title, or `logout INDEX`, then the
// arrival in Unix nanoseconds.
func TestArrivals(t *testing.T) {
	a := newArrivals()
	wait := a.expect("logout 7")
	a.emit("T3-1 1000000000\n")
	a.emit("T3-2 2000000000\n")
	a.emit("T3-1 3000000000\n") // a redelivery keeps the first arrival
	a.emit("logout 7 4000000000\n")
	a.emit("garbage\n")
	if at, err := wait(time.Second); err != nil || !at.Equal(time.Unix(4, 0)) {
		t.Fatalf("logout 7 at %v, %v", at, err)
	}
	if n, last := a.count("T3-"); n != 2 || !last.Equal(time.Unix(2, 0)) {
		t.Fatalf("count = %d, last %v; want 2, 2 s", n, last)
	}
	if _, err := a.expect("never")(10 * time.Millisecond); err == nil {
		t.Fatal("waited for something that never came")
	}
}
