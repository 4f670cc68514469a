package jobs

import "printdock/server/store"

// Positions of the rows of the paged lists (see store.Key).

// Key is the job's position in List (newest first).
func (j Job) Key() store.Key { return store.TimeKey(j.CreatedAt, j.ID) }

// Key is the printer's position in ListPrinters (by name).
func (p Printer) Key() store.Key { return store.NameKey(p.Name, p.ID) }

// Key is the event's position in Events (oldest first).
func (e Event) Key() store.Key { return store.Key{Seq: e.Seq} }

// Key is the client's position in ListClients (first seen first).
func (c Client) Key() store.Key { return store.TimeKey(c.FirstSeenAt, c.ID) }
