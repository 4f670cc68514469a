package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"printdock/protocol"
	"printdock/server/store"
)

// An agent reports most jobs as a run of statuses of one job, in one batch or two: a current agent
// sends received and printing in one job_statuses message and done later (the hub hands AckAll
// [received, printing] then [done], or all three at once); an older agent sends them one by one; the
// light bench agents of old sent received and done. ackRun applies such a run with one UPDATE …
// RETURNING (store.JobStore.AckJob) instead of reading the job and updating it once per status.

// ackRun applies the statuses of one job that start at sts[i] when they are such a run — received,
// printing and done in this order, each optional but none repeated, consecutive in the batch, with the
// job not read in the batch before (seen) nor refused in it (missed) — and the job is the client's,
// sent (printing for a done alone), not asked to be cancelled, and never received when the run starts
// with received. The row and the events are those ack writes for the statuses one after the other. n
// is how many statuses it applied; 0, with nothing written, when the statuses or the job are anything
// else: ack then applies sts[i] alone.
func (s *Service) ackRun(ctx context.Context, q Queries, clientID string, sts []protocol.JobStatus, i int,
	seen map[string]*store.Job, missed map[string]bool, now time.Time) (n int, err error) {
	id := sts[i].JobID
	if seen[id] != nil || missed[id] {
		return 0, nil
	}
	a := store.JobAck{ID: id, ClientID: clientID, From: Sent, At: now}
	var steps []change
	actor := actorAgent(clientID)
run:
	for _, st := range sts[i:] {
		if st.JobID != id {
			break
		}
		switch {
		case st.State == protocol.JobReceived && len(steps) == 0:
			a.Received, a.To = true, Sent
			steps = append(steps, change{to: Sent, event: "received by the agent", actor: actor, received: true})
		case st.State == protocol.JobPrinting && (a.To == "" || a.To == Sent):
			a.To = Printing
			steps = append(steps, change{to: Printing, event: "printing", actor: actor, received: true})
		case st.State == protocol.JobDone && a.To != Done:
			if len(steps) == 0 {
				a.From = Printing // a done alone follows the job's printing
			}
			a.Printing, a.To = a.To == Printing, Done
			steps = append(steps, change{to: Done, event: "printed", actor: actor, received: true})
		default:
			break run
		}
	}
	if a.To == Sent || a.To == "" {
		return 0, nil // received alone (its row waits for the next status, if any) or no run
	}
	j, err := q.AckJob(ctx, a)
	if errors.Is(err, store.ErrConflict) {
		missed[id] = true
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("jobs: ack: %w", err)
	}
	j.State = a.From
	for _, c := range steps {
		if err := s.record(ctx, q, &j, c, now); err != nil {
			return 0, err
		}
	}
	return len(steps), nil
}
