-- printdock schema v4: retention (server/store/retention). Append-only.

-- Finished jobs by age (those that still have content apart), and audit entries by age: what retention
-- drops and deletes. Content stays in jobs here: PostgreSQL keeps large values apart (TOAST) and vacuum
-- reuses the space of emptied ones.
CREATE INDEX jobs_finished ON jobs(finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX jobs_finished_content ON jobs(finished_at) WHERE finished_at IS NOT NULL AND octet_length(content) > 0;
CREATE INDEX audit_at ON audit_log(at);
