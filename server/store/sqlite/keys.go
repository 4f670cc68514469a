package sqlite

import (
	"context"
	"database/sql"
	"time"

	"printdock/server/store"
	"printdock/server/store/internal/sqlq"
)

// Credentials.

func scanCred(sc rowScanner) (store.Credential, error) {
	var c store.Credential
	var userID, creatorID, hash, prev sql.NullString
	var shared, last, activated, expires, prevExp, prevUsed sql.NullInt64
	var kind string
	var at int64
	err := sc.Scan(&c.ID, &c.PortalID, &kind, &userID, &creatorID, &c.Description, &c.Prefix, &hash, &shared,
		&c.Status, &c.Generation, &at, &c.CreatedBy, &last, &activated, &expires,
		&prev, &prevExp, &prevUsed, &c.Previous.UsedFrom)
	c.Kind = store.CredentialKind(kind)
	c.UserID, c.CreatorID, c.SecretHash = userID.String, creatorID.String, hash.String
	c.SharedVersion = shared.Int64
	c.CreatedAt = ut(at)
	c.LastAccessedAt, c.ActivatedAt, c.ExpiresAt = optTime(last), optTime(activated), optTime(expires)
	c.Previous.Hash, c.Previous.ExpiresAt, c.Previous.UsedAt = prev.String, optTime(prevExp), optTime(prevUsed)
	return c, err
}

func (q q) CreateCredential(ctx context.Context, c store.Credential) error {
	_, err := q.w.ExecContext(ctx, `INSERT INTO credentials (`+sqlq.CredCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.PortalID, string(c.Kind), sqlq.NullStr(c.UserID), sqlq.NullStr(c.CreatorID), c.Description, c.Prefix,
		sqlq.NullStr(c.SecretHash), sqlq.NullInt(c.SharedVersion), c.Status, c.Generation, us(c.CreatedAt), c.CreatedBy,
		optUs(c.LastAccessedAt), optUs(c.ActivatedAt), optUs(c.ExpiresAt),
		sqlq.NullStr(c.Previous.Hash), optUs(c.Previous.ExpiresAt), optUs(c.Previous.UsedAt), c.Previous.UsedFrom)
	return mapErr("create credential", err)
}

func (q q) GetCredential(ctx context.Context, id string) (store.Credential, error) {
	c, err := scanCred(q.r.QueryRowContext(ctx, `SELECT `+sqlq.CredCols+` FROM credentials WHERE id = ?`, id))
	return c, mapErr("get credential", err)
}

func (q q) GetCredentialByHash(ctx context.Context, hash string) (store.Credential, error) {
	c, err := scanCred(q.r.QueryRowContext(ctx, `SELECT `+sqlq.CredCols+` FROM credentials WHERE secret_hash = ?`, hash))
	return c, mapErr("get credential by hash", err)
}

func (q q) UserAPIKey(ctx context.Context, userID string) (store.Credential, error) {
	c, err := scanCred(q.r.QueryRowContext(ctx, `SELECT `+sqlq.CredCols+` FROM credentials WHERE user_id = ? AND kind = 'user_key'`, userID))
	return c, mapErr("get user api key", err)
}

func (q q) ListCredentials(ctx context.Context, portalID string, p store.Page, kinds ...store.CredentialKind) ([]store.Credential, error) {
	var a args
	query := sqlq.Credentials(portalID, p, kinds, a.add)
	return queryAll(ctx, q.r, "list credentials", query, a, scanCred)
}

func (q q) ReplaceSecret(ctx context.Context, id, hash, prefix string, oldGen int64) error {
	n, err := q.execN(ctx, "replace secret", `UPDATE credentials SET secret_hash = ?, prefix = ?, generation = generation + 1,
		previous_hash = NULL, previous_expires_at = NULL, previous_used_at = NULL, previous_used_from = ''
		WHERE id = ? AND generation = ?`, hash, prefix, id, oldGen)
	if err != nil {
		return err
	}
	return sqlq.Optimistic("sqlite: replace secret", n, func() (string, error) {
		_, err := q.GetCredential(ctx, id)
		return "generation changed", err
	})
}

func (q q) SetPreviousSecret(ctx context.Context, id, hash string, until *time.Time) error {
	return q.exec1(ctx, "set previous secret", `UPDATE credentials SET previous_hash = ?, previous_expires_at = ?,
		previous_used_at = NULL, previous_used_from = '' WHERE id = ?`, sqlq.NullStr(hash), optUs(until), id)
}

func (q q) GetCredentialByPreviousHash(ctx context.Context, hash string) (store.Credential, error) {
	c, err := scanCred(q.r.QueryRowContext(ctx, `SELECT `+sqlq.CredCols+` FROM credentials WHERE previous_hash = ?`, hash))
	return c, mapErr("get credential by previous hash", err)
}

func (q q) TouchPreviousSecret(ctx context.Context, id string, at time.Time, from string) error {
	return q.exec1(ctx, "touch previous secret", `UPDATE credentials SET previous_used_at = ?, previous_used_from = ?
		WHERE id = ?`, us(at), from, id)
}

func (q q) SetCredentialStatus(ctx context.Context, id, status string) error {
	return q.exec1(ctx, "set credential status", `UPDATE credentials SET status = ? WHERE id = ?`, status, id)
}

func (q q) MoveSharedDevices(ctx context.Context, portalID string, version int64, prefix string) ([]string, error) {
	return queryAll(ctx, q.w, "move shared devices", `UPDATE credentials SET shared_version = ?, prefix = ?
		WHERE portal_id = ? AND kind = 'shared_device' RETURNING id`, []any{version, prefix, portalID},
		func(sc rowScanner) (id string, err error) { return id, sc.Scan(&id) })
}

func (q q) TouchCredential(ctx context.Context, id string, at time.Time) error {
	return q.exec1(ctx, "touch credential", `UPDATE credentials SET last_accessed_at = ? WHERE id = ?`, us(at), id)
}

func (q q) SetCredentialActivatedAt(ctx context.Context, id string, at time.Time) error {
	return q.exec1(ctx, "set credential activated", `UPDATE credentials SET activated_at = ? WHERE id = ?`, us(at), id)
}

func (q q) SwitchCredentialSecret(ctx context.Context, id string, kind store.CredentialKind, hash, prefix string, shared int64) error {
	return q.exec1(ctx, "switch credential secret", `UPDATE credentials SET kind = ?, secret_hash = ?, prefix = ?,
		shared_version = ?, generation = generation + 1 WHERE id = ?`, string(kind), sqlq.NullStr(hash), prefix, sqlq.NullInt(shared), id)
}

func (q q) ListCredentialsExpiring(ctx context.Context, after, until time.Time) ([]store.Credential, error) {
	return queryAll(ctx, q.r, "list expiring credentials", `SELECT `+sqlq.CredCols+` FROM credentials
		WHERE expires_at > ? AND expires_at <= ? ORDER BY expires_at, id`, []any{us(after), us(until)}, scanCred)
}

func (q q) SetCredentialExpiry(ctx context.Context, id string, at *time.Time) error {
	return q.exec1(ctx, "set credential expiry", `UPDATE credentials SET expires_at = ? WHERE id = ?`, optUs(at), id)
}

func (q q) DeleteCredential(ctx context.Context, id string) error {
	return q.exec1(ctx, "delete credential", `DELETE FROM credentials WHERE id = ?`, id)
}

// Shared secrets.

func scanShared(sc rowScanner) (store.SharedSecret, error) {
	var s store.SharedSecret
	var at int64
	err := sc.Scan(&s.PortalID, &s.Version, &s.SecretHash, &s.Prefix, &at, &s.CreatedBy)
	s.CreatedAt = ut(at)
	return s, err
}

func (q q) CreateSharedSecret(ctx context.Context, s store.SharedSecret) error {
	_, err := q.w.ExecContext(ctx, `INSERT INTO shared_secrets (`+sqlq.SharedCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		s.PortalID, s.Version, s.SecretHash, s.Prefix, us(s.CreatedAt), s.CreatedBy)
	return mapErr("create shared secret", err)
}

func (q q) CurrentSharedSecret(ctx context.Context, portalID string) (store.SharedSecret, error) {
	s, err := scanShared(q.r.QueryRowContext(ctx, `SELECT `+sqlq.SharedCols+` FROM shared_secrets WHERE portal_id = ?
		ORDER BY version DESC LIMIT 1`, portalID))
	return s, mapErr("current shared secret", err)
}

func (q q) GetSharedSecretByHash(ctx context.Context, hash string) (store.SharedSecret, error) {
	s, err := scanShared(q.r.QueryRowContext(ctx, `SELECT `+sqlq.SharedCols+` FROM shared_secrets WHERE secret_hash = ?`, hash))
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
