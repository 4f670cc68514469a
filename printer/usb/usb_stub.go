//go:build !linux || !cgo || nousb

package usb

import (
	"context"

	"printdock/printer"
)

// Supported reports whether this build can talk to USB printers.
func Supported() bool { return false }

// Scan returns ErrNotBuiltIn: this build has no USB support.
func Scan(ctx context.Context) ([]printer.Info, error) { return nil, ErrNotBuiltIn }

// Open returns ErrNotBuiltIn: this build has no USB support.
func Open(ctx context.Context, id string, opts Options) (printer.Printer, error) {
	if _, err := ParseID(id); err != nil {
		return nil, err
	}
	return nil, ErrNotBuiltIn
}
