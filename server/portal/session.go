package portal

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"

	"printdock/server/keys"
)

// Sessions. The browser holds only a random token; sessions are keyed by its SHA-256, so neither a memory
// dump nor the database yields usable cookies, and the form's CSRF token is derived from it (csrfOf).
// With Options.Sessions (the server passes its store) a session lives in the database (session_store.go):
// a restart signs nobody out and replicas need no sticky sessions. Flash messages and pending secret
// downloads stay in this process's memory (a secret is never written to the database): with replicas, a
// download link works on the replica that made it. Without a store, sessions live in memory only.

const (
	cookieName       = "printdock_session"
	secureCookieName = "__Host-printdock_session" // __Host-: Secure, Path=/, no Domain
	loginCSRFCookie  = "printdock_login_csrf"
	downloadTTL      = 10 * time.Minute
	maxDownloads     = 16
	maxSessions      = 100_000
)

type flash struct {
	Kind string // ok, error
	Text string
}

type download struct {
	filename string
	content  string
	expires  time.Time
}

type session struct {
	key      string // hex SHA-256 of the cookie token
	p        keys.Principal
	csrf     string
	created  time.Time
	lastSeen time.Time
	flash    *flash
	dl       map[string]download
}

type sessions struct {
	st  SessionStore // nil: memory only
	log *slog.Logger

	mu      sync.Mutex
	m       map[string]*session
	idle    time.Duration
	maxAge  time.Duration
	lastGC  time.Time
	nowFunc func() time.Time
	dbGC    time.Time // last DeleteOldSessions
}

func newSessions(idle, maxAge time.Duration) *sessions {
	return &sessions{m: make(map[string]*session), idle: idle, maxAge: maxAge, nowFunc: time.Now, log: slog.Default()}
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokenKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// csrfOf is the CSRF token of the session whose cookie holds token: a hash of it, so that it needs no
// storage, and reveals nothing of the cookie.
func csrfOf(token string) string {
	sum := sha256.Sum256([]byte("printdock csrf\x00" + token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// create starts a session for p and returns the cookie token.
func (s *sessions) create(p keys.Principal) (token string, sess session) {
	token = randomToken(32)
	now := s.nowFunc()
	ss := &session{key: tokenKey(token), p: p, csrf: csrfOf(token), created: now, lastSeen: now}
	s.persist(ss)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gcLocked(now)
	if len(s.m) >= maxSessions {
		s.evictOldestLocked()
	}
	s.m[ss.key] = ss
	return token, *ss
}

// get returns the live session for a cookie token and records the request.
func (s *sessions) get(token string) (session, bool) { return s.lookup(token, true) }

// lookup returns the live session for a cookie token; touch records the request as activity.
func (s *sessions) lookup(token string, touch bool) (session, bool) {
	if token == "" {
		return session{}, false
	}
	key := tokenKey(token)
	now := s.nowFunc()
	if s.st != nil {
		return s.load(token, key, now, touch)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.m[key]
	if !ok {
		return session{}, false
	}
	if s.expired(ss, now) {
		delete(s.m, key)
		return session{}, false
	}
	if touch {
		ss.lastSeen = now
	}
	return *ss, true
}

func (s *sessions) expired(ss *session, now time.Time) bool {
	return now.Sub(ss.lastSeen) > s.idle || now.Sub(ss.created) > s.maxAge
}

// update replaces the principal of a session (role changes take effect on the next request).
func (s *sessions) update(key string, p keys.Principal) {
	s.mu.Lock()
	if ss, ok := s.m[key]; ok {
		ss.p = p
	}
	s.mu.Unlock()
	s.storeUpdate(key, p)
}

func (s *sessions) destroy(key string) {
	s.mu.Lock()
	delete(s.m, key)
	s.mu.Unlock()
	s.storeDelete(key, "", "")
}

// destroyUser signs out every session of a user (a password reset by an administrator).
func (s *sessions) destroyUser(userID string) { s.destroyUserExcept(userID, "") }

// destroyUserExcept signs out every session of a user but keep (a password change ends the others).
func (s *sessions) destroyUserExcept(userID, keep string) {
	s.mu.Lock()
	defer s.storeDelete("", userID, keep)
	defer s.mu.Unlock()
	for k, ss := range s.m {
		if ss.p.UserID == userID && k != keep {
			delete(s.m, k)
		}
	}
}

func (s *sessions) setFlash(key string, f flash) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss, ok := s.m[key]; ok {
		ss.flash = &f
	}
}

func (s *sessions) takeFlash(key string) *flash {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.m[key]
	if !ok {
		return nil
	}
	f := ss.flash
	ss.flash = nil
	return f
}

// addDownload keeps a secret for one download by this session within downloadTTL and returns its ticket.
func (s *sessions) addDownload(key, filename, content string) string {
	ticket := randomToken(18)
	now := s.nowFunc()
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.m[key]
	if !ok {
		return ""
	}
	if ss.dl == nil {
		ss.dl = make(map[string]download)
	}
	for t, d := range ss.dl {
		if now.After(d.expires) {
			delete(ss.dl, t)
		}
	}
	if len(ss.dl) >= maxDownloads {
		var oldest string
		for t, d := range ss.dl {
			if oldest == "" || d.expires.Before(ss.dl[oldest].expires) {
				oldest = t
			}
		}
		delete(ss.dl, oldest)
	}
	ss.dl[ticket] = download{filename: filename, content: content, expires: now.Add(downloadTTL)}
	return ticket
}

// takeDownload returns and forgets the download for a ticket of this session.
func (s *sessions) takeDownload(key, ticket string) (download, bool) {
	now := s.nowFunc()
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.m[key]
	if !ok {
		return download{}, false
	}
	d, ok := ss.dl[ticket]
	delete(ss.dl, ticket)
	if !ok || now.After(d.expires) {
		return download{}, false
	}
	return d, true
}

func (s *sessions) gcLocked(now time.Time) {
	if now.Sub(s.lastGC) < time.Minute {
		return
	}
	s.lastGC = now
	for k, ss := range s.m {
		if s.expired(ss, now) {
			delete(s.m, k)
		}
	}
}

func (s *sessions) evictOldestLocked() {
	var oldest *session
	for _, ss := range s.m {
		if oldest == nil || ss.lastSeen.Before(oldest.lastSeen) {
			oldest = ss
		}
	}
	if oldest != nil {
		delete(s.m, oldest.key)
	}
}

// tokensEqual compares two CSRF tokens in constant time; an empty token never matches.
func tokensEqual(got, want string) bool {
	if got == "" || want == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
