package hub

import (
	"context"

	"printdock/protocol"
)

// Revalidate re-checks every live session's key with Keys.StillValid and logs out (with the reason
// StillValid gives) each session whose key was rotated, revoked, deactivated or deleted. Replicas call it
// when change events from other replicas may have been lost (the store's notification connection
// dropped) and periodically as a safety net. It returns how many sessions it logged out; a session whose
// check fails for another reason (a store error) is left alone.
func (h *Hub) Revalidate(ctx context.Context) int {
	h.mu.RLock()
	ss := make([]*Session, 0, len(h.all))
	for s := range h.all {
		ss = append(ss, s)
	}
	h.mu.RUnlock()
	n := 0
	for _, s := range ss {
		if ctx.Err() != nil {
			break
		}
		err := h.o.Keys.StillValid(ctx, s.p)
		if err == nil {
			continue
		}
		reason := LogoutReason(err)
		if reason == "" {
			h.log.Warn("re-check key", "credential_id", s.p.CredentialID, "err", err)
			continue
		}
		h.mu.Lock()
		indexed := s.indexed
		h.unindexLocked(s)
		h.mu.Unlock()
		if !indexed {
			continue // ended or logged out meanwhile
		}
		s.kill(closeReq{code: protocol.CloseLoggedOut, reason: "logged out: " + reason, logout: reason})
		n++
	}
	if n > 0 {
		h.log.Info("forced logout after re-check", "sessions", n)
	}
	return n
}
