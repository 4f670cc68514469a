-- printdock schema v16: the index that finds a client's jobs to deliver holds its live jobs only (queued
-- or sent), instead of every job the client ever had by state. Its entry moved at every state change,
-- so each job's life wrote one more page of it per state, in a region of the client's own ('done' grew
-- for ever); the live jobs of every client now fit in a few pages that a group commit writes once.
-- PendingJobs and CancelsFor name the same condition (sqlq.ClientLive) so that SQLite uses it.
-- Nothing else looked jobs up by client (the foreign key to clients is not enforced by a lookup: no
-- client row is ever deleted). Append-only.
DROP INDEX jobs_client_state;
CREATE INDEX jobs_client_live ON jobs(client_id, created_at) WHERE state IN ('queued', 'sent');
