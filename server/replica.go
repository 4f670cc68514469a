package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"printdock/server/keys"
	"printdock/server/store"
)

// Replicas. When the store is shared by several printdock-server processes (PostgreSQL, a
// store.Notifier), each change must reach the agent sessions the other replicas hold:
//
//   - Key changes: every keys.Event of this replica is published on channel "keys" (JSON, split so each
//     payload fits store.MaxNotifyPayload); every replica applies the others' events to its hub (forced
//     logouts). Events are published after the change committed, retried until the store takes them.
//   - Jobs: Submit announces each new job on channel "jobs" ("<replica> <client ID>") inside its
//     transaction, so the announcement is delivered exactly when the job is committed; the replica
//     that holds the client's session wakes its delivery.
//   - Each replica drops the other replicas' changed keys from its verified-credential cache
//     (keys.Service.Invalidate) before logging their sessions out, and empties it when notifications
//     may have been lost (the cache's TTL covers a change whose event was never published).
//   - A replica ignores its own notifications (it already acted in-process).
//   - When the listening connection was lost (store.Notification.Missed), notifications may be gone:
//     the replica re-checks every live session's key (hub.Revalidate) and wakes every local client to
//     look for pending jobs (jobs.WakeAll). Every Config.RevalidateEvery it re-checks the keys anyway,
//     in case a replica committed a change and died before publishing its event.

// Notification channels.
const (
	channelKeys = "keys"
	channelJobs = "jobs"
)

// DefaultRevalidateEvery is Config.RevalidateEvery's default.
const DefaultRevalidateEvery = 5 * time.Minute

// replica connects one server to the others sharing its store.
type replica struct {
	id  string
	n   store.Notifier
	log *slog.Logger
}

func newReplica(db store.Store, n store.Notifier, log *slog.Logger) *replica {
	id := ""
	if r, ok := db.(interface{ ReplicaID() string }); ok {
		id = r.ReplicaID()
	}
	if id == "" || strings.ContainsAny(id, " \n") {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = "rep_" + hex.EncodeToString(b[:])
	}
	return &replica{id: id, n: n, log: log.With("component", "replica", "replica_id", id)}
}

// announceJob is jobs.Options.Queued: inside the submitting transaction, announce the client's new job.
func (r *replica) announceJob(ctx context.Context, tx store.Store, clientID string) error {
	p, ok := tx.(store.Publisher)
	if !ok {
		p = r.n // a store whose transactions cannot publish: announce right away (before the commit)
	}
	return p.Notify(ctx, channelJobs, r.id+" "+clientID)
}

// start subscribes to the other replicas' notifications (before returning, so nothing sent afterwards is
// missed) and runs the loops on s.bg until runCtx ends.
func (r *replica) start(runCtx context.Context, s *Server, revalidateEvery time.Duration) error {
	// The subscriptions live until runCtx ends or s.unsub; Listen returns once each is in effect.
	lctx, cancel := context.WithCancel(runCtx)
	keysCh, err := r.n.Listen(lctx, channelKeys)
	if err != nil {
		cancel()
		return fmt.Errorf("listen for key changes: %w", err)
	}
	jobsCh, err := r.n.Listen(lctx, channelJobs)
	if err != nil {
		cancel()
		return fmt.Errorf("listen for jobs: %w", err)
	}
	events, unsub := s.Keys.Subscribe()
	prev := s.unsub
	s.unsub = func() { unsub(); cancel(); prev() }
	if revalidateEvery == 0 {
		revalidateEvery = DefaultRevalidateEvery
	}
	s.bg.Add(3)
	go func() {
		defer s.bg.Done()
		r.publishKeys(runCtx, events)
	}()
	go func() {
		defer s.bg.Done()
		r.receive(runCtx, s, keysCh, jobsCh)
	}()
	go func() {
		defer s.bg.Done()
		if revalidateEvery < 0 {
			return
		}
		t := time.NewTicker(revalidateEvery)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
				s.Hub.Revalidate(runCtx)
				s.API.RevalidateStreams(runCtx)
			}
		}
	}()
	r.log.Info("replica notifications on")
	return nil
}

// keysMessage is a keys.Event on channel "keys".
type keysMessage struct {
	Replica          string   `json:"replica"`
	PortalID         string   `json:"portal_id,omitempty"`
	CredentialIDs    []string `json:"credential_ids"`
	Reason           string   `json:"reason"`
	BeforeGeneration int64    `json:"before_generation,omitempty"`
}

// encodeKeys turns an event into payloads of at most store.MaxNotifyPayload bytes, splitting its
// credential IDs when needed. An ID too long for a payload of its own is an error.
func encodeKeys(replicaID string, ev keys.Event) ([]string, error) {
	m := keysMessage{Replica: replicaID, PortalID: ev.PortalID, Reason: ev.Reason, BeforeGeneration: ev.BeforeGeneration,
		CredentialIDs: []string{}}
	empty, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var out []string
	size := len(empty)
	flush := func() error {
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		if len(b) > store.MaxNotifyPayload {
			return fmt.Errorf("key event of %d bytes: %w", len(b), store.ErrPayloadTooLarge)
		}
		out = append(out, string(b))
		m.CredentialIDs, size = []string{}, len(empty)
		return nil
	}
	for _, id := range ev.CredentialIDs {
		b, err := json.Marshal(id)
		if err != nil {
			return nil, err
		}
		if len(m.CredentialIDs) > 0 && size+len(b)+1 > store.MaxNotifyPayload {
			if err := flush(); err != nil {
				return nil, err
			}
		}
		m.CredentialIDs = append(m.CredentialIDs, id)
		size += len(b) + 1
	}
	if len(m.CredentialIDs) > 0 {
		if err := flush(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// publishKeys publishes every local key event until ctx ends, retrying each payload until the store
// takes it (the broker queues later events meanwhile, in order).
func (r *replica) publishKeys(ctx context.Context, events <-chan keys.Event) {
	for {
		var ev keys.Event
		var ok bool
		select {
		case <-ctx.Done():
			return
		case ev, ok = <-events:
			if !ok {
				return
			}
		}
		payloads, err := encodeKeys(r.id, ev)
		if err != nil {
			r.log.Error("publish key change", "reason", ev.Reason, "err", err)
			continue
		}
		for _, p := range payloads {
			wait := 100 * time.Millisecond
			for {
				err := r.n.Notify(ctx, channelKeys, p)
				if err == nil {
					break
				}
				if ctx.Err() != nil {
					return
				}
				r.log.Warn("publish key change; retrying", "reason", ev.Reason, "err", err, "retry_in", wait)
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
				wait = min(2*wait, 5*time.Second)
			}
		}
	}
}

// receive applies the other replicas' notifications until both channels close (runCtx ended).
func (r *replica) receive(ctx context.Context, s *Server, keysCh, jobsCh <-chan store.Notification) {
	for keysCh != nil || jobsCh != nil {
		select {
		case n, ok := <-keysCh:
			if !ok {
				keysCh = nil
				continue
			}
			if n.Missed {
				r.log.Warn("key change notifications may have been lost; re-checking every session")
				s.Keys.InvalidateAll()
				s.Hub.Revalidate(ctx)
				s.API.RevalidateStreams(ctx)
				continue
			}
			var m keysMessage
			if err := json.Unmarshal([]byte(n.Payload), &m); err != nil {
				r.log.Warn("bad key change notification", "err", err)
				continue
			}
			if m.Replica == r.id {
				continue
			}
			ev := keys.Event{PortalID: m.PortalID, CredentialIDs: m.CredentialIDs, Reason: m.Reason,
				BeforeGeneration: m.BeforeGeneration}
			s.Keys.Invalidate(ev) // cached verifications first, so a reconnect after the logout reads the store
			s.Hub.Apply(ev)
			s.API.CloseStreams(ev)
		case n, ok := <-jobsCh:
			if !ok {
				jobsCh = nil
				continue
			}
			if n.Missed {
				r.log.Warn("job notifications may have been lost; waking every agent session")
				s.Jobs.WakeAll()
				continue
			}
			from, clientID, found := strings.Cut(n.Payload, " ")
			if !found || clientID == "" {
				r.log.Warn("bad job notification", "err", errors.New("want \"<replica> <client ID>\""))
				continue
			}
			if from == r.id {
				continue
			}
			s.Jobs.Wake(clientID)
		}
	}
}
