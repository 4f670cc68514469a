-- printdock schema v11: printer alerts (issue 15). When a printer's status (or presence) last changed, so
-- the portal can tell how long it has been out of media, head open or offline. Append-only.
ALTER TABLE printers ADD COLUMN status_since BIGINT NOT NULL DEFAULT 0;
UPDATE printers SET status_since = updated_at;
