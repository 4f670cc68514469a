-- printdock schema v1. Append-only: never edit a released migration, add 00N_*.sql instead.
-- Times are BIGINT microseconds since the Unix epoch (UTC), portable to PostgreSQL.

CREATE TABLE portals (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    portal_id      TEXT NOT NULL REFERENCES portals(id) ON DELETE CASCADE,
    email          TEXT NOT NULL UNIQUE,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'user')),
    password_hash  TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX users_portal ON users(portal_id);

CREATE TABLE shared_secrets (
    portal_id    TEXT NOT NULL REFERENCES portals(id) ON DELETE CASCADE,
    version      BIGINT NOT NULL,
    secret_hash  TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    created_by   TEXT NOT NULL,
    PRIMARY KEY (portal_id, version)
);

CREATE TABLE credentials (
    id                TEXT PRIMARY KEY,
    portal_id         TEXT NOT NULL REFERENCES portals(id) ON DELETE CASCADE,
    kind              TEXT NOT NULL CHECK (kind IN ('print_client', 'user_key', 'shared_device', 'oauth_client')),
    user_id           TEXT REFERENCES users(id) ON DELETE CASCADE,
    creator_id        TEXT REFERENCES users(id) ON DELETE SET NULL,
    description       TEXT NOT NULL,
    prefix            TEXT NOT NULL,
    secret_hash       TEXT UNIQUE,
    shared_version    BIGINT,
    status            TEXT NOT NULL CHECK (status IN ('active', 'inactive', 'revoked')),
    generation        BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    created_by        TEXT NOT NULL,
    last_accessed_at  BIGINT,
    FOREIGN KEY (portal_id, shared_version) REFERENCES shared_secrets(portal_id, version)
);
CREATE INDEX credentials_portal_kind ON credentials(portal_id, kind);
CREATE UNIQUE INDEX credentials_user_key ON credentials(user_id) WHERE kind = 'user_key';
CREATE INDEX credentials_shared ON credentials(portal_id, shared_version);

CREATE TABLE oauth_tokens (
    token_hash  TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES credentials(id) ON DELETE CASCADE,
    portal_id   TEXT NOT NULL REFERENCES portals(id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX oauth_tokens_client ON oauth_tokens(client_id);
CREATE INDEX oauth_tokens_expiry ON oauth_tokens(expires_at);

CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id    TEXT NOT NULL,
    at           BIGINT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    target       TEXT NOT NULL,
    remote_addr  TEXT NOT NULL,
    detail       TEXT NOT NULL
);
CREATE INDEX audit_portal_at ON audit_log(portal_id, at);
