package keys

import (
	"log/slog"
	"sync"
)

// Event delivery. Publishing never blocks and never drops: every subscriber has its own unbounded FIFO
// queue drained by its own goroutine into the subscriber's channel (buffered, eventBuffer events). A slow
// subscriber therefore costs memory, not latency, and a logout cannot be lost; the queue length is logged
// at every multiple of queueWarn so a stuck subscriber shows up. Events are published after the change is
// committed, in commit order per publishing goroutine. Cancel stops delivery and closes the channel;
// queued events are then discarded.
//
// An Event with Reason "" ends no session: it only tells caches of the credentials (or users) it names
// that what they verified changed (a user's role), so Hub.Apply ignores it.
//
// Across replicas (PostgreSQL) the hub also needs the store's notifications; this broker is in-process.
const (
	eventBuffer = 64
	queueWarn   = 1024
)

type broker struct {
	log  *slog.Logger
	drop func(ids []string) // the verified-credential cache's, before any subscriber hears of the change
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

type subscriber struct {
	mu    sync.Mutex
	queue []Event
	wake  chan struct{}
	done  chan struct{}
	out   chan Event
}

// Subscribe returns a channel of change events and a cancel function (safe to call more than once).
func (s *Service) Subscribe() (<-chan Event, func()) { return s.events.subscribe() }

func (b *broker) subscribe() (<-chan Event, func()) {
	sub := &subscriber{
		wake: make(chan struct{}, 1),
		done: make(chan struct{}),
		out:  make(chan Event, eventBuffer),
	}
	b.mu.Lock()
	if b.subs == nil {
		b.subs = make(map[*subscriber]struct{})
	}
	b.subs[sub] = struct{}{}
	b.mu.Unlock()
	go sub.run()
	var once sync.Once
	return sub.out, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, sub)
			b.mu.Unlock()
			close(sub.done)
		})
	}
}

func (b *broker) publish(ev Event) {
	if len(ev.CredentialIDs) == 0 {
		return
	}
	ev.CredentialIDs = append([]string(nil), ev.CredentialIDs...)
	if b.drop != nil {
		b.drop(ev.CredentialIDs)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for sub := range b.subs {
		sub.mu.Lock()
		sub.queue = append(sub.queue, ev)
		n := len(sub.queue)
		sub.mu.Unlock()
		if n%queueWarn == 0 && b.log != nil {
			b.log.Warn("keys: event subscriber is slow", "queued", n)
		}
		select {
		case sub.wake <- struct{}{}:
		default:
		}
	}
}

func (sub *subscriber) run() {
	defer close(sub.out)
	for {
		sub.mu.Lock()
		if len(sub.queue) == 0 {
			sub.mu.Unlock()
			select {
			case <-sub.wake:
				continue
			case <-sub.done:
				return
			}
		}
		ev := sub.queue[0]
		sub.queue[0] = Event{}
		sub.queue = sub.queue[1:]
		if len(sub.queue) == 0 {
			sub.queue = nil // let the backing array go
		}
		sub.mu.Unlock()
		select {
		case sub.out <- ev:
		case <-sub.done:
			return
		}
	}
}
