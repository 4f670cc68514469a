//go:build !windows

package winspool

import (
	"errors"
	"testing"
)

func TestNotSupported(t *testing.T) {
	if Supported() {
		t.Fatal("Supported on non-Windows")
	}
	if _, err := Scan(t.Context()); !errors.Is(err, ErrNotSupported) {
		t.Fatal(err)
	}
	if _, err := Open(t.Context(), URI("Zebra")); !errors.Is(err, ErrNotSupported) {
		t.Fatal(err)
	}
}
