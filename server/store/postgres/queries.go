package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"printdock/server/store"
)

// q implements the store methods over a runner (the DB's pool, or one transaction). rep is the DB's
// replica ID, under which ConnectClient and DisconnectClient count sessions (replica.go).
type q struct {
	r   runner
	rep string
}

type scanner interface{ Scan(dest ...any) error }

// args collects numbered query parameters.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

func utc(t time.Time) time.Time { return t.UTC() }

func optUTC(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

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

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// exec runs one statement and returns the number of rows it affected.
func (q q) exec(ctx context.Context, op, sql string, a ...any) (int64, error) {
	var n int64
	err := q.r.run(ctx, func(c querier) error {
		tag, err := c.Exec(ctx, sql, a...)
		n = tag.RowsAffected()
		return err
	})
	return n, mapErr(op, err)
}

// exec1 runs a statement that must affect a row (store.ErrNotFound otherwise).
func (q q) exec1(ctx context.Context, op, sql string, a ...any) error {
	n, err := q.exec(ctx, op, sql, a...)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("postgres: %s: %w", op, store.ErrNotFound)
	}
	return nil
}

// row runs a query of one row and scans it with scan (store.ErrNotFound when there is none).
func (q q) row(ctx context.Context, op, sql string, scan func(scanner) error, a ...any) error {
	err := q.r.run(ctx, func(c querier) error { return scan(c.QueryRow(ctx, sql, a...)) })
	return mapErr(op, err)
}

// rows runs a query and calls each for every row. each must not keep state across attempts beyond what
// reset (called before every attempt) clears.
func (q q) rows(ctx context.Context, op, sql string, reset func(), each func(scanner) error, a ...any) error {
	err := q.r.run(ctx, func(c querier) error {
		reset()
		rs, err := c.Query(ctx, sql, a...)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			if err := each(rs); err != nil {
				return err
			}
		}
		return rs.Err()
	})
	return mapErr(op, err)
}

// list runs a query and scans every row with scan.
func list[T any](ctx context.Context, q q, op, sql string, scan func(scanner) (T, error), a ...any) ([]T, error) {
	var out []T
	err := q.rows(ctx, op, sql, func() { out = nil }, func(sc scanner) error {
		v, err := scan(sc)
		if err != nil {
			return err
		}
		out = append(out, v)
		return nil
	}, a...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Portals.

func (q q) CountPortals(ctx context.Context) (int, error) {
	var n int
	err := q.row(ctx, "count portals", `SELECT COUNT(*) FROM portals`, func(sc scanner) error { return sc.Scan(&n) })
	return n, err
}

func (q q) CreatePortal(ctx context.Context, p store.Portal) error {
	_, err := q.exec(ctx, "create portal", `INSERT INTO portals (id, name, created_at) VALUES ($1, $2, $3)`,
		p.ID, p.Name, p.CreatedAt)
	return err
}

func (q q) GetPortal(ctx context.Context, id string) (store.Portal, error) {
	var p store.Portal
	err := q.row(ctx, "get portal", `SELECT id, name, created_at FROM portals WHERE id = $1`, func(sc scanner) error {
		return sc.Scan(&p.ID, &p.Name, &p.CreatedAt)
	}, id)
	p.CreatedAt = utc(p.CreatedAt)
	return p, err
}

// Users.

const userCols = `id, portal_id, email, role, password_hash, created_at`

func scanUser(sc scanner) (store.User, error) {
	var u store.User
	err := sc.Scan(&u.ID, &u.PortalID, &u.Email, &u.Role, &u.PasswordHash, &u.CreatedAt)
	u.CreatedAt = utc(u.CreatedAt)
	return u, err
}

func (q q) getUser(ctx context.Context, op, where string, arg any) (store.User, error) {
	var u store.User
	err := q.row(ctx, op, `SELECT `+userCols+` FROM users WHERE `+where, func(sc scanner) (err error) {
		u, err = scanUser(sc)
		return err
	}, arg)
	return u, err
}

func (q q) CreateUser(ctx context.Context, u store.User) error {
	_, err := q.exec(ctx, "create user", `INSERT INTO users (`+userCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		u.ID, u.PortalID, u.Email, u.Role, u.PasswordHash, u.CreatedAt)
	return err
}

func (q q) GetUser(ctx context.Context, id string) (store.User, error) {
	return q.getUser(ctx, "get user", `id = $1`, id)
}

func (q q) GetUserByEmail(ctx context.Context, email string) (store.User, error) {
	return q.getUser(ctx, "get user by email", `email = $1`, email)
}

func (q q) ListUsers(ctx context.Context, portalID string) ([]store.User, error) {
	return list(ctx, q, "list users", `SELECT `+userCols+` FROM users WHERE portal_id = $1 ORDER BY email`,
		scanUser, portalID)
}

func (q q) CountAdmins(ctx context.Context, portalID string) (int, error) {
	var n int
	err := q.row(ctx, "count admins", `SELECT COUNT(*) FROM users WHERE portal_id = $1 AND role = 'admin'`,
		func(sc scanner) error { return sc.Scan(&n) }, portalID)
	return n, err
}

func (q q) SetUserRole(ctx context.Context, id, role string) error {
	return q.exec1(ctx, "set user role", `UPDATE users SET role = $1 WHERE id = $2`, role, id)
}

func (q q) SetUserPassword(ctx context.Context, id, hash string) error {
	return q.exec1(ctx, "set user password", `UPDATE users SET password_hash = $1 WHERE id = $2`, hash, id)
}

func (q q) DeleteUser(ctx context.Context, id string) error {
	return q.exec1(ctx, "delete user", `DELETE FROM users WHERE id = $1`, id)
}

// Credentials.

const credCols = `id, portal_id, kind, user_id, creator_id, description, prefix, secret_hash, shared_version,
	status, generation, created_at, created_by, last_accessed_at`

func scanCred(sc scanner) (store.Credential, error) {
	var c store.Credential
	var userID, creatorID, hash *string
	var shared *int64
	var kind string
	err := sc.Scan(&c.ID, &c.PortalID, &kind, &userID, &creatorID, &c.Description, &c.Prefix, &hash, &shared,
		&c.Status, &c.Generation, &c.CreatedAt, &c.CreatedBy, &c.LastAccessedAt)
	c.Kind = store.CredentialKind(kind)
	c.UserID, c.CreatorID, c.SecretHash = str(userID), str(creatorID), str(hash)
	if shared != nil {
		c.SharedVersion = *shared
	}
	c.CreatedAt, c.LastAccessedAt = utc(c.CreatedAt), optUTC(c.LastAccessedAt)
	return c, err
}

func (q q) getCred(ctx context.Context, op, where string, arg any) (store.Credential, error) {
	var c store.Credential
	err := q.row(ctx, op, `SELECT `+credCols+` FROM credentials WHERE `+where, func(sc scanner) (err error) {
		c, err = scanCred(sc)
		return err
	}, arg)
	return c, err
}

func (q q) CreateCredential(ctx context.Context, c store.Credential) error {
	_, err := q.exec(ctx, "create credential", `INSERT INTO credentials (`+credCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		c.ID, c.PortalID, string(c.Kind), nullStr(c.UserID), nullStr(c.CreatorID), c.Description, c.Prefix,
		nullStr(c.SecretHash), nullInt(c.SharedVersion), c.Status, c.Generation, c.CreatedAt, c.CreatedBy,
		c.LastAccessedAt)
	return err
}

func (q q) GetCredential(ctx context.Context, id string) (store.Credential, error) {
	return q.getCred(ctx, "get credential", `id = $1`, id)
}

func (q q) GetCredentialByHash(ctx context.Context, hash string) (store.Credential, error) {
	return q.getCred(ctx, "get credential by hash", `secret_hash = $1`, hash)
}

func (q q) UserAPIKey(ctx context.Context, userID string) (store.Credential, error) {
	return q.getCred(ctx, "get user api key", `user_id = $1 AND kind = 'user_key'`, userID)
}

func (q q) ListCredentials(ctx context.Context, portalID string, kinds ...store.CredentialKind) ([]store.Credential, error) {
	var a args
	sql := `SELECT ` + credCols + ` FROM credentials WHERE portal_id = ` + a.add(portalID)
	if len(kinds) > 0 {
		ks := make([]string, len(kinds))
		for i, k := range kinds {
			ks[i] = string(k)
		}
		sql += ` AND kind = ANY(` + a.add(ks) + `)`
	}
	sql += ` ORDER BY created_at, id`
	return list(ctx, q, "list credentials", sql, scanCred, a...)
}

func (q q) ReplaceSecret(ctx context.Context, id, hash, prefix string, oldGen int64) error {
	n, err := q.exec(ctx, "replace secret", `UPDATE credentials SET secret_hash = $1, prefix = $2,
		generation = generation + 1 WHERE id = $3 AND generation = $4`, hash, prefix, id, oldGen)
	if err != nil {
		return err
	}
	if n == 0 {
		if _, err := q.GetCredential(ctx, id); err != nil {
			return fmt.Errorf("postgres: replace secret: %w", err)
		}
		return fmt.Errorf("postgres: replace secret: generation changed: %w", store.ErrConflict)
	}
	return nil
}

func (q q) SetCredentialStatus(ctx context.Context, id, status string) error {
	return q.exec1(ctx, "set credential status", `UPDATE credentials SET status = $1 WHERE id = $2`, status, id)
}

func (q q) MoveSharedDevices(ctx context.Context, portalID string, version int64, prefix string) ([]string, error) {
	return list(ctx, q, "move shared devices", `UPDATE credentials SET shared_version = $1, prefix = $2
		WHERE portal_id = $3 AND kind = 'shared_device' RETURNING id`,
		func(sc scanner) (id string, err error) { return id, sc.Scan(&id) }, version, prefix, portalID)
}

func (q q) TouchCredential(ctx context.Context, id string, at time.Time) error {
	return q.exec1(ctx, "touch credential", `UPDATE credentials SET last_accessed_at = $1 WHERE id = $2`, at, id)
}

func (q q) DeleteCredential(ctx context.Context, id string) error {
	return q.exec1(ctx, "delete credential", `DELETE FROM credentials WHERE id = $1`, id)
}

// Shared secrets.

const sharedCols = `portal_id, version, secret_hash, prefix, created_at, created_by`

func scanShared(sc scanner) (store.SharedSecret, error) {
	var s store.SharedSecret
	err := sc.Scan(&s.PortalID, &s.Version, &s.SecretHash, &s.Prefix, &s.CreatedAt, &s.CreatedBy)
	s.CreatedAt = utc(s.CreatedAt)
	return s, err
}

func (q q) getShared(ctx context.Context, op, sql string, arg any) (store.SharedSecret, error) {
	var s store.SharedSecret
	err := q.row(ctx, op, sql, func(sc scanner) (err error) {
		s, err = scanShared(sc)
		return err
	}, arg)
	return s, err
}

func (q q) CreateSharedSecret(ctx context.Context, s store.SharedSecret) error {
	_, err := q.exec(ctx, "create shared secret", `INSERT INTO shared_secrets (`+sharedCols+`)
		VALUES ($1, $2, $3, $4, $5, $6)`, s.PortalID, s.Version, s.SecretHash, s.Prefix, s.CreatedAt, s.CreatedBy)
	return err
}

func (q q) CurrentSharedSecret(ctx context.Context, portalID string) (store.SharedSecret, error) {
	return q.getShared(ctx, "current shared secret", `SELECT `+sharedCols+` FROM shared_secrets
		WHERE portal_id = $1 ORDER BY version DESC LIMIT 1`, portalID)
}

func (q q) GetSharedSecretByHash(ctx context.Context, hash string) (store.SharedSecret, error) {
	return q.getShared(ctx, "get shared secret by hash", `SELECT `+sharedCols+` FROM shared_secrets
		WHERE secret_hash = $1`, hash)
}

func (q q) PruneSharedSecrets(ctx context.Context, portalID string) (int64, error) {
	return q.exec(ctx, "prune shared secrets", `DELETE FROM shared_secrets s
		WHERE s.portal_id = $1
		  AND s.version < (SELECT MAX(version) FROM shared_secrets WHERE portal_id = $1)
		  AND NOT EXISTS (SELECT 1 FROM credentials c WHERE c.portal_id = s.portal_id AND c.shared_version = s.version)`,
		portalID)
}

// OAuth tokens.

func (q q) CreateOAuthToken(ctx context.Context, t store.OAuthToken) error {
	_, err := q.exec(ctx, "create oauth token", `INSERT INTO oauth_tokens (token_hash, client_id, portal_id,
		created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`, t.TokenHash, t.ClientID, t.PortalID, t.CreatedAt, t.ExpiresAt)
	return err
}

func (q q) GetOAuthToken(ctx context.Context, hash string) (store.OAuthToken, error) {
	var t store.OAuthToken
	err := q.row(ctx, "get oauth token", `SELECT token_hash, client_id, portal_id, created_at, expires_at
		FROM oauth_tokens WHERE token_hash = $1`, func(sc scanner) error {
		return sc.Scan(&t.TokenHash, &t.ClientID, &t.PortalID, &t.CreatedAt, &t.ExpiresAt)
	}, hash)
	t.CreatedAt, t.ExpiresAt = utc(t.CreatedAt), utc(t.ExpiresAt)
	return t, err
}

func (q q) DeleteOAuthTokens(ctx context.Context, clientID string) (int64, error) {
	return q.exec(ctx, "delete oauth tokens", `DELETE FROM oauth_tokens WHERE client_id = $1`, clientID)
}

func (q q) DeleteExpiredOAuthTokens(ctx context.Context, now time.Time) (int64, error) {
	return q.exec(ctx, "delete expired oauth tokens", `DELETE FROM oauth_tokens WHERE expires_at <= $1`, now)
}

// Audit.

func (q q) AppendAudit(ctx context.Context, e store.AuditEntry) (int64, error) {
	var id int64
	err := q.row(ctx, "append audit", `INSERT INTO audit_log (portal_id, at, actor, action, target, remote_addr, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, func(sc scanner) error { return sc.Scan(&id) },
		e.PortalID, e.At, e.Actor, e.Action, e.Target, e.RemoteAddr, e.Detail)
	return id, err
}

func (q q) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	var a args
	sql := `SELECT id, portal_id, at, actor, action, target, remote_addr, detail FROM audit_log
		WHERE portal_id = ` + a.add(f.PortalID)
	if f.Actor != "" {
		sql += ` AND actor = ` + a.add(f.Actor)
	}
	if f.Action != "" {
		sql += ` AND action = ` + a.add(f.Action)
	}
	if !f.Since.IsZero() {
		sql += ` AND at >= ` + a.add(f.Since)
	}
	if !f.Until.IsZero() {
		sql += ` AND at < ` + a.add(f.Until)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	sql += ` ORDER BY at DESC, id DESC LIMIT ` + a.add(limit)
	return list(ctx, q, "list audit", sql, func(sc scanner) (store.AuditEntry, error) {
		var e store.AuditEntry
		err := sc.Scan(&e.ID, &e.PortalID, &e.At, &e.Actor, &e.Action, &e.Target, &e.RemoteAddr, &e.Detail)
		e.At = utc(e.At)
		return e, err
	}, a...)
}
