-- printdock schema v11: rolling a key with a grace period (issue 15). After a roll with a grace, the
-- credential keeps the previous secret's hash until previous_expires_at, and when and from where the old
-- secret was last used (so the portal lists who still has to switch). Append-only.
ALTER TABLE credentials ADD COLUMN previous_hash TEXT COLLATE "C";
ALTER TABLE credentials ADD COLUMN previous_expires_at TIMESTAMPTZ;
ALTER TABLE credentials ADD COLUMN previous_used_at TIMESTAMPTZ;
ALTER TABLE credentials ADD COLUMN previous_used_from TEXT NOT NULL DEFAULT '';
CREATE INDEX credentials_previous_hash ON credentials (previous_hash) WHERE previous_hash IS NOT NULL;
