-- printdock PostgreSQL schema v3 (PostgreSQL only: the SQLite store serves one process): the replicas
-- sharing this schema, which of them holds each agent's live sessions, and settings every replica must
-- agree on. Append-only.

-- One row per running printdock-server process (DB). seen_at is its heartbeat (the database's clock); a
-- replica not seen for a while is considered gone and its agents' sessions are forgotten.
CREATE TABLE replicas (
    id          TEXT COLLATE "C" PRIMARY KEY,
    info        TEXT NOT NULL,               -- host name and process ID, for operators
    started_at  TIMESTAMPTZ NOT NULL,
    seen_at     TIMESTAMPTZ NOT NULL
);

-- Live sessions of a client per replica. clients.sessions is their sum over live replicas. replica_id has
-- no foreign key: rows of a replica that vanished are swept (and subtracted) by the others.
CREATE TABLE client_presence (
    replica_id  TEXT COLLATE "C" NOT NULL,
    client_id   TEXT COLLATE "C" NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    sessions    BIGINT NOT NULL CHECK (sessions >= 0),
    PRIMARY KEY (replica_id, client_id)
);
CREATE INDEX client_presence_client ON client_presence(client_id);

-- Settings every replica must agree on (e.g. a fingerprint of the pepper). Written once.
CREATE TABLE settings (
    name   TEXT COLLATE "C" PRIMARY KEY,
    value  TEXT NOT NULL
);

-- Session counts from before per-replica presence cannot be attributed to a replica.
UPDATE clients SET sessions = 0 WHERE sessions <> 0;
