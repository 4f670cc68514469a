package postgres

import (
	"context"
	"time"

	"printdock/server/store"
	"printdock/server/store/internal/sqlq"
)

// Credentials.

func scanCred(sc scanner) (store.Credential, error) {
	var c store.Credential
	var userID, creatorID, hash, prev *string
	var shared *int64
	var kind string
	err := sc.Scan(&c.ID, &c.PortalID, &kind, &userID, &creatorID, &c.Description, &c.Prefix, &hash, &shared,
		&c.Status, &c.Generation, &c.CreatedAt, &c.CreatedBy, &c.LastAccessedAt, &c.ActivatedAt, &c.ExpiresAt,
		&prev, &c.Previous.ExpiresAt, &c.Previous.UsedAt, &c.Previous.UsedFrom)
	c.Kind = store.CredentialKind(kind)
	c.UserID, c.CreatorID, c.SecretHash = str(userID), str(creatorID), str(hash)
	if shared != nil {
		c.SharedVersion = *shared
	}
	c.CreatedAt, c.LastAccessedAt = utc(c.CreatedAt), optUTC(c.LastAccessedAt)
	c.ActivatedAt, c.ExpiresAt = optUTC(c.ActivatedAt), optUTC(c.ExpiresAt)
	c.Previous.Hash, c.Previous.ExpiresAt, c.Previous.UsedAt = str(prev), optUTC(c.Previous.ExpiresAt), optUTC(c.Previous.UsedAt)
	return c, err
}

func (q q) CreateCredential(ctx context.Context, c store.Credential) error {
	_, err := q.exec(ctx, "create credential", `INSERT INTO credentials (`+sqlq.CredCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
		c.ID, c.PortalID, string(c.Kind), sqlq.NullStr(c.UserID), sqlq.NullStr(c.CreatorID), c.Description, c.Prefix,
		sqlq.NullStr(c.SecretHash), sqlq.NullInt(c.SharedVersion), c.Status, c.Generation, c.CreatedAt, c.CreatedBy,
		c.LastAccessedAt, c.ActivatedAt, c.ExpiresAt,
		sqlq.NullStr(c.Previous.Hash), c.Previous.ExpiresAt, c.Previous.UsedAt, c.Previous.UsedFrom)
	return err
}

func (q q) GetCredential(ctx context.Context, id string) (store.Credential, error) {
	return one(ctx, q, "get credential", `SELECT `+sqlq.CredCols+` FROM credentials WHERE id = $1`, scanCred, id)
}

func (q q) GetCredentialByHash(ctx context.Context, hash string) (store.Credential, error) {
	return one(ctx, q, "get credential by hash", `SELECT `+sqlq.CredCols+` FROM credentials WHERE secret_hash = $1`,
		scanCred, hash)
}

func (q q) UserAPIKey(ctx context.Context, userID string) (store.Credential, error) {
	return one(ctx, q, "get user api key", `SELECT `+sqlq.CredCols+` FROM credentials
		WHERE user_id = $1 AND kind = 'user_key'`, scanCred, userID)
}

func (q q) ListCredentials(ctx context.Context, portalID string, p store.Page, kinds ...store.CredentialKind) ([]store.Credential, error) {
	var a args
	sql := sqlq.Credentials(portalID, p, kinds, a.add)
	return list(ctx, q, "list credentials", sql, scanCred, a...)
}

func (q q) ReplaceSecret(ctx context.Context, id, hash, prefix string, oldGen int64) error {
	n, err := q.exec(ctx, "replace secret", `UPDATE credentials SET secret_hash = $1, prefix = $2,
		generation = generation + 1, previous_hash = NULL, previous_expires_at = NULL, previous_used_at = NULL,
		previous_used_from = '' WHERE id = $3 AND generation = $4`, hash, prefix, id, oldGen)
	if err != nil {
		return err
	}
	return sqlq.Optimistic("postgres: replace secret", n, func() (string, error) {
		_, err := q.GetCredential(ctx, id)
		return "generation changed", err
	})
}

func (q q) SetPreviousSecret(ctx context.Context, id, hash string, until *time.Time) error {
	return q.exec1(ctx, "set previous secret", `UPDATE credentials SET previous_hash = $1, previous_expires_at = $2,
		previous_used_at = NULL, previous_used_from = '' WHERE id = $3`, sqlq.NullStr(hash), until, id)
}

func (q q) GetCredentialByPreviousHash(ctx context.Context, hash string) (store.Credential, error) {
	return one(ctx, q, "get credential by previous hash", `SELECT `+sqlq.CredCols+` FROM credentials
		WHERE previous_hash = $1`, scanCred, hash)
}

func (q q) TouchPreviousSecret(ctx context.Context, id string, at time.Time, from string) error {
	return q.exec1(ctx, "touch previous secret", `UPDATE credentials SET previous_used_at = $1, previous_used_from = $2
		WHERE id = $3`, at, from, id)
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

func (q q) SetCredentialActivatedAt(ctx context.Context, id string, at time.Time) error {
	return q.exec1(ctx, "set credential activated", `UPDATE credentials SET activated_at = $1 WHERE id = $2`, at, id)
}

func (q q) SwitchCredentialSecret(ctx context.Context, id string, kind store.CredentialKind, hash, prefix string, shared int64) error {
	return q.exec1(ctx, "switch credential secret", `UPDATE credentials SET kind = $1, secret_hash = $2, prefix = $3,
		shared_version = $4, generation = generation + 1 WHERE id = $5`, string(kind), sqlq.NullStr(hash), prefix, sqlq.NullInt(shared), id)
}

func (q q) ListCredentialsExpiring(ctx context.Context, after, until time.Time) ([]store.Credential, error) {
	return list(ctx, q, "list expiring credentials", `SELECT `+sqlq.CredCols+` FROM credentials
		WHERE expires_at > $1 AND expires_at <= $2 ORDER BY expires_at, id`, scanCred, after, until)
}

func (q q) SetCredentialExpiry(ctx context.Context, id string, at *time.Time) error {
	return q.exec1(ctx, "set credential expiry", `UPDATE credentials SET expires_at = $1 WHERE id = $2`, at, id)
}

func (q q) DeleteCredential(ctx context.Context, id string) error {
	return q.exec1(ctx, "delete credential", `DELETE FROM credentials WHERE id = $1`, id)
}

// Shared secrets.

func scanShared(sc scanner) (store.SharedSecret, error) {
	var s store.SharedSecret
	err := sc.Scan(&s.PortalID, &s.Version, &s.SecretHash, &s.Prefix, &s.CreatedAt, &s.CreatedBy)
	s.CreatedAt = utc(s.CreatedAt)
	return s, err
}

func (q q) CreateSharedSecret(ctx context.Context, s store.SharedSecret) error {
	_, err := q.exec(ctx, "create shared secret", `INSERT INTO shared_secrets (`+sqlq.SharedCols+`)
		VALUES ($1, $2, $3, $4, $5, $6)`, s.PortalID, s.Version, s.SecretHash, s.Prefix, s.CreatedAt, s.CreatedBy)
	return err
}

func (q q) CurrentSharedSecret(ctx context.Context, portalID string) (store.SharedSecret, error) {
	return one(ctx, q, "current shared secret", `SELECT `+sqlq.SharedCols+` FROM shared_secrets
		WHERE portal_id = $1 ORDER BY version DESC LIMIT 1`, scanShared, portalID)
}

func (q q) GetSharedSecretByHash(ctx context.Context, hash string) (store.SharedSecret, error) {
	return one(ctx, q, "get shared secret by hash", `SELECT `+sqlq.SharedCols+` FROM shared_secrets
		WHERE secret_hash = $1`, scanShared, hash)
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
