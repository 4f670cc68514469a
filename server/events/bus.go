package events

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"printdock/server/store"
)

// Channel is the store notification channel on which Record announces new events (payload: the portal
// ID) to every replica.
const Channel = "printdock_events"

// signal is a broadcast: wait returns a channel that the next broadcast closes.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func newSignal() *signal { return &signal{ch: make(chan struct{})} }

func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ch
}

func (s *signal) broadcast() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.ch)
	s.ch = make(chan struct{})
}

// local is the in-process wake-up of Record for stores that cannot notify (SQLite, one process). It is
// process-wide: Record knows only its transaction. A server that shares the process with another (tests)
// only wakes more often.
var local = newSignal()

// Store is what a Bus needs of the store.
type Store interface {
	InTx(ctx context.Context, fn func(tx store.Store) error) error
	ListEvents(ctx context.Context, f store.EventFilter) ([]store.Event, error)
	LastEventID(ctx context.Context, portalID string) (int64, error)
}

// Bus tells readers of the log (the event stream, the webhook sender) that new events may have
// committed. Readers take Changed, read the log after their cursor, and wait on the channel when there
// was nothing new.
type Bus struct {
	st  Store
	log *slog.Logger
	sig *signal
	// first is the in-process wake-up channel taken by NewBus, so that an event recorded between NewBus
	// and Run wakes readers too (Run may start later than the first transaction).
	first <-chan struct{}

	tmu   sync.Mutex // guards tails and their subscriptions (tail.go)
	tails map[string]*portalTail
}

// NewBus returns a Bus on st; Run makes it follow new events.
func NewBus(st Store, log *slog.Logger) *Bus {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Bus{st: st, log: log, sig: newSignal(), first: local.wait(), tails: map[string]*portalTail{}}
}

// Changed returns a channel closed when new events may have committed after this call.
func (b *Bus) Changed() <-chan struct{} { return b.sig.wait() }

// Wake closes the Changed channels (for callers that know of a change the Bus does not).
func (b *Bus) Wake() { b.sig.broadcast() }

// Run follows new events until ctx is done, and after each wake-up fans the new events out to the live
// subscriptions (tail.go): the store's notifications when it is a store.Notifier
// (every replica's events), and Record's in-process wake-ups otherwise. An in-process wake-up comes from
// inside the recording transaction, before it commits: Run then waits for an empty transaction of its
// own, which the SQLite store commits only after every transaction queued before it (group commit,
// store/sqlite/writer.go), before waking readers.
func (b *Bus) Run(ctx context.Context) {
	var notes <-chan store.Notification
	if n, ok := b.st.(store.Notifier); ok {
		var err error
		if notes, err = n.Listen(ctx, Channel); err != nil {
			b.log.Error("events: listen for new events; readers poll", "err", err)
		}
	}
	lw := b.first
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-notes:
			if !ok {
				notes = nil
				continue
			}
			b.sig.broadcast()
			b.tail(ctx)
		case <-lw:
			lw = local.wait() // before the barrier: a wake-up during it is seen next round
			if err := b.st.InTx(ctx, func(store.Store) error { return nil }); err != nil && ctx.Err() == nil {
				b.log.Warn("events: wait for commit", "err", err)
			}
			b.sig.broadcast()
			b.tail(ctx)
		}
	}
}

// Read returns the events f selects, oldest first.
func Read(ctx context.Context, st Store, f store.EventFilter) ([]Event, error) {
	es, err := st.ListEvents(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("events: read: %w", err)
	}
	out := make([]Event, len(es))
	for i, e := range es {
		out[i] = Of(e)
	}
	return out, nil
}

// Read returns the events f selects from the Bus's store, oldest first.
func (b *Bus) Read(ctx context.Context, f store.EventFilter) ([]Event, error) {
	return Read(ctx, b.st, f)
}

// Last returns the portal's latest event ID (0 when none).
func (b *Bus) Last(ctx context.Context, portalID string) (int64, error) {
	id, err := b.st.LastEventID(ctx, portalID)
	if err != nil {
		return 0, fmt.Errorf("events: last: %w", err)
	}
	return id, nil
}
