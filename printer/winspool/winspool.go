// Package winspool prints through the Windows print spooler in RAW mode (OpenPrinter, StartDocPrinter
// with datatype "RAW", WritePrinter, EndDocPrinter), so ZPL reaches a printer installed in Windows
// byte for byte. The spooler calls are in winspool_windows.go; other systems get a stub reporting
// ErrNotSupported. A spooler printer's ID is winspool://<printer name, path-escaped>.
package winspool

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"printdock/printer"
)

// ErrNotSupported is returned by Scan and Open on systems other than Windows.
var ErrNotSupported = errors.New("windows spooler printing is only available on Windows")

// ErrBadURI is returned for a URI that is not winspool://name.
var ErrBadURI = errors.New("winspool: bad printer URI")

const scheme = "winspool://"

// URI returns the ID of the spooler printer called name.
func URI(name string) string { return scheme + url.PathEscape(name) }

// ParseURI returns the printer name in a winspool://name URI.
func ParseURI(uri string) (string, error) {
	if len(uri) < len(scheme) || !strings.EqualFold(uri[:len(scheme)], scheme) {
		return "", fmt.Errorf("%w: %q: want winspool://name", ErrBadURI, uri)
	}
	name, err := url.PathUnescape(uri[len(scheme):])
	if err != nil || name == "" || strings.ContainsRune(name, 0) {
		return "", fmt.Errorf("%w: %q: bad printer name", ErrBadURI, uri)
	}
	return name, nil
}

// Spooler printer status bits (PRINTER_INFO_2.Status) and the work-offline attribute.
const (
	statusPaused           = 0x00000001
	statusError            = 0x00000002
	statusPaperJam         = 0x00000008
	statusPaperOut         = 0x00000010
	statusPaperProblem     = 0x00000040
	statusOffline          = 0x00000080
	statusIOActive         = 0x00000100
	statusBusy             = 0x00000200
	statusPrinting         = 0x00000400
	statusOutputBinFull    = 0x00000800
	statusNotAvailable     = 0x00001000
	statusProcessing       = 0x00004000
	statusNoToner          = 0x00040000
	statusUserIntervention = 0x00100000
	statusOutOfMemory      = 0x00200000
	statusDoorOpen         = 0x00400000
	statusServerUnknown    = 0x00800000

	attributeWorkOffline = 0x00000400
)

// stateFromSpooler maps what the spooler reports about a printer to a state and reason. The spooler
// only knows what the port monitor tells it, so for many USB printers this stays "ready".
func stateFromSpooler(status, attributes, jobs uint32) (printer.State, string) {
	switch {
	case status&statusDoorOpen != 0:
		return printer.StateHeadOpen, "printer door or head open (spooler)"
	case status&statusPaperOut != 0:
		return printer.StateMediaOut, "out of paper (spooler)"
	case status&(statusOffline|statusNotAvailable|statusServerUnknown) != 0 || attributes&attributeWorkOffline != 0:
		return printer.StateOffline, "printer offline (spooler)"
	case status&statusPaused != 0:
		return printer.StatePaused, "printer paused in Windows"
	case status&(statusError|statusPaperJam|statusPaperProblem|statusOutputBinFull|statusNoToner|
		statusUserIntervention|statusOutOfMemory) != 0:
		return printer.StateError, "printer needs attention (spooler)"
	case status&(statusPrinting|statusBusy|statusProcessing|statusIOActive) != 0 || jobs > 0:
		return printer.StateBusy, fmt.Sprintf("printing: %d jobs in the Windows queue", jobs)
	}
	return printer.StateReady, ""
}

// languageOf guesses the printer language from its driver name: Zebra's drivers are "ZDesigner …".
func languageOf(driver string) printer.Language {
	d := strings.ToLower(driver)
	if strings.Contains(d, "zdesigner") || strings.Contains(d, "zebra") || strings.Contains(d, "zpl") {
		return printer.LangZPL
	}
	return printer.LangUnknown
}
