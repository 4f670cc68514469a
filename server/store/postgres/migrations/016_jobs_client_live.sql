-- printdock schema v16 (SQLite's v16 is its twin): the index that finds a client's jobs to deliver holds
-- its live jobs only (queued or sent), instead of every job the client ever had by state, which every
-- state change updated. PendingJobs and CancelsFor name the same condition (sqlq.ClientLive). Append-only.
DROP INDEX jobs_client_state;
CREATE INDEX jobs_client_live ON jobs(client_id, created_at) WHERE state IN ('queued', 'sent');
