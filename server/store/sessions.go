package store

import (
	"context"
	"time"
)

// Session is a signed-in web portal session (package portal). The browser holds a random token; the store
// keeps only its SHA-256 (Key), so reading the table does not yield usable cookies.
type Session struct {
	Key        string // hex SHA-256 of the cookie token
	PortalID   string
	UserID     string
	Principal  string // the portal's encoding of who is signed in (no secret)
	CreatedAt  time.Time
	LastSeenAt time.Time
}

// SessionStore persists portal sessions, so that a restart signs nobody out and replicas share them.
type SessionStore interface {
	CreateSession(ctx context.Context, s Session) error // ErrConflict on a duplicate key
	GetSession(ctx context.Context, key string) (Session, error)
	TouchSession(ctx context.Context, key string, at time.Time) error
	SetSessionPrincipal(ctx context.Context, key, principal string) error
	DeleteSession(ctx context.Context, key string) error
	// DeleteUserSessions signs a user out everywhere but the session exceptKey ("" for none).
	DeleteUserSessions(ctx context.Context, userID, exceptKey string) (int64, error)
	// DeleteOldSessions deletes the sessions last seen before seenBefore or created before createdBefore.
	DeleteOldSessions(ctx context.Context, seenBefore, createdBefore time.Time) (int64, error)
}
