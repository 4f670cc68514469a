package events

import (
	"context"
	"slices"
	"sync"

	"printdock/server/store"
)

// The live tail: one reader per process follows each portal's log that has live subscribers (the event
// stream) and fans every new event out in memory, so N subscribers cost one store read per wake-up,
// not N. Each subscriber has a bounded buffer; one that falls behind is not waited for: its
// subscription is marked Lagged and gets nothing more, and its reader resumes from the store after
// the last event it sent (then subscribes again). A failed tail read marks every subscriber of the
// portal lagged the same way. No event is skipped silently.

// SubBuffer is how many events a subscription holds before it is marked lagged.
var SubBuffer = 256

// tailBatch is how many events the tail reads per store query.
const tailBatch = 500

// Sub is a live subscription to one portal's new events (those the tail reads after Subscribe).
type Sub struct {
	// C delivers the subscription's events, oldest first. It is never closed.
	C         <-chan Event
	c         chan Event
	lagged    chan struct{} // closed when the subscription fell behind (or a tail read failed)
	lagOnce   sync.Once
	types     []string
	printerID string
	pt        *portalTail
	b         *Bus
}

// Lagged returns a channel closed when events stopped reaching C: the reader must read the log from
// the store after the last event it handled, then subscribe again.
func (s *Sub) Lagged() <-chan struct{} { return s.lagged }

// Close ends the subscription (safe to call more than once).
func (s *Sub) Close() {
	s.b.tmu.Lock()
	delete(s.pt.subs, s)
	s.b.tmu.Unlock()
}

func (s *Sub) lag() { s.lagOnce.Do(func() { close(s.lagged) }) }

func (s *Sub) wants(e Event) bool {
	return (len(s.types) == 0 || slices.Contains(s.types, e.Type)) && (s.printerID == "" || s.printerID == e.PrinterID)
}

// portalTail is the tail's position in one portal's log and the portal's subscriptions.
type portalTail struct {
	id     string
	cursor int64 // the last event read and fanned out
	subs   map[*Sub]struct{}
}

// Subscribe returns a subscription to the portal's events of the given types (all when empty) and
// printer ("" for all) that the tail reads from now on. Events committed before Subscribe returned may
// or may not arrive on it: a reader first reads the store after its cursor, then takes C, skipping IDs
// it has already sent.
func (b *Bus) Subscribe(ctx context.Context, portalID string, types []string, printerID string) (*Sub, error) {
	b.tmu.Lock()
	defer b.tmu.Unlock()
	pt := b.tails[portalID]
	if pt == nil {
		// Under tmu, so the tail does not run for this portal before its cursor is set.
		last, err := b.Last(ctx, portalID)
		if err != nil {
			return nil, err
		}
		pt = &portalTail{id: portalID, cursor: last, subs: map[*Sub]struct{}{}}
		b.tails[portalID] = pt
	}
	c := make(chan Event, SubBuffer)
	s := &Sub{C: c, c: c, lagged: make(chan struct{}), types: types, printerID: printerID, pt: pt, b: b}
	pt.subs[s] = struct{}{}
	return s, nil
}

// tail reads each subscribed portal's new events once and fans them out. Called by Run after every
// wake-up (events have committed), one call at a time.
func (b *Bus) tail(ctx context.Context) {
	b.tmu.Lock()
	pts := make([]*portalTail, 0, len(b.tails))
	for _, pt := range b.tails {
		if len(pt.subs) > 0 {
			pts = append(pts, pt)
		}
	}
	b.tmu.Unlock()
	for _, pt := range pts {
		b.tailPortal(ctx, pt)
	}
}

func (b *Bus) tailPortal(ctx context.Context, pt *portalTail) {
	for {
		b.tmu.Lock()
		after := pt.cursor
		b.tmu.Unlock()
		evs, err := b.Read(ctx, store.EventFilter{PortalID: pt.id, After: after, Limit: tailBatch})
		b.tmu.Lock()
		if err != nil {
			if ctx.Err() == nil {
				b.log.Warn("events: tail read; subscribers resume from the store", "err", err)
			}
			// The subscribers re-read after their own cursors; the tail skips to the end so it does not
			// fail on the same read again and again.
			for s := range pt.subs {
				s.lag()
				delete(pt.subs, s)
			}
			if last, lerr := b.st.LastEventID(ctx, pt.id); lerr == nil {
				pt.cursor = last
			}
			b.tmu.Unlock()
			return
		}
		for _, e := range evs {
			for s := range pt.subs {
				if !s.wants(e) {
					continue
				}
				select {
				case s.c <- e:
				default:
					s.lag()
					delete(pt.subs, s)
				}
			}
			pt.cursor = e.ID
		}
		b.tmu.Unlock()
		if len(evs) < tailBatch {
			return
		}
	}
}
