-- printdock PostgreSQL schema v1 (mirrors store/sqlite 001_init.sql). Append-only: never edit a released
-- migration, add 00N_*.sql instead. Times are TIMESTAMPTZ (microseconds, as the SQLite store keeps them).
-- Identifiers, e-mail addresses, printer names and URIs use COLLATE "C" so that ordering and equality are
-- bytewise, as in SQLite, whatever locale the cluster was created with.

CREATE TABLE portals (
    id          TEXT COLLATE "C" PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    id             TEXT COLLATE "C" PRIMARY KEY,
    portal_id      TEXT COLLATE "C" NOT NULL REFERENCES portals(id) ON DELETE CASCADE,
    email          TEXT COLLATE "C" NOT NULL UNIQUE,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'user')),
    password_hash  TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX users_portal ON users(portal_id, email);

CREATE TABLE shared_secrets (
    portal_id    TEXT COLLATE "C" NOT NULL REFERENCES portals(id) ON DELETE CASCADE,
    version      BIGINT NOT NULL,
    secret_hash  TEXT COLLATE "C" NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    created_by   TEXT NOT NULL,
    PRIMARY KEY (portal_id, version)
);

CREATE TABLE credentials (
    id                TEXT COLLATE "C" PRIMARY KEY,
    portal_id         TEXT COLLATE "C" NOT NULL REFERENCES portals(id) ON DELETE CASCADE,
    kind              TEXT NOT NULL CHECK (kind IN ('print_client', 'user_key', 'shared_device', 'oauth_client')),
    user_id           TEXT COLLATE "C" REFERENCES users(id) ON DELETE CASCADE,
    creator_id        TEXT COLLATE "C" REFERENCES users(id) ON DELETE SET NULL,
    description       TEXT NOT NULL,
    prefix            TEXT NOT NULL,
    secret_hash       TEXT COLLATE "C" UNIQUE,
    shared_version    BIGINT,
    status            TEXT NOT NULL CHECK (status IN ('active', 'inactive', 'revoked')),
    generation        BIGINT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    created_by        TEXT NOT NULL,
    last_accessed_at  TIMESTAMPTZ,
    FOREIGN KEY (portal_id, shared_version) REFERENCES shared_secrets(portal_id, version)
);
CREATE INDEX credentials_portal_kind ON credentials(portal_id, kind);
CREATE UNIQUE INDEX credentials_user_key ON credentials(user_id) WHERE kind = 'user_key';
CREATE INDEX credentials_shared ON credentials(portal_id, shared_version);
CREATE INDEX credentials_creator ON credentials(creator_id);

CREATE TABLE oauth_tokens (
    token_hash  TEXT COLLATE "C" PRIMARY KEY,
    client_id   TEXT COLLATE "C" NOT NULL REFERENCES credentials(id) ON DELETE CASCADE,
    portal_id   TEXT COLLATE "C" NOT NULL REFERENCES portals(id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX oauth_tokens_client ON oauth_tokens(client_id);
CREATE INDEX oauth_tokens_expiry ON oauth_tokens(expires_at);

-- portal_id has no foreign key: entries outlive portals, and failed sign-ins have no portal ('').
CREATE TABLE audit_log (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    portal_id    TEXT COLLATE "C" NOT NULL,
    at           TIMESTAMPTZ NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    target       TEXT NOT NULL,
    remote_addr  TEXT NOT NULL,
    detail       TEXT NOT NULL
);
CREATE INDEX audit_portal_at ON audit_log(portal_id, at);
