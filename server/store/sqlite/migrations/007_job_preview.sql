-- printdock schema v7: the preview of a PDF or PNG label as submitted (a 1-bit PNG of the dots sent), kept
-- beside the job's content and dropped with it by retention (it shows the same customer data). Append-only.
CREATE TABLE job_preview (
    job_id  TEXT PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
    png     BLOB NOT NULL
);
