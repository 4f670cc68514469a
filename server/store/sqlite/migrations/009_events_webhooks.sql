-- printdock schema v9: the durable event log (server/events) and webhooks with their delivery outbox
-- (server/webhooks). Append-only.

-- Every event of a portal, in id order; data is JSON and never holds a secret. subject orders deliveries
-- (a job, client, printer or credential ID); printer_id serves the event stream's printer filter.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id   TEXT NOT NULL,
    type        TEXT NOT NULL,
    at          BIGINT NOT NULL,
    subject     TEXT NOT NULL,
    printer_id  TEXT NOT NULL,
    data        TEXT NOT NULL
);
CREATE INDEX events_portal ON events(portal_id, id);

-- Webhook endpoints. events: space-separated event types, '' for all. secret: the signing secret sealed
-- with a key derived from the server's pepper.
CREATE TABLE webhooks (
    id           TEXT PRIMARY KEY,
    portal_id    TEXT NOT NULL REFERENCES portals(id) ON DELETE CASCADE,
    url          TEXT NOT NULL,
    events       TEXT NOT NULL,
    description  TEXT NOT NULL,
    enabled      INTEGER NOT NULL,
    secret       BLOB NOT NULL,
    created_at   BIGINT NOT NULL,
    created_by   TEXT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX webhooks_portal ON webhooks(portal_id);

-- One delivery per (event, webhook), written with the event. state: pending, delivered, failed. A claimed
-- delivery stays pending with next_attempt_at moved to the end of its lease.
CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id       TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id         INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    subject          TEXT NOT NULL,
    state            TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    next_attempt_at  BIGINT NOT NULL,
    last_attempt_at  BIGINT,
    last_status      INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT NOT NULL DEFAULT '',
    delivered_at     BIGINT,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, next_attempt_at);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries(webhook_id, id);
CREATE INDEX webhook_deliveries_subject ON webhook_deliveries(webhook_id, subject, event_id);
