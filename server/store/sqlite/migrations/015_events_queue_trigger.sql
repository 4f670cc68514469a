-- printdock schema v15: an event's webhook deliveries are queued by a trigger on events, in the INSERT
-- of the event itself, instead of by a second statement after it (the single writer ran that statement
-- for every event: a sixth of the statements of a job's life). Same rows as before: one pending delivery
-- per enabled webhook of the event's portal subscribed to its type (events '' means every type), created
-- and due at the event's time. Append-only.
CREATE TRIGGER events_queue_deliveries AFTER INSERT ON events
BEGIN
    INSERT INTO webhook_deliveries (webhook_id, event_id, subject, state, created_at, next_attempt_at)
    SELECT w.id, NEW.id, NEW.subject, 'pending', NEW.at, NEW.at FROM webhooks w
    WHERE w.portal_id = NEW.portal_id AND w.enabled = 1
        AND (w.events = '' OR ' ' || w.events || ' ' LIKE '% ' || NEW.type || ' %');
END;
