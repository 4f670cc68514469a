//go:build !linux || !cgo || nousb

package usb

import (
	"errors"
	"testing"
)

func TestStub(t *testing.T) {
	if Supported() {
		t.Fatal("stub reports support")
	}
	if _, err := Scan(t.Context()); !errors.Is(err, ErrNotBuiltIn) {
		t.Fatalf("Scan: %v", err)
	}
	if _, err := Open(t.Context(), "usb://0a5f:0181/X", Options{}); !errors.Is(err, ErrNotBuiltIn) {
		t.Fatalf("Open: %v", err)
	}
}
