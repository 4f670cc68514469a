//go:build linux && cgo && !nousb

package usb

import (
	"errors"
	"testing"

	"printdock/internal/testenv"
	"printdock/printer"
)

// This machine has no USB bus: enumeration must work and find nothing. (The QEMU suite proves the
// libusb layer against an emulated printer.)
func TestScanNoBus(t *testing.T) {
	if !Supported() {
		t.Fatal("linux+cgo build reports no USB support")
	}
	c, err := newContext()
	testenv.RequireReal(t, "libusb", err)
	c.Close()
	infos, err := Scan(t.Context())
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	for _, info := range infos {
		t.Logf("found %+v", info) // a machine with printers attached lists them
	}
	// Scanning again uses a fresh context and must not fail either.
	if _, err := Scan(t.Context()); err != nil {
		t.Fatalf("second Scan: %v", err)
	}
}

func TestOpenMissing(t *testing.T) {
	c, err := newContext()
	testenv.RequireReal(t, "libusb", err)
	c.Close()
	_, err = Open(t.Context(), "usb://ffff:fffe/NOPE", Options{})
	if !errors.Is(err, printer.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if _, err := Open(t.Context(), "usb://nope", Options{}); !errors.Is(err, ErrBadID) {
		t.Fatalf("bad id: %v", err)
	}
}
