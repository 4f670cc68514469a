-- printdock schema v14: printer alert events (issue 15). When the alert sweep raised the printer's alert
-- (recorded printer.status_changed with alert true); NULL while it is not raised. The sweep's conditional
-- update makes each raise and clear happen once across restarts and replicas. Append-only.
ALTER TABLE printers ADD COLUMN alert_raised_at TIMESTAMPTZ;
