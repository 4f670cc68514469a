package cups

import (
	"fmt"
	"strings"

	"printdock/printer"
)

// printer-state values (RFC 8011 §5.4.11).
const (
	stateIdle       = 3
	stateProcessing = 4
	stateStopped    = 5
)

// queueState is what Get-Printer-Attributes tells about a queue.
type queueState struct {
	state     int      // printer-state
	reasons   []string // printer-state-reasons, e.g. "media-empty-error"
	accepting bool     // printer-is-accepting-jobs
	jobs      int      // queued-job-count
	message   string   // printer-state-message
}

// reasonStates maps printer-state-reasons keywords (without their -error/-warning/-report suffix) to
// states, most urgent first.
var reasonStates = []struct {
	keyword string
	state   printer.State
	reason  string
}{
	{"media-empty", printer.StateMediaOut, "out of paper (CUPS)"},
	{"media-needed", printer.StateMediaOut, "out of paper (CUPS)"},
	{"cover-open", printer.StateHeadOpen, "printer cover or head open (CUPS)"},
	{"door-open", printer.StateHeadOpen, "printer cover or head open (CUPS)"},
	{"marker-supply-empty", printer.StateRibbonOut, "ribbon out (CUPS)"},
	{"media-jam", printer.StateError, "paper jam (CUPS)"},
	{"offline", printer.StateOffline, "printer offline (CUPS)"},
	{"shutdown", printer.StateOffline, "printer offline (CUPS)"},
	{"paused", printer.StatePaused, "queue paused in CUPS (cupsenable to resume)"},
}

// stateOf maps a queue's IPP state to a printer state and a plain-language reason.
func stateOf(q queueState) (printer.State, string) {
	for _, rs := range reasonStates {
		for _, r := range q.reasons {
			if keyword(r) == rs.keyword {
				return rs.state, rs.reason
			}
		}
	}
	switch {
	case q.state == stateStopped:
		reason := "queue stopped in CUPS"
		if q.message != "" {
			reason += ": " + q.message
		}
		return printer.StateError, reason
	case !q.accepting:
		return printer.StatePaused, "queue not accepting jobs in CUPS (cupsaccept to resume)"
	case q.state == stateProcessing || q.jobs > 0:
		return printer.StateBusy, fmt.Sprintf("printing: %d jobs in the CUPS queue", q.jobs)
	}
	return printer.StateReady, ""
}

// keyword strips the severity suffix of a printer-state-reasons value.
func keyword(r string) string {
	for _, s := range []string{"-error", "-warning", "-report"} {
		if k, ok := strings.CutSuffix(r, s); ok {
			return k
		}
	}
	return r
}
