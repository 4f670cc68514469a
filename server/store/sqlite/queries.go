package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"printdock/server/store"
)

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// rowScanner is a *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(...any) error }

// queryAll runs query on db and scans every row with scan; op names the operation in errors.
func queryAll[T any](ctx context.Context, db execer, op, query string, args []any, scan func(rowScanner) (T, error)) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, mapErr(op, err)
		}
		out = append(out, v)
	}
	return out, mapErr(op, rows.Err())
}

// q implements the store methods over a writer and a reader (both the transaction inside InTx).
type q struct{ w, r execer }

func us(t time.Time) int64 { return t.UnixMicro() }
func ut(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

func (q q) exec1(ctx context.Context, op, query string, args ...any) error {
	res, err := q.w.ExecContext(ctx, query, args...)
	if err != nil {
		return mapErr(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return mapErr(op, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlite: %s: %w", op, store.ErrNotFound)
	}
	return nil
}

func (q q) execN(ctx context.Context, op, query string, args ...any) (int64, error) {
	res, err := q.w.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, mapErr(op, err)
	}
	n, err := res.RowsAffected()
	return n, mapErr(op, err)
}

// Portals.

func (q q) CountPortals(ctx context.Context) (int, error) {
	var n int
	err := q.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM portals`).Scan(&n)
	return n, mapErr("count portals", err)
}

func (q q) CreatePortal(ctx context.Context, p store.Portal) error {
	_, err := q.w.ExecContext(ctx, `INSERT INTO portals (id, name, created_at) VALUES (?, ?, ?)`, p.ID, p.Name, us(p.CreatedAt))
	return mapErr("create portal", err)
}

func (q q) GetPortal(ctx context.Context, id string) (store.Portal, error) {
	var p store.Portal
	var at int64
	err := q.r.QueryRowContext(ctx, `SELECT id, name, created_at FROM portals WHERE id = ?`, id).Scan(&p.ID, &p.Name, &at)
	p.CreatedAt = ut(at)
	return p, mapErr("get portal", err)
}

// Users.

const userCols = `id, portal_id, email, role, password_hash, created_at`

func scanUser(sc rowScanner) (store.User, error) {
	var u store.User
	var at int64
	err := sc.Scan(&u.ID, &u.PortalID, &u.Email, &u.Role, &u.PasswordHash, &at)
	u.CreatedAt = ut(at)
	return u, err
}

func (q q) CreateUser(ctx context.Context, u store.User) error {
	_, err := q.w.ExecContext(ctx, `INSERT INTO users (`+userCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		u.ID, u.PortalID, u.Email, u.Role, u.PasswordHash, us(u.CreatedAt))
	return mapErr("create user", err)
}

func (q q) GetUser(ctx context.Context, id string) (store.User, error) {
	u, err := scanUser(q.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	return u, mapErr("get user", err)
}

func (q q) GetUserByEmail(ctx context.Context, email string) (store.User, error) {
	u, err := scanUser(q.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE email = ?`, email))
	return u, mapErr("get user by email", err)
}

func (q q) ListUsers(ctx context.Context, portalID string) ([]store.User, error) {
	return queryAll(ctx, q.r, "list users", `SELECT `+userCols+` FROM users WHERE portal_id = ? ORDER BY email`, []any{portalID}, scanUser)
}

func (q q) CountAdmins(ctx context.Context, portalID string) (int, error) {
	var n int
	err := q.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE portal_id = ? AND role = 'admin'`, portalID).Scan(&n)
	return n, mapErr("count admins", err)
}

func (q q) SetUserRole(ctx context.Context, id, role string) error {
	return q.exec1(ctx, "set user role", `UPDATE users SET role = ? WHERE id = ?`, role, id)
}

func (q q) SetUserPassword(ctx context.Context, id, hash string) error {
	return q.exec1(ctx, "set user password", `UPDATE users SET password_hash = ? WHERE id = ?`, hash, id)
}

func (q q) DeleteUser(ctx context.Context, id string) error {
	return q.exec1(ctx, "delete user", `DELETE FROM users WHERE id = ?`, id)
}

// Credentials.

const credCols = `id, portal_id, kind, user_id, creator_id, description, prefix, secret_hash, shared_version,
	status, generation, created_at, created_by, last_accessed_at`

func scanCred(sc rowScanner) (store.Credential, error) {
	var c store.Credential
	var userID, creatorID, hash sql.NullString
	var shared, last sql.NullInt64
	var kind string
	var at int64
	err := sc.Scan(&c.ID, &c.PortalID, &kind, &userID, &creatorID, &c.Description, &c.Prefix, &hash, &shared,
		&c.Status, &c.Generation, &at, &c.CreatedBy, &last)
	c.Kind = store.CredentialKind(kind)
	c.UserID, c.CreatorID, c.SecretHash = userID.String, creatorID.String, hash.String
	c.SharedVersion = shared.Int64
	c.CreatedAt = ut(at)
	if last.Valid {
		t := ut(last.Int64)
		c.LastAccessedAt = &t
	}
	return c, err
}

func (q q) CreateCredential(ctx context.Context, c store.Credential) error {
	var last any
	if c.LastAccessedAt != nil {
		last = us(*c.LastAccessedAt)
	}
	_, err := q.w.ExecContext(ctx, `INSERT INTO credentials (`+credCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.PortalID, string(c.Kind), nullStr(c.UserID), nullStr(c.CreatorID), c.Description, c.Prefix,
		nullStr(c.SecretHash), nullInt(c.SharedVersion), c.Status, c.Generation, us(c.CreatedAt), c.CreatedBy, last)
	return mapErr("create credential", err)
}

func (q q) GetCredential(ctx context.Context, id string) (store.Credential, error) {
	c, err := scanCred(q.r.QueryRowContext(ctx, `SELECT `+credCols+` FROM credentials WHERE id = ?`, id))
	return c, mapErr("get credential", err)
}

func (q q) GetCredentialByHash(ctx context.Context, hash string) (store.Credential, error) {
	c, err := scanCred(q.r.QueryRowContext(ctx, `SELECT `+credCols+` FROM credentials WHERE secret_hash = ?`, hash))
	return c, mapErr("get credential by hash", err)
}

func (q q) UserAPIKey(ctx context.Context, userID string) (store.Credential, error) {
	c, err := scanCred(q.r.QueryRowContext(ctx, `SELECT `+credCols+` FROM credentials WHERE user_id = ? AND kind = 'user_key'`, userID))
	return c, mapErr("get user api key", err)
}

func (q q) ListCredentials(ctx context.Context, portalID string, kinds ...store.CredentialKind) ([]store.Credential, error) {
	query := `SELECT ` + credCols + ` FROM credentials WHERE portal_id = ?`
	args := []any{portalID}
	if len(kinds) > 0 {
		query += ` AND kind IN (?` + strings.Repeat(", ?", len(kinds)-1) + `)`
		for _, k := range kinds {
			args = append(args, string(k))
		}
	}
	query += ` ORDER BY created_at, id`
	return queryAll(ctx, q.r, "list credentials", query, args, scanCred)
}

func (q q) ReplaceSecret(ctx context.Context, id, hash, prefix string, oldGen int64) error {
	n, err := q.execN(ctx, "replace secret", `UPDATE credentials SET secret_hash = ?, prefix = ?, generation = generation + 1
		WHERE id = ? AND generation = ?`, hash, prefix, id, oldGen)
	if err != nil {
		return err
	}
	if n == 0 {
		if _, err := q.GetCredential(ctx, id); err != nil {
			return fmt.Errorf("sqlite: replace secret: %w", err)
		}
		return fmt.Errorf("sqlite: replace secret: generation changed: %w", store.ErrConflict)
	}
	return nil
}

func (q q) SetCredentialStatus(ctx context.Context, id, status string) error {
	return q.exec1(ctx, "set credential status", `UPDATE credentials SET status = ? WHERE id = ?`, status, id)
}

func (q q) MoveSharedDevices(ctx context.Context, portalID string, version int64, prefix string) ([]string, error) {
	rows, err := q.w.QueryContext(ctx, `UPDATE credentials SET shared_version = ?, prefix = ?
		WHERE portal_id = ? AND kind = 'shared_device' RETURNING id`, version, prefix, portalID)
	if err != nil {
		return nil, mapErr("move shared devices", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, mapErr("move shared devices", err)
		}
		ids = append(ids, id)
	}
	return ids, mapErr("move shared devices", rows.Err())
}

func (q q) TouchCredential(ctx context.Context, id string, at time.Time) error {
	return q.exec1(ctx, "touch credential", `UPDATE credentials SET last_accessed_at = ? WHERE id = ?`, us(at), id)
}

func (q q) DeleteCredential(ctx context.Context, id string) error {
	return q.exec1(ctx, "delete credential", `DELETE FROM credentials WHERE id = ?`, id)
}

// Shared secrets.

const sharedCols = `portal_id, version, secret_hash, prefix, created_at, created_by`

func scanShared(sc rowScanner) (store.SharedSecret, error) {
	var s store.SharedSecret
	var at int64
	err := sc.Scan(&s.PortalID, &s.Version, &s.SecretHash, &s.Prefix, &at, &s.CreatedBy)
	s.CreatedAt = ut(at)
	return s, err
}

func (q q) CreateSharedSecret(ctx context.Context, s store.SharedSecret) error {
	_, err := q.w.ExecContext(ctx, `INSERT INTO shared_secrets (`+sharedCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		s.PortalID, s.Version, s.SecretHash, s.Prefix, us(s.CreatedAt), s.CreatedBy)
	return mapErr("create shared secret", err)
}

func (q q) CurrentSharedSecret(ctx context.Context, portalID string) (store.SharedSecret, error) {
	s, err := scanShared(q.r.QueryRowContext(ctx, `SELECT `+sharedCols+` FROM shared_secrets WHERE portal_id = ?
		ORDER BY version DESC LIMIT 1`, portalID))
	return s, mapErr("current shared secret", err)
}

func (q q) GetSharedSecretByHash(ctx context.Context, hash string) (store.SharedSecret, error) {
	s, err := scanShared(q.r.QueryRowContext(ctx, `SELECT `+sharedCols+` FROM shared_secrets WHERE secret_hash = ?`, hash))
	return s, mapErr("get shared secret by hash", err)
}

func (q q) PruneSharedSecrets(ctx context.Context, portalID string) (int64, error) {
	return q.execN(ctx, "prune shared secrets", `DELETE FROM shared_secrets
		WHERE portal_id = ?
		  AND version < (SELECT MAX(version) FROM shared_secrets WHERE portal_id = ?)
		  AND NOT EXISTS (SELECT 1 FROM credentials c
		                  WHERE c.portal_id = shared_secrets.portal_id AND c.shared_version = shared_secrets.version)`,
		portalID, portalID)
}

// OAuth tokens.

func (q q) CreateOAuthToken(ctx context.Context, t store.OAuthToken) error {
	_, err := q.w.ExecContext(ctx, `INSERT INTO oauth_tokens (token_hash, client_id, portal_id, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`, t.TokenHash, t.ClientID, t.PortalID, us(t.CreatedAt), us(t.ExpiresAt))
	return mapErr("create oauth token", err)
}

func (q q) GetOAuthToken(ctx context.Context, hash string) (store.OAuthToken, error) {
	var t store.OAuthToken
	var c, e int64
	err := q.r.QueryRowContext(ctx, `SELECT token_hash, client_id, portal_id, created_at, expires_at FROM oauth_tokens
		WHERE token_hash = ?`, hash).Scan(&t.TokenHash, &t.ClientID, &t.PortalID, &c, &e)
	t.CreatedAt, t.ExpiresAt = ut(c), ut(e)
	return t, mapErr("get oauth token", err)
}

func (q q) DeleteOAuthTokens(ctx context.Context, clientID string) (int64, error) {
	return q.execN(ctx, "delete oauth tokens", `DELETE FROM oauth_tokens WHERE client_id = ?`, clientID)
}

func (q q) DeleteExpiredOAuthTokens(ctx context.Context, now time.Time) (int64, error) {
	return q.execN(ctx, "delete expired oauth tokens", `DELETE FROM oauth_tokens WHERE expires_at <= ?`, us(now))
}

// Audit.

func (q q) AppendAudit(ctx context.Context, e store.AuditEntry) (int64, error) {
	res, err := q.w.ExecContext(ctx, `INSERT INTO audit_log (portal_id, at, actor, action, target, remote_addr, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, e.PortalID, us(e.At), e.Actor, e.Action, e.Target, e.RemoteAddr, e.Detail)
	if err != nil {
		return 0, mapErr("append audit", err)
	}
	id, err := res.LastInsertId()
	return id, mapErr("append audit", err)
}

func (q q) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	query := `SELECT id, portal_id, at, actor, action, target, remote_addr, detail FROM audit_log WHERE portal_id = ?`
	args := []any{f.PortalID}
	if f.Actor != "" {
		query += ` AND actor = ?`
		args = append(args, f.Actor)
	}
	if f.Action != "" {
		query += ` AND action = ?`
		args = append(args, f.Action)
	}
	if !f.Since.IsZero() {
		query += ` AND at >= ?`
		args = append(args, us(f.Since))
	}
	if !f.Until.IsZero() {
		query += ` AND at < ?`
		args = append(args, us(f.Until))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	query += ` ORDER BY at DESC, id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := q.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr("list audit", err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &e.PortalID, &at, &e.Actor, &e.Action, &e.Target, &e.RemoteAddr, &e.Detail); err != nil {
			return nil, mapErr("list audit", err)
		}
		e.At = ut(at)
		out = append(out, e)
	}
	return out, mapErr("list audit", rows.Err())
}
