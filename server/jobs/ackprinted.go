package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"printdock/protocol"
	"printdock/server/store"
)

// ackPrinted applies sts[i] and sts[i+1] together when they are the pair an agent reports for most jobs —
// received, then done, of the same job — and the job is the client's, sent, never received and not asked
// to be cancelled (store.JobStore.PrintedJob, one statement instead of reading the job and updating it).
// The row and the events are those ack writes for the two statuses one after the other. ok is false, and
// nothing is written, when the statuses or the job are anything else: ack then applies sts[i] alone.
func (s *Service) ackPrinted(ctx context.Context, q Queries, clientID string, sts []protocol.JobStatus, i int,
	seen map[string]*store.Job, now time.Time) (ok bool, err error) {
	if i+1 >= len(sts) {
		return false, nil
	}
	rec, done := sts[i], sts[i+1]
	if rec.State != protocol.JobReceived || done.State != protocol.JobDone || done.JobID != rec.JobID || seen[rec.JobID] != nil {
		return false, nil
	}
	j, err := q.PrintedJob(ctx, rec.JobID, clientID, now)
	if errors.Is(err, store.ErrConflict) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("jobs: ack: %w", err)
	}
	j.State = Sent
	actor := actorAgent(clientID)
	if err := s.record(ctx, q, &j, change{to: Sent, event: "received by the agent", actor: actor, received: true}, now); err != nil {
		return false, err
	}
	if err := s.record(ctx, q, &j, change{to: Done, event: "printed", actor: actor, received: true}, now); err != nil {
		return false, err
	}
	return true, nil
}
