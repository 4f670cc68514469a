-- printdock schema v15: no change on PostgreSQL. (SQLite's v15 queues an event's webhook deliveries by a
-- trigger in the event's INSERT; here AppendEvent already does both in one statement.) Append-only.
SELECT 1;
