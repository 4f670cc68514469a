package jobs

import (
	"context"

	"printdock/server/store"
)

// Queries are the store methods the job queue calls, inside and outside transactions: every method of
// the store's agents, printers and jobs (store.ClientStore, store.PrinterStore, store.JobStore), the event
// log (store.EventStore, through package events), and nothing of its keys, users or audit log.
type Queries interface {
	store.ClientStore
	store.PrinterStore
	store.JobStore
	store.EventStore
}

// Store is what the job queue needs of its store (store/sqlite, store/postgres). A function run by InTx
// gets the whole transaction (store.Store, which Options.Queued receives too) and may run more than once
// (see store.Store.InTx). A store.Store is a Store.
type Store interface {
	Queries
	InTx(ctx context.Context, fn func(tx store.Store) error) error
}

var _ Store = store.Store(nil)
