package winspool

import (
	"errors"
	"testing"

	"printdock/printer"
)

func TestURI(t *testing.T) {
	for _, name := range []string{"ZDesigner ZD420-203dpi ZPL", `\\server\Zebra (copy 1)`, "a/b%c"} {
		got, err := ParseURI(URI(name))
		if err != nil || got != name {
			t.Errorf("%q -> %q -> %q, %v", name, URI(name), got, err)
		}
	}
	for _, bad := range []string{"", "winspool://", "tcp://x", "winspool://%zz", "winspool"} {
		if _, err := ParseURI(bad); !errors.Is(err, ErrBadURI) {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
	if got, err := ParseURI("WINSPOOL://Zebra"); err != nil || got != "Zebra" {
		t.Errorf("upper-case scheme: %q, %v", got, err)
	}
}

func TestStateFromSpooler(t *testing.T) {
	tests := []struct {
		name               string
		status, attr, jobs uint32
		want               printer.State
	}{
		{"idle", 0, 0, 0, printer.StateReady},
		{"jobs queued", 0, 0, 2, printer.StateBusy},
		{"printing", statusPrinting, 0, 0, printer.StateBusy},
		{"paused", statusPaused, 0, 1, printer.StatePaused},
		{"paper out beats paused", statusPaperOut | statusPaused, 0, 0, printer.StateMediaOut},
		{"door open", statusDoorOpen | statusError, 0, 0, printer.StateHeadOpen},
		{"offline", statusOffline, 0, 0, printer.StateOffline},
		{"work offline attribute", 0, attributeWorkOffline, 0, printer.StateOffline},
		{"jam", statusPaperJam, 0, 0, printer.StateError},
		{"error", statusError, 0, 0, printer.StateError},
	}
	for _, tt := range tests {
		st, reason := stateFromSpooler(tt.status, tt.attr, tt.jobs)
		if st != tt.want || (st != printer.StateReady && reason == "") {
			t.Errorf("%s: %s %q, want %s", tt.name, st, reason, tt.want)
		}
	}
}

func TestLanguageOf(t *testing.T) {
	if languageOf("ZDesigner ZD420-203dpi ZPL") != printer.LangZPL || languageOf("Microsoft Print to PDF") != printer.LangUnknown {
		t.Error("languageOf wrong")
	}
}
