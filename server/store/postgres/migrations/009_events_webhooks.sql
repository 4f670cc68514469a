-- printdock schema v9: the durable event log (server/events) and webhooks with their delivery outbox
-- (server/webhooks). Append-only.

-- Every event of a portal, in id order; data is JSON and never holds a secret. subject orders deliveries
-- (a job, client, printer or credential ID); printer_id serves the event stream's printer filter.
-- Inserts take a transaction-level advisory lock (store/postgres/events.go) so that ids commit in order.
CREATE TABLE events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    portal_id   TEXT COLLATE "C" NOT NULL,
    type        TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    subject     TEXT COLLATE "C" NOT NULL,
    printer_id  TEXT COLLATE "C" NOT NULL,
    data        TEXT NOT NULL
);
CREATE INDEX events_portal ON events(portal_id, id);

-- Webhook endpoints. events: space-separated event types, '' for all. secret: the signing secret sealed
-- with a key derived from the server's pepper.
CREATE TABLE webhooks (
    id           TEXT COLLATE "C" PRIMARY KEY,
    portal_id    TEXT COLLATE "C" NOT NULL REFERENCES portals(id) ON DELETE CASCADE,
    url          TEXT NOT NULL,
    events       TEXT NOT NULL,
    description  TEXT NOT NULL,
    enabled      BOOLEAN NOT NULL,
    secret       BYTEA NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    created_by   TEXT NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhooks_portal ON webhooks(portal_id);

-- One delivery per (event, webhook), written with the event. state: pending, delivered, failed. A claimed
-- delivery stays pending with next_attempt_at moved to the end of its lease.
CREATE TABLE webhook_deliveries (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id       TEXT COLLATE "C" NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id         BIGINT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    subject          TEXT COLLATE "C" NOT NULL,
    state            TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    created_at       TIMESTAMPTZ NOT NULL,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    last_attempt_at  TIMESTAMPTZ,
    last_status      INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT NOT NULL DEFAULT '',
    delivered_at     TIMESTAMPTZ,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, next_attempt_at);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries(webhook_id, id);
CREATE INDEX webhook_deliveries_subject ON webhook_deliveries(webhook_id, subject, event_id);
