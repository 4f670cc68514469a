package agent

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"printdock/printer"
)

func TestProblemOf(t *testing.T) {
	cases := []struct {
		st   printer.Status
		err  error
		want string
	}{
		{printer.Status{State: printer.StateReady}, nil, ""},
		{printer.Status{State: printer.StateBusy}, nil, ""},
		{printer.Status{State: printer.StateUnknown}, nil, ""}, // cannot tell: print
		{printer.Status{State: printer.StateMediaOut}, nil, "printer out of media"},
		{printer.Status{State: printer.StateMediaOut}, printer.ErrNoStatus, "printer out of media"}, // USB port status
		{printer.Status{State: printer.StateHeadOpen}, nil, "printer head open"},
		{printer.Status{State: printer.StatePaused}, nil, "printer paused"},
		{printer.Status{State: printer.StateRibbonOut}, nil, "printer ribbon out"},
		{printer.Status{State: printer.StateError, Reason: "print head too hot"}, nil, "printer fault: print head too hot"},
		{printer.Status{State: printer.StateOffline}, printer.ErrDisconnected, ReasonDisconnected},
		{printer.Status{State: printer.StateUnknown}, fmt.Errorf("x: %w", printer.ErrNoStatus), ReasonNotAnswering},
		{printer.Status{}, fmt.Errorf("open: %w", printer.ErrNotFound), ReasonDisconnected},
		{printer.Status{}, context.DeadlineExceeded, ReasonNotAnswering},
		{printer.Status{}, errors.New("boom"), "printer error: boom"},
	}
	for _, c := range cases {
		if got := problemOf(c.st, c.err); got != c.want {
			t.Errorf("problemOf(%s, %v) = %q, want %q", c.st.State, c.err, got, c.want)
		}
	}
}

func TestWriteOutcome(t *testing.T) {
	two := []byte("^XA^FDone^FS^XZ^XA^FDtwo^FS^XZ")
	we := func(n int) error {
		return fmt.Errorf("w: %w", &printer.WriteError{Written: n, Total: len(two), Err: printer.ErrDisconnected})
	}
	cases := []struct {
		name      string
		data      []byte
		err       error
		ambiguous bool
	}{
		{"nothing written", two, we(0), false},
		{"no WriteError (open failed)", two, fmt.Errorf("open: %w", printer.ErrNotFound), false},
		{"first format cut", two, we(10), false},
		{"first format complete", two, we(16), true},
		{"all of it", two, we(len(two)), true},
		{"lower-case zpl", []byte("^xa^fdx^fs^xz"), we(13), true},
		{"not zpl: any byte", []byte("N\nA50,0,0,1,1,1,N,\"x\"\nP1\n"), we(1), true},
	}
	for _, c := range cases {
		reason, amb := writeOutcome(c.err, c.data)
		if amb != c.ambiguous || reason != ReasonDisconnected {
			t.Errorf("%s: reason %q ambiguous %v, want %v", c.name, reason, amb, c.ambiguous)
		}
	}
}
