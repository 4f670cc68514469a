package jobs

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"printdock/protocol"
	"printdock/server/keys"
	"printdock/server/store"
)

// maxCancels bounds one CancelsFor answer: the jobs of one client with a cancel waiting for its agent.
const maxCancels = 1000

// Cancel cancels a job (docs/jobs.md "Reading and cancelling"):
//   - queued: cancelled at once; the returned job is cancelled.
//   - sent, to an agent whose latest hello listed protocol.FeatureCancel: the cancel is requested (and
//     announced like new work, so the session holding the agent sends it a `cancel`); the returned job
//     is still sent, with CancelRequestedAt set. The agent's answer decides (Ack). Asking again answers
//     the same.
//   - sent to an older agent: ErrAlreadySent (its spool prints what it received).
//   - printing: ErrAlreadyPrinting; finished: ErrConflict.
func (s *Service) Cancel(ctx context.Context, a keys.Actor, id string) (Job, error) {
	var out store.Job
	requested := false
	err := s.st.InTx(ctx, func(q store.Store) error {
		requested = false // fn may run again
		j, err := s.job(ctx, q, a, id)
		if err != nil {
			return err
		}
		switch {
		case j.State == Printing:
			return fmt.Errorf("%w: job %s", ErrAlreadyPrinting, id)
		case j.State == Sent && j.CancelRequestedAt != nil:
			out = j // requested before; the agent has not answered yet
			return nil
		case j.State == Sent:
			if err := s.requestCancel(ctx, q, &j, a); err != nil {
				return err
			}
			out, requested = j, true
			return nil
		case j.State.Terminal():
			return fmt.Errorf("%w: job %s is already %s", ErrConflict, id, j.State)
		}
		who := actorName(a)
		if err := s.apply(ctx, q, &j, change{to: Cancelled, reason: "cancelled by " + who, actor: who}, s.now()); err != nil {
			return err
		}
		out = j
		return nil
	})
	if err != nil {
		return Job{}, err
	}
	if requested {
		s.notify(out.ClientID)
		s.log.InfoContext(ctx, "job cancel requested", "job_id", id, "by", actorName(a))
	} else if out.State == Cancelled {
		s.log.InfoContext(ctx, "job cancelled", "job_id", id, "by", actorName(a))
	}
	return jobOf(out), nil
}

// requestCancel records a's cancel request for the sent job j in q, if j's agent can cancel.
func (s *Service) requestCancel(ctx context.Context, q store.Store, j *store.Job, a keys.Actor) error {
	c, err := q.GetClient(ctx, j.ClientID)
	if err != nil {
		return fmt.Errorf("jobs: cancel: %w", err)
	}
	if !slices.Contains(strings.Fields(c.Features), protocol.FeatureCancel) {
		return fmt.Errorf("%w: job %s: its agent is too old to cancel a job it holds; update printdock-agent",
			ErrAlreadySent, j.ID)
	}
	who := actorName(a)
	if err := s.apply(ctx, q, j, change{to: Sent, reason: "cancel requested by " + who + "; waiting for the agent",
		event: "cancel requested by " + who, actor: who, cancelBy: who}, s.now()); err != nil {
		return err
	}
	if s.o.Queued != nil {
		// Announce it like a new job: the replica holding the agent's session sends the cancel.
		if err := s.o.Queued(ctx, q, j.ClientID); err != nil {
			return fmt.Errorf("jobs: cancel: announce: %w", err)
		}
	}
	return nil
}

// CancelsFor lists (oldest first, at most maxCancels) the client's sent jobs with a cancel requested
// that its agent has not answered yet: the hub sends each a `cancel` message.
func (s *Service) CancelsFor(ctx context.Context, clientID string) ([]string, error) {
	yes := true
	js, err := s.st.ListJobs(ctx, store.JobFilter{AllPortals: true, ClientID: clientID, States: []State{Sent},
		CancelRequested: &yes, OldestFirst: true, Limit: maxCancels})
	if err != nil {
		return nil, fmt.Errorf("jobs: cancels: %w", err)
	}
	ids := make([]string, len(js))
	for i, j := range js {
		ids[i] = j.ID
	}
	return ids, nil
}

// ackCancelled applies the agent's `cancelled` answer: it discarded the job, which will never print.
func (s *Service) ackCancelled(ctx context.Context, q Queries, j *store.Job, actor string, now time.Time) error {
	reason := "cancelled by the agent"
	if j.CancelRequestedBy != "" {
		reason = "cancelled by " + j.CancelRequestedBy
	}
	return s.apply(ctx, q, j, change{to: Cancelled, reason: reason, event: reason + " (the agent discarded it)",
		actor: actor, received: true}, now)
}

// progressReason is the reason a job keeps when the agent reports printing or done: none, unless a
// cancel was requested, which then came too late (with the agent's reason, or the one recorded before).
func progressReason(j store.Job, agentReason string) string {
	if j.CancelRequestedAt == nil {
		return ""
	}
	late := "cancel requested by " + j.CancelRequestedBy + " came too late"
	switch {
	case agentReason != "":
		return late + ": " + agentReason
	case strings.HasPrefix(j.Reason, late):
		return j.Reason
	}
	return late
}
