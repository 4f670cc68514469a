package sqlite

import (
	"context"
	"time"

	"printdock/server/store"
)

// Portal sessions (store.SessionStore).

const sessionCols = `token_hash, portal_id, user_id, principal, created_at, last_seen_at`

func (q q) CreateSession(ctx context.Context, s store.Session) error {
	_, err := q.w.ExecContext(ctx, `INSERT INTO portal_sessions (`+sessionCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		s.Key, s.PortalID, s.UserID, s.Principal, us(s.CreatedAt), us(s.LastSeenAt))
	return mapErr("create session", err)
}

func (q q) GetSession(ctx context.Context, key string) (store.Session, error) {
	var s store.Session
	var created, seen int64
	err := q.r.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM portal_sessions WHERE token_hash = ?`, key).
		Scan(&s.Key, &s.PortalID, &s.UserID, &s.Principal, &created, &seen)
	s.CreatedAt, s.LastSeenAt = ut(created), ut(seen)
	return s, mapErr("get session", err)
}

func (q q) TouchSession(ctx context.Context, key string, at time.Time) error {
	return q.exec1(ctx, "touch session", `UPDATE portal_sessions SET last_seen_at = ? WHERE token_hash = ?`, us(at), key)
}

func (q q) SetSessionPrincipal(ctx context.Context, key, principal string) error {
	return q.exec1(ctx, "set session principal", `UPDATE portal_sessions SET principal = ? WHERE token_hash = ?`,
		principal, key)
}

func (q q) DeleteSession(ctx context.Context, key string) error {
	return q.exec1(ctx, "delete session", `DELETE FROM portal_sessions WHERE token_hash = ?`, key)
}

func (q q) DeleteUserSessions(ctx context.Context, userID, exceptKey string) (int64, error) {
	return q.execN(ctx, "delete user sessions", `DELETE FROM portal_sessions WHERE user_id = ? AND token_hash <> ?`, userID, exceptKey)
}

func (q q) DeleteOldSessions(ctx context.Context, seenBefore, createdBefore time.Time) (int64, error) {
	return q.execN(ctx, "delete old sessions", `DELETE FROM portal_sessions WHERE last_seen_at < ? OR created_at < ?`,
		us(seenBefore), us(createdBefore))
}
