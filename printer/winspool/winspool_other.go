//go:build !windows

package winspool

import (
	"context"

	"printdock/printer"
)

// Supported reports whether this system has the Windows spooler.
func Supported() bool { return false }

// Scan returns ErrNotSupported.
func Scan(ctx context.Context) ([]printer.Info, error) { return nil, ErrNotSupported }

// Open returns ErrNotSupported (after checking the URI).
func Open(ctx context.Context, uri string) (printer.Printer, error) {
	if _, err := ParseURI(uri); err != nil {
		return nil, err
	}
	return nil, ErrNotSupported
}
