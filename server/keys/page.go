package keys

import "printdock/server/store"

// Positions of the rows of the paged lists (see store.Key).

// Key is the user's position in ListUsers (by e-mail).
func (u User) Key() store.Key { return store.NameKey(u.Email, u.ID) }

// Key is the key's position in ListClientKeys and SharedDevices (oldest first).
func (k ClientKey) Key() store.Key { return store.TimeKey(k.CreatedAt, k.ID) }

// Key is the client's position in ListOAuthClients (oldest first).
func (c OAuthClient) Key() store.Key { return store.TimeKey(c.CreatedAt, c.ID) }

// Key is the entry's position in Audit (newest first).
func (e AuditEntry) Key() store.Key { return store.SeqKey(e.At, e.ID) }
