package printer

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestWriteError(t *testing.T) {
	err := fmt.Errorf("netraw: write x: %w", &WriteError{Written: 10, Total: 20, Err: ErrDisconnected})
	if !errors.Is(err, ErrDisconnected) {
		t.Error("does not unwrap to ErrDisconnected")
	}
	if n, ok := Written(err); !ok || n != 10 {
		t.Errorf("Written = %d, %v", n, ok)
	}
	if _, ok := Written(context.Canceled); ok {
		t.Error("Written found a WriteError in a plain error")
	}
	if got := err.Error(); got != "netraw: write x: wrote 10 of 20 bytes: printer disconnected" {
		t.Errorf("Error() = %q", got)
	}
}

func TestStatusErr(t *testing.T) {
	tests := []struct {
		state State
		want  error
	}{
		{StateReady, nil}, {StateBusy, nil}, {StateUnknown, nil},
		{StateMediaOut, ErrMediaOut}, {StateHeadOpen, ErrHeadOpen}, {StatePaused, ErrPaused},
		{StateRibbonOut, ErrRibbonOut}, {StateOffline, ErrDisconnected}, {StateError, ErrFault},
	}
	for _, tt := range tests {
		if got := (Status{State: tt.state}).Err(); got != tt.want {
			t.Errorf("%s: Err() = %v, want %v", tt.state, got, tt.want)
		}
	}
}
