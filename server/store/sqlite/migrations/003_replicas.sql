-- 003: PostgreSQL's replica presence (server/store/postgres/migrations/003_replicas.sql). A single SQLite
-- server has no replicas; this placeholder keeps both stores' migration numbers in step.
SELECT 1;
