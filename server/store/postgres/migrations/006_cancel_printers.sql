-- printdock PostgreSQL schema v4 (server/store/sqlite/migrations/004_cancel_printers.sql is its twin): cancel that
-- really cancels, and what agents know of their printers. Append-only.

-- The features of the client's latest hello (protocol.Hello.Features, space-separated): whether its agent
-- understands `cancel`, even while it is offline.
ALTER TABLE clients ADD COLUMN features TEXT NOT NULL DEFAULT '';

-- What the agent reports of each printer: command language (zpl, epl, tspl, dpl, escpos, unknown), print
-- resolution, and how it learns the printer's status (auto, zpl, none). '' and 0 when it does not say.
ALTER TABLE printers ADD COLUMN language TEXT NOT NULL DEFAULT '';
ALTER TABLE printers ADD COLUMN dpi INTEGER NOT NULL DEFAULT 0;
ALTER TABLE printers ADD COLUMN status_mode TEXT NOT NULL DEFAULT '';

-- A cancel requested for a job its agent already holds: the agent's answer decides the job's end; the job
-- is never delivered again.
ALTER TABLE jobs ADD COLUMN cancel_requested_at TIMESTAMPTZ;
ALTER TABLE jobs ADD COLUMN cancel_requested_by TEXT NOT NULL DEFAULT '';
