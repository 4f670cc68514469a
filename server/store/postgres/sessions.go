package postgres

import (
	"context"
	"time"

	"printdock/server/store"
)

// Portal sessions (store.SessionStore).

const sessionCols = `token_hash, portal_id, user_id, principal, created_at, last_seen_at`

func (q q) CreateSession(ctx context.Context, s store.Session) error {
	_, err := q.exec(ctx, "create session", `INSERT INTO portal_sessions (`+sessionCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		s.Key, s.PortalID, s.UserID, s.Principal, s.CreatedAt, s.LastSeenAt)
	return err
}

func (q q) GetSession(ctx context.Context, key string) (store.Session, error) {
	return one(ctx, q, "get session", `SELECT `+sessionCols+` FROM portal_sessions WHERE token_hash = $1`,
		func(sc scanner) (s store.Session, err error) {
			err = sc.Scan(&s.Key, &s.PortalID, &s.UserID, &s.Principal, &s.CreatedAt, &s.LastSeenAt)
			s.CreatedAt, s.LastSeenAt = utc(s.CreatedAt), utc(s.LastSeenAt)
			return s, err
		}, key)
}

func (q q) TouchSession(ctx context.Context, key string, at time.Time) error {
	return q.exec1(ctx, "touch session", `UPDATE portal_sessions SET last_seen_at = $1 WHERE token_hash = $2`, at, key)
}

func (q q) SetSessionPrincipal(ctx context.Context, key, principal string) error {
	return q.exec1(ctx, "set session principal", `UPDATE portal_sessions SET principal = $1 WHERE token_hash = $2`,
		principal, key)
}

func (q q) DeleteSession(ctx context.Context, key string) error {
	return q.exec1(ctx, "delete session", `DELETE FROM portal_sessions WHERE token_hash = $1`, key)
}

func (q q) DeleteUserSessions(ctx context.Context, userID, exceptKey string) (int64, error) {
	return q.exec(ctx, "delete user sessions", `DELETE FROM portal_sessions WHERE user_id = $1 AND token_hash <> $2`, userID, exceptKey)
}

func (q q) DeleteOldSessions(ctx context.Context, seenBefore, createdBefore time.Time) (int64, error) {
	return q.exec(ctx, "delete old sessions", `DELETE FROM portal_sessions WHERE last_seen_at < $1 OR created_at < $2`,
		seenBefore, createdBefore)
}
