package agent

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"printdock/agent/spool"
	"printdock/printer"
)

// The policy columns of the decide matrix, in order.
var decidePolicies = []policies{
	{PolicyWait, InterruptedFail},
	{PolicyWait, InterruptedReprint},
	{PolicyFail, InterruptedFail},
	{PolicyFail, InterruptedReprint},
}

// Actions in the matrix: C check, P print, W wait, F fail, R reprint.
var actionLetter = map[action]byte{actCheck: 'C', actPrint: 'P', actWait: 'W', actFail: 'F', actReprint: 'R'}

func TestDecideMatrix(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	fresh := spool.Job{ID: "j", PrinterID: "sim://a", State: spool.Received, Copies: 1}
	expired := fresh
	expired.ExpiresAt = now.Add(-time.Minute)
	expiredHalf := expired
	expiredHalf.Copies, expiredHalf.CopiesDone, expiredHalf.State = 2, 1, spool.Printing
	inFlight := fresh
	inFlight.InFlight, inFlight.State = true, spool.Printing
	inFlight3 := inFlight
	inFlight3.Copies, inFlight3.CopiesDone = 3, 1
	// A ZPL printer in auto mode that has answered ~HS before (the behaviour before status modes).
	present := printerView{Present: true, Known: true, Answered: true}
	checked := func(st printer.State, reason string, err error) printerView {
		v := present
		v.Checked, v.Problem = true, problemOf(printer.Status{State: st, Reason: reason}, err)
		v.Silent = v.Problem == ReasonNotAnswering
		return v
	}
	// mode returns v in status mode m, with or without an earlier answer and a USB port status.
	mode := func(v printerView, m printer.StatusMode, answered, port bool) printerView {
		v.Mode, v.Answered, v.PortStatus = m, answered, port
		return v
	}
	silent := checked(printer.StateUnknown, "", printer.ErrNoStatus)
	lastSilent := func(v printerView) printerView { v.LastSilent = true; return v }
	mediaOut := checked(printer.StateMediaOut, "", printer.ErrNoStatus) // told by the USB port status
	failedWrite := func(ambiguous bool) printerView {
		return printerView{WriteFailed: true, MayHavePrinted: ambiguous, Problem: ReasonDisconnected}
	}
	const (
		media = "printer out of media"
		mid   = ReasonDisconnectedMidJob
	)
	tests := []struct {
		name    string
		job     spool.Job
		view    printerView
		want    string   // one action letter per decidePolicies column
		reasons []string // per column; one entry means the same for every column
	}{
		{"not checked yet", fresh, present, "CCCC", []string{""}},
		{"ready", fresh, checked(printer.StateReady, "", nil), "PPPP", []string{""}},
		{"busy", fresh, checked(printer.StateBusy, "", nil), "PPPP", []string{""}},
		{"unknown without error", fresh, checked(printer.StateUnknown, "", nil), "PPPP", []string{""}},
		{"media out", fresh, checked(printer.StateMediaOut, "", nil), "WWFF", []string{media}},
		{"head open", fresh, checked(printer.StateHeadOpen, "", nil), "WWFF", []string{"printer head open"}},
		{"paused", fresh, checked(printer.StatePaused, "", nil), "WWFF", []string{"printer paused"}},
		{"ribbon out", fresh, checked(printer.StateRibbonOut, "", nil), "WWFF", []string{"printer ribbon out"}},
		{"fault", fresh, checked(printer.StateError, "head too hot", nil), "WWFF", []string{"printer fault: head too hot"}},
		{"offline", fresh, checked(printer.StateOffline, "", printer.ErrDisconnected), "WWFF", []string{ReasonDisconnected}},
		{"not answering", fresh, checked(printer.StateUnknown, "", printer.ErrNoStatus), "WWFF", []string{ReasonNotAnswering}},
		{"other error", fresh, checked(printer.StateUnknown, "", fmt.Errorf("boom")), "WWFF", []string{"printer error: boom"}},
		{"gone, known", fresh, printerView{Known: true}, "WWFF", []string{ReasonDisconnected}},
		{"never had it", fresh, printerView{}, "FFFF", []string{"unknown printer sim://a (this agent does not have it)"}},
		{"expired", expired, present, "FFFF", []string{ReasonExpired}},
		{"expired after a copy", expiredHalf, checked(printer.StateReady, "", nil), "PPPP", []string{""}},
		{"interrupted", inFlight, present, "FRFR", []string{ReasonInterrupted, "", ReasonInterrupted, ""}},
		{"interrupted copies", inFlight3, present, "FRFR", []string{
			"interrupted after 1 of 3 copies: may have printed; check the printer", "",
			"interrupted after 1 of 3 copies: may have printed; check the printer", ""}},
		{"interrupted and expired", func() spool.Job { j := inFlight; j.ExpiresAt = expired.ExpiresAt; return j }(), present, "FRFR",
			[]string{ReasonInterrupted, "", ReasonInterrupted, ""}},
		// Status modes (docs/agent.md): auto prints to a printer that never answered ~HS, waits for one
		// that answered before; zpl always waits for an answer; none never asks but heeds a port status.
		{"auto, never answered, silent", fresh, mode(silent, printer.StatusAuto, false, false), "PPPP", []string{""}},
		{"auto (unset), never answered, silent", fresh, mode(silent, "", false, false), "PPPP", []string{""}},
		{"auto, answered before, silent", fresh, mode(silent, printer.StatusAuto, true, false), "WWFF", []string{ReasonNotAnswering}},
		{"auto, never answered, port says media out", fresh, mode(mediaOut, printer.StatusAuto, false, true), "WWFF", []string{media}},
		{"auto, never answered, not checked", fresh, mode(present, printer.StatusAuto, false, false), "CCCC", []string{""}},
		{"auto, never answered, poller found it silent", fresh, lastSilent(mode(present, printer.StatusAuto, false, false)), "PPPP", []string{""}},
		{"auto, answered before, poller found it silent", fresh, lastSilent(mode(present, printer.StatusAuto, true, false)), "CCCC", []string{""}},
		{"auto, USB, never answered, poller found it silent", fresh, lastSilent(mode(present, printer.StatusAuto, false, true)), "CCCC", []string{""}},
		{"zpl, never answered, poller found it silent", fresh, lastSilent(mode(present, printer.StatusZPL, false, false)), "CCCC", []string{""}},
		{"zpl, never answered, silent", fresh, mode(silent, printer.StatusZPL, false, false), "WWFF", []string{ReasonNotAnswering}},
		{"zpl, ready", fresh, mode(checked(printer.StateReady, "", nil), printer.StatusZPL, true, false), "PPPP", []string{""}},
		{"none, no port status", fresh, mode(present, printer.StatusNone, false, false), "PPPP", []string{""}},
		{"none, answered before", fresh, mode(present, printer.StatusNone, true, false), "PPPP", []string{""}},
		{"none, USB, not checked", fresh, mode(present, printer.StatusNone, false, true), "CCCC", []string{""}},
		{"none, USB, silent", fresh, mode(silent, printer.StatusNone, false, true), "PPPP", []string{""}},
		{"none, USB, port says media out", fresh, mode(mediaOut, printer.StatusNone, false, true), "WWFF", []string{media}},
		{"none, gone", fresh, mode(printerView{Known: true}, printer.StatusNone, false, false), "WWFF", []string{ReasonDisconnected}},
		{"none, expired", expired, mode(present, printer.StatusNone, false, false), "FFFF", []string{ReasonExpired}},
		{"write failed, nothing out", inFlight, failedWrite(false), "WWFF", []string{ReasonDisconnected}},
		{"write failed, a label may be out", inFlight, failedWrite(true), "FWFF", []string{mid, ReasonDisconnected, mid, ReasonDisconnected}},
	}
	for _, tt := range tests {
		for i, pol := range decidePolicies {
			t.Run(fmt.Sprintf("%s/%s_%s", strings.ReplaceAll(tt.name, " ", "_"), pol.Problem, pol.Interrupted), func(t *testing.T) {
				want := tt.reasons[0]
				if len(tt.reasons) > 1 {
					want = tt.reasons[i]
				}
				got := decide(tt.job, tt.view, pol, now)
				if actionLetter[got.Act] != tt.want[i] || got.Reason != want {
					t.Fatalf("decide = %s %q, want %c %q", got.Act, got.Reason, tt.want[i], want)
				}
			})
		}
	}
}

// What a cancel (or a local discard) may do with a job, by its state in the spool.
func TestCancelRules(t *testing.T) {
	tests := []struct {
		name    string
		job     spool.Job
		discard bool
		tooLate string
	}{
		{"received", spool.Job{State: spool.Received, Copies: 1}, true, ""},
		{"waiting", spool.Job{State: spool.Received, Waiting: true, Copies: 1}, true, ""},
		{"write failed before anything went out", spool.Job{State: spool.Printing, Waiting: true, Copies: 1}, true, ""},
		{"copy in flight", spool.Job{State: spool.Printing, InFlight: true, Copies: 1}, false, "too late to cancel: the agent has started writing it to the printer"},
		{"one of two copies written", spool.Job{State: spool.Printing, CopiesDone: 1, Copies: 2, Waiting: true}, false, "too late to cancel: the agent has started writing it to the printer"},
		{"done", spool.Job{State: spool.Done, CopiesDone: 1, Copies: 1}, false, "too late to cancel: the job was already printed"},
		{"failed", spool.Job{State: spool.Failed, Copies: 1}, false, "too late to cancel: the job is already failed"},
		{"cancelled", spool.Job{State: spool.Cancelled, Copies: 1}, false, "too late to cancel: the job is already cancelled"},
	}
	for _, tt := range tests {
		if got := discardable(tt.job); got != tt.discard {
			t.Errorf("%s: discardable = %v", tt.name, got)
		}
		if !tt.discard {
			if got := tooLate(tt.job); got != tt.tooLate {
				t.Errorf("%s: tooLate = %q", tt.name, got)
			}
		}
	}
}
