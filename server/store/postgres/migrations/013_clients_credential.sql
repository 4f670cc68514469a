-- printdock schema v13: one secret per installation (issue 15). A connecting agent looks up the other
-- live installations of its credential (OtherLiveInstallation); CountClients counts its clients. Append-only.
CREATE INDEX clients_credential ON clients(portal_id, credential_id);
