package api

import (
	"context"
	"slices"
	"sync"

	"printdock/server/hub"
	"printdock/server/keys"
)

// Open event streams and their credentials, so a key change ends the streams it affects as it logs
// agents out (the same keys.Event, from the same sources: the in-process keys.Service subscription and
// the other replicas' notifications; see server.go and replica.go).

// openStream is one open event stream's principal and its stop signal.
type openStream struct {
	p      keys.Principal
	stop   chan struct{}
	once   sync.Once
	reason string // set before stop is closed
}

func (s *openStream) end(reason string) {
	s.once.Do(func() {
		s.reason = reason
		close(s.stop)
	})
}

// streamSet is the API's open event streams (its zero value is ready).
type streamSet struct {
	mu  sync.Mutex
	all map[*openStream]struct{}
}

func (ss *streamSet) add(p keys.Principal) *openStream {
	s := &openStream{p: p, stop: make(chan struct{})}
	ss.mu.Lock()
	if ss.all == nil {
		ss.all = map[*openStream]struct{}{}
	}
	ss.all[s] = struct{}{}
	ss.mu.Unlock()
	return s
}

func (ss *streamSet) remove(s *openStream) {
	ss.mu.Lock()
	delete(ss.all, s)
	ss.mu.Unlock()
}

func (ss *streamSet) snapshot() []*openStream {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	out := make([]*openStream, 0, len(ss.all))
	for s := range ss.all {
		out = append(out, s)
	}
	return out
}

// affects reports whether ev logs out p, as hub.Hub.Apply decides for agents: p's credential is listed
// and its generation is below ev.BeforeGeneration (any, when 0), or p's user is listed (a deleted user's
// tokens and sessions).
func affects(ev keys.Event, p keys.Principal) bool {
	if ev.PortalID != "" && p.PortalID != ev.PortalID {
		return false
	}
	if slices.Contains(ev.CredentialIDs, p.CredentialID) {
		return ev.BeforeGeneration == 0 || p.Generation < ev.BeforeGeneration
	}
	return p.UserID != "" && slices.Contains(ev.CredentialIDs, p.UserID)
}

// CloseStreams ends the open event streams whose credential ev logs out, each with a last `logout`
// event naming ev.Reason, and returns how many.
func (a *API) CloseStreams(ev keys.Event) int {
	reason := ev.Reason
	if reason == "" {
		// A change that logs no agent out (a role change, a new expiry date): the stream ends too, so
		// that the client reconnects (Last-Event-ID) with the rights the key has now.
		reason = "changed"
	}
	n := 0
	for _, s := range a.streams.snapshot() {
		if affects(ev, s.p) {
			s.end(reason)
			n++
		}
	}
	if n > 0 {
		a.log.Info("event streams closed", "reason", reason, "streams", n)
	}
	return n
}

// RunStreamLogouts applies key change events (keys.Service.Subscribe) to the open event streams until
// ctx ends or the channel closes.
func (a *API) RunStreamLogouts(ctx context.Context, evs <-chan keys.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-evs:
			if !ok {
				return
			}
			a.CloseStreams(ev)
		}
	}
}

// stillValid is keys.Service.StillValid, when the API's Keys has it.
type stillValid interface {
	StillValid(ctx context.Context, p keys.Principal) error
}

// RevalidateStreams re-checks every open event stream's credential in the store and ends those that no
// longer authenticate (after key change notifications from other replicas may have been lost, as
// hub.Hub.Revalidate does for agents). It returns how many it ended.
func (a *API) RevalidateStreams(ctx context.Context) int {
	v, ok := a.keys.(stillValid)
	if !ok {
		return 0
	}
	n := 0
	for _, s := range a.streams.snapshot() {
		if ctx.Err() != nil {
			break
		}
		if reason := hub.LogoutReason(v.StillValid(ctx, s.p)); reason != "" {
			s.end(reason)
			n++
		}
	}
	return n
}
