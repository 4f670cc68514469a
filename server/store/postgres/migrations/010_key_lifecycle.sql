-- printdock schema v8: the key lifecycle of issue 15. Per-portal settings (name/value, defaults in package
-- keys); when a credential was last activated ("check this key": used since then?) and when it expires.
-- Append-only.
CREATE TABLE portal_settings (
    portal_id  TEXT COLLATE "C" NOT NULL REFERENCES portals(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (portal_id, name)
);
ALTER TABLE credentials ADD COLUMN activated_at TIMESTAMPTZ;
ALTER TABLE credentials ADD COLUMN expires_at TIMESTAMPTZ;
