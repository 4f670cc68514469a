-- printdock PostgreSQL schema v2 (mirrors store/sqlite 002_jobs.sql): agents (clients), their printers,
-- print jobs and job events. Append-only.

-- An agent installation as the server knows it. credential_id has no foreign key on purpose: deleting a
-- key must not erase the client's printers and job history.
CREATE TABLE clients (
    id               TEXT COLLATE "C" PRIMARY KEY,
    portal_id        TEXT COLLATE "C" NOT NULL REFERENCES portals(id) ON DELETE CASCADE,
    credential_id    TEXT COLLATE "C" NOT NULL,
    installation_id  TEXT NOT NULL,
    hostname         TEXT NOT NULL,
    agent_version    TEXT NOT NULL,
    os               TEXT NOT NULL,
    first_seen_at    TIMESTAMPTZ NOT NULL,
    last_seen_at     TIMESTAMPTZ NOT NULL,
    sessions         BIGINT NOT NULL DEFAULT 0,  -- live sessions now (online when > 0)
    session_seq      BIGINT NOT NULL DEFAULT 0   -- incremented on every connect
);
CREATE INDEX clients_portal ON clients(portal_id, first_seen_at);

CREATE TABLE printers (
    id             TEXT COLLATE "C" PRIMARY KEY,
    portal_id      TEXT COLLATE "C" NOT NULL REFERENCES portals(id) ON DELETE CASCADE,
    client_id      TEXT COLLATE "C" NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    uri            TEXT COLLATE "C" NOT NULL,
    name           TEXT COLLATE "C" NOT NULL,
    make           TEXT NOT NULL,
    model          TEXT NOT NULL,
    status         TEXT NOT NULL,
    reason         TEXT NOT NULL,
    present        BOOLEAN NOT NULL,              -- in the agent's latest printer list
    first_seen_at  TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (client_id, uri)
);
CREATE INDEX printers_portal ON printers(portal_id, name);

CREATE TABLE jobs (
    id               TEXT COLLATE "C" PRIMARY KEY,
    portal_id        TEXT COLLATE "C" NOT NULL REFERENCES portals(id) ON DELETE CASCADE,
    printer_id       TEXT COLLATE "C" NOT NULL REFERENCES printers(id) ON DELETE CASCADE,
    client_id        TEXT COLLATE "C" NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    title            TEXT NOT NULL,
    content          BYTEA NOT NULL,
    size             BIGINT NOT NULL,
    copies           INTEGER NOT NULL CHECK (copies BETWEEN 1 AND 1000),
    idempotency_key  TEXT COLLATE "C",
    fingerprint      TEXT NOT NULL,
    created_by       TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'printing', 'done', 'failed', 'cancelled', 'expired')),
    reason           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    sent_session     BIGINT NOT NULL DEFAULT 0,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    sent_at          TIMESTAMPTZ,
    received_at      TIMESTAMPTZ,
    printing_at      TIMESTAMPTZ,
    finished_at      TIMESTAMPTZ
);
CREATE UNIQUE INDEX jobs_idempotency ON jobs(portal_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_portal_created ON jobs(portal_id, created_at);
CREATE INDEX jobs_printer_created ON jobs(printer_id, created_at);
CREATE INDEX jobs_client_state ON jobs(client_id, state, created_at);
CREATE INDEX jobs_state_expiry ON jobs(state, expires_at);

-- Every state change (and every progress report that keeps the state) of a job, oldest first.
CREATE TABLE job_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id      TEXT COLLATE "C" NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    at          TIMESTAMPTZ NOT NULL,
    from_state  TEXT NOT NULL,   -- '' for the submission
    to_state    TEXT NOT NULL,
    reason      TEXT NOT NULL,
    actor       TEXT NOT NULL
);
CREATE INDEX job_events_job ON job_events(job_id, id);
