package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"printdock/agent/spool"
	"printdock/printer"
)

// Printer-problem policies (Config.PrinterProblem): what a job does when its printer cannot print.
const (
	PolicyWait = "wait" // keep the job, report failed with retry=true once, print when the printer is back
	PolicyFail = "fail" // report the job failed (not retried)
)

// Interrupted-job policies (Config.Interrupted): what to do with a job whose bytes may have reached the
// printer although the agent never learnt that the write completed (the agent died during the write, or
// the printer dropped after a complete label went out). See docs/spool.md.
const (
	InterruptedFail    = "fail"    // report failed "interrupted: may have printed; check the printer"
	InterruptedReprint = "reprint" // write it again (may print a label twice)
)

// Reasons the agent reports.
const (
	ReasonInterrupted  = "interrupted: may have printed; check the printer"
	ReasonDisconnected = "printer disconnected"
	// ReasonDisconnectedMidJob: the printer dropped after a complete label of the job went out.
	ReasonDisconnectedMidJob = "printer disconnected mid-job: may have printed; check the printer"
	ReasonExpired            = "the job expired before it could be printed"
	ReasonNotAnswering       = "printer not answering: out of media or head open?"
	reasonUnknownPrinter     = "unknown printer "
	reasonSpoolUnavailable   = "the agent could not store the job: "
)

// action is what the executor does next with a job.
type action int

const (
	actCheck   action = iota // ask the printer for its status, then decide again
	actPrint                 // write the remaining copies
	actWait                  // keep the job and look at the printer again later (Reason says why)
	actFail                  // finish the job failed (Reason)
	actReprint               // an interrupted job is written again (policy reprint)
)

func (a action) String() string {
	return [...]string{"check", "print", "wait", "fail", "reprint"}[a]
}

// decision is decide's answer.
type decision struct {
	Act    action
	Reason string
}

// policies are the job policies in force (Config.PrinterProblem, Config.Interrupted, defaults applied).
type policies struct {
	Problem     string // PolicyWait or PolicyFail
	Interrupted string // InterruptedFail or InterruptedReprint
}

// printerView is what the executor knows about a job's printer when it decides.
type printerView struct {
	Present bool // in the agent's printer list now
	Known   bool // the agent has had it (it was accepted for it before)
	Checked bool // Problem holds the answer of a status request made for this decision
	Problem string
	// WriteFailed: the last write of this job failed; MayHavePrinted: a complete label may have gone out
	// before it failed (writeOutcome). Problem then says why it failed.
	WriteFailed    bool
	MayHavePrinted bool

	// The printer's status capability (caps): its status mode ("" = auto), whether it ever answered
	// ~HS, and whether it has a status channel besides ~HS (USB port status). Silent: the status
	// request got no answer (Problem is ReasonNotAnswering).
	// LastSilent: the poller's last status request got no answer either.
	Mode       printer.StatusMode
	Answered   bool
	PortStatus bool
	Silent     bool
	LastSilent bool
}

func (pv *printerView) setCaps(c caps) {
	pv.Mode, pv.Answered, pv.PortStatus, pv.LastSilent = c.Mode, c.Answered, c.PortStatus, c.LastSilent
}

// decide is the spooler's policy: what to do next with open job j, given its printer and the
// policies. It is a pure function; the executor does the I/O it asks for.
func decide(j spool.Job, pv printerView, pol policies, now time.Time) decision {
	if pv.WriteFailed {
		if pv.MayHavePrinted && pol.Interrupted != InterruptedReprint {
			return decision{actFail, ReasonDisconnectedMidJob}
		}
		return problem(pv.Problem, pol)
	}
	if j.InFlight {
		// Found after a restart: the agent does not know whether the write completed.
		if pol.Interrupted == InterruptedReprint {
			return decision{Act: actReprint}
		}
		if j.Copies > 1 {
			return decision{actFail, fmt.Sprintf("interrupted after %d of %d copies: may have printed; check the printer", j.CopiesDone, j.Copies)}
		}
		return decision{actFail, ReasonInterrupted}
	}
	if j.CopiesDone == 0 && j.Expired(now) {
		return decision{actFail, ReasonExpired}
	}
	if !pv.Present {
		if !pv.Known {
			return decision{actFail, reasonUnknownPrinter + j.PrinterID + " (this agent does not have it)"}
		}
		return problem(ReasonDisconnected, pol)
	}
	if !pv.Checked {
		switch {
		case pv.Mode == printer.StatusNone && !pv.PortStatus:
			return decision{Act: actPrint} // status mode none: print without asking
		case pv.LastSilent && !pv.Answered && !pv.PortStatus && pv.Mode != printer.StatusNone && pv.Mode != printer.StatusZPL:
			// auto: the poller found it silent and it never answered: no need to wait for another
			// status timeout before every job.
			return decision{Act: actPrint}
		}
		return decision{Act: actCheck}
	}
	if pv.Silent {
		switch {
		case pv.Mode == printer.StatusNone:
			return decision{Act: actPrint} // only the port status counts
		case pv.Mode != printer.StatusZPL && !pv.Answered:
			return decision{Act: actPrint} // auto: a printer that never answered has no ~HS to ask
		}
	}
	return problem(pv.Problem, pol)
}

// problem applies the printer-problem policy to reason ("" = the printer can print).
func problem(reason string, pol policies) decision {
	switch {
	case reason == "":
		return decision{Act: actPrint}
	case pol.Problem == PolicyFail:
		return decision{actFail, reason}
	}
	return decision{actWait, reason}
}

// problemOf maps a printer status (and the error of the status request) to the reason a job cannot be
// printed now, or "" when it can.
func problemOf(st printer.Status, err error) string {
	switch st.State {
	case printer.StateMediaOut, printer.StateHeadOpen, printer.StatePaused, printer.StateRibbonOut:
		return st.Err().Error()
	case printer.StateError:
		if st.Reason != "" {
			return "printer fault: " + st.Reason
		}
		return printer.ErrFault.Error()
	case printer.StateOffline:
		return ReasonDisconnected
	}
	switch {
	case err == nil:
		return "" // ready, busy, or a printer that cannot tell (unknown without error)
	case errors.Is(err, printer.ErrDisconnected), errors.Is(err, printer.ErrNotFound):
		return ReasonDisconnected
	case errors.Is(err, printer.ErrNoStatus):
		return ReasonNotAnswering
	case errors.Is(err, context.DeadlineExceeded):
		return ReasonNotAnswering
	}
	return "printer error: " + plainPrinterError(err)
}

// writeOutcome classifies a failed write.
func writeOutcome(err error, data []byte) (reason string, mayHavePrinted bool) {
	reason = problemOf(printer.Status{}, err)
	if errors.Is(err, printer.ErrDisconnected) || errors.Is(err, printer.ErrNotFound) {
		reason = ReasonDisconnected
	}
	n, ok := printer.Written(err)
	if !ok || n <= 0 {
		return reason, false
	}
	return reason, mayHaveCompleteLabel(data, n)
}

// mayHaveCompleteLabel reports whether the first n bytes of data may hold a complete label: for ZPL, a
// format terminator (^XZ) among them; for anything else, any byte.
func mayHaveCompleteLabel(data []byte, n int) bool {
	n = min(n, len(data))
	if !bytes.Contains(bytes.ToUpper(data), []byte("^XA")) {
		return n > 0
	}
	return bytes.Contains(bytes.ToUpper(data[:n]), []byte("^XZ"))
}
