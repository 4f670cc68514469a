package jobs

import (
	"fmt"
	"testing"
	"time"

	"printdock/protocol"
	"printdock/server/store"
)

// A receipt acknowledged together with a later status of the job (one AckAll) leaves the same job row
// and events as when each is acknowledged alone, though its row is written once (writesReceived).
func TestAckReceiptWithNextStatus(t *testing.T) {
	for _, c := range []struct {
		next       protocol.JobStatus
		state      State
		events     string
		jobReason  string
		printingAt bool
	}{
		{protocol.JobStatus{State: protocol.JobDone}, Done, "sent>sent received by the agent; sent>done printed", "", false},
		{protocol.JobStatus{State: protocol.JobPrinting}, Printing, "sent>sent received by the agent; sent>printing printing", "", true},
		{protocol.JobStatus{State: protocol.JobFailed, Reason: "jam"}, Failed, "sent>sent received by the agent; sent>failed jam", "jam", false},
		{protocol.JobStatus{State: protocol.JobFailed, Reason: "jam", Retry: true}, Sent,
			"sent>sent received by the agent; sent>sent the agent will retry: jam", "jam", false},
	} {
		t.Run(fmt.Sprintf("%s retry=%v", c.next.State, c.next.Retry), func(t *testing.T) {
			e := newEnv(t)
			client, prs := e.agent("p1", "key1", "inst1", "usb://a")
			j := e.submit(e.alice, prs[0], SubmitRequest{Title: "t"})
			errs, err := e.svc.MarkSentAll(t.Context(), []string{j.ID})
			e.must(err)
			e.must(errs[0])
			e.clock.Advance(time.Second)
			now := e.clock.Now().UTC().Truncate(time.Microsecond)
			next := c.next
			next.JobID = j.ID
			errs, err = e.svc.AckAll(t.Context(), client, []protocol.JobStatus{{JobID: j.ID, State: protocol.JobReceived}, next})
			e.must(err)
			e.must(errs[0])
			e.must(errs[1])
			got := e.job(j.ID)
			if got.State != c.state || got.Reason != c.jobReason || got.ReceivedAt == nil || !got.ReceivedAt.Equal(now) || !got.UpdatedAt.Equal(now) ||
				(got.PrintingAt != nil) != c.printingAt || (got.FinishedAt != nil) != c.state.Terminal() {
				t.Errorf("job = %+v", got)
			}
			evs, err := e.svc.Events(t.Context(), e.alice, j.ID, store.Page{})
			e.must(err)
			s := ""
			for _, ev := range evs[2:] { // after submitted and delivered
				if s != "" {
					s += "; "
				}
				s += fmt.Sprintf("%s>%s %s", ev.From, ev.To, ev.Reason)
			}
			if s != c.events {
				t.Errorf("events %q, want %q", s, c.events)
			}
		})
	}
}
