-- printdock schema v8: indexes in the order of the keyset-paginated lists (store.Page), so that a page is a
-- range scan instead of a sort of the portal's rows. Append-only.
CREATE INDEX users_portal_email ON users(portal_id, email, id);
CREATE INDEX credentials_portal_created ON credentials(portal_id, created_at, id);
CREATE INDEX clients_portal_first_seen ON clients(portal_id, first_seen_at, id);
CREATE INDEX printers_portal_name ON printers(portal_id, name, id);
