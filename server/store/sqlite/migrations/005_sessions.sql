-- printdock schema v5: web portal sessions (server/portal). Append-only.
CREATE TABLE portal_sessions (
    token_hash    TEXT PRIMARY KEY,   -- hex SHA-256 of the cookie token
    portal_id     TEXT NOT NULL REFERENCES portals(id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL,
    principal     TEXT NOT NULL,      -- who is signed in, as the portal encodes it (no secret)
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL
);
CREATE INDEX portal_sessions_user ON portal_sessions(user_id);
CREATE INDEX portal_sessions_seen ON portal_sessions(last_seen_at);
