-- printdock schema v4: retention (server/store/retention) and settings. Append-only.

-- Job content moves to a table of its own: dropping the content of a finished job (retention) then frees
-- whole pages, which new jobs reuse, where emptying a column would leave every jobs page mostly empty.
-- A finished job whose content was dropped has no row here (its size stays in jobs).
CREATE TABLE job_content (
    job_id   TEXT PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
    content  BLOB NOT NULL
);
INSERT INTO job_content (job_id, content) SELECT id, content FROM jobs ORDER BY created_at;
ALTER TABLE jobs DROP COLUMN content;

-- Finished jobs by age, and audit entries by age: what retention deletes.
CREATE INDEX jobs_finished ON jobs(finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX audit_at ON audit_log(at);

-- Values set once and checked on every start (the pepper's fingerprint), as in PostgreSQL's 003.
CREATE TABLE settings (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
