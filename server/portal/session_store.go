package portal

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"printdock/server/keys"
	"printdock/server/store"
)

// SessionStore is what the portal needs of a store to keep its sessions (store/sqlite, store/postgres):
// with it, a restart signs nobody out and replicas need no sticky sessions.
type SessionStore interface {
	CreateSession(ctx context.Context, s store.Session) error
	GetSession(ctx context.Context, key string) (store.Session, error)
	TouchSession(ctx context.Context, key string, at time.Time) error
	SetSessionPrincipal(ctx context.Context, key, principal string) error
	DeleteSession(ctx context.Context, key string) error
	DeleteUserSessions(ctx context.Context, userID, exceptKey string) (int64, error)
	DeleteOldSessions(ctx context.Context, seenBefore, createdBefore time.Time) (int64, error)
}

const (
	// storeTimeout bounds one session query (the sessions API has no context: it serves every request).
	storeTimeout = 5 * time.Second
	// touchEvery is how often a session's last-seen time is written at most: the idle timeout is counted
	// in minutes, and a write per request would cost more than the request.
	touchEvery = time.Minute
	// dbGCEvery is how often expired sessions are deleted from the store.
	dbGCEvery = 10 * time.Minute
)

func storeCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), storeTimeout)
}

// persist records a new session in the store, and deletes expired ones now and then.
func (s *sessions) persist(ss *session) {
	if s.st == nil {
		return
	}
	ctx, cancel := storeCtx()
	defer cancel()
	b, err := json.Marshal(ss.p)
	if err == nil {
		err = s.st.CreateSession(ctx, store.Session{Key: ss.key, PortalID: ss.p.PortalID, UserID: ss.p.UserID,
			Principal: string(b), CreatedAt: ss.created, LastSeenAt: ss.lastSeen})
	}
	if err != nil {
		s.log.Error("portal: store session", "err", err) // the next request finds no session: sign in again
	}
	s.mu.Lock()
	gc := ss.created.Sub(s.dbGC) >= dbGCEvery
	if gc {
		s.dbGC = ss.created
	}
	s.mu.Unlock()
	if gc {
		if _, err := s.st.DeleteOldSessions(ctx, ss.created.Add(-s.idle), ss.created.Add(-s.maxAge)); err != nil {
			s.log.Warn("portal: delete expired sessions", "err", err)
		}
	}
}

// load is lookup with a store: the store is the truth (a session ended on another replica is gone here
// too); this process keeps only the session's flash and downloads.
func (s *sessions) load(token, key string, now time.Time, touch bool) (session, bool) {
	ctx, cancel := storeCtx()
	defer cancel()
	row, err := s.st.GetSession(ctx, key)
	var p keys.Principal
	if err == nil {
		err = json.Unmarshal([]byte(row.Principal), &p)
	}
	ss := session{key: key, p: p, csrf: csrfOf(token), created: row.CreatedAt, lastSeen: row.LastSeenAt}
	if err == nil && s.expired(&ss, now) {
		s.storeDelete(key, "", "")
		err = store.ErrNotFound
	}
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.Error("portal: load session", "err", err)
		}
		s.mu.Lock()
		delete(s.m, key)
		s.mu.Unlock()
		return session{}, false
	}
	if touch && now.Sub(ss.lastSeen) >= touchEvery {
		if err := s.st.TouchSession(ctx, key, now); err != nil {
			s.log.Warn("portal: touch session", "err", err)
		}
		ss.lastSeen = now
	} else if touch {
		ss.lastSeen = now // as far as this request goes; the store is updated at most every touchEvery
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gcLocked(now)
	m, ok := s.m[key]
	if !ok {
		m = &session{key: key}
		s.m[key] = m
	}
	m.p, m.csrf, m.created, m.lastSeen = ss.p, ss.csrf, ss.created, ss.lastSeen
	return ss, true
}

// storeUpdate records a session's new principal.
func (s *sessions) storeUpdate(key string, p keys.Principal) {
	if s.st == nil {
		return
	}
	ctx, cancel := storeCtx()
	defer cancel()
	b, err := json.Marshal(p)
	if err == nil {
		err = s.st.SetSessionPrincipal(ctx, key, string(b))
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Error("portal: update session", "err", err)
	}
}

// storeDelete ends the session key, or every session of userID, in the store.
func (s *sessions) storeDelete(key, userID, except string) {
	if s.st == nil {
		return
	}
	ctx, cancel := storeCtx()
	defer cancel()
	var err error
	if key != "" {
		err = s.st.DeleteSession(ctx, key)
	} else {
		_, err = s.st.DeleteUserSessions(ctx, userID, except)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Error("portal: end session", "err", err)
	}
}
