package store

import (
	"context"
	"errors"
)

// Cross-replica notifications. A store that several printdock-server replicas share (store/postgres)
// carries small messages between them, so that a change made on one replica (a key rotated, a job
// submitted) reaches the websocket sessions held by the others. The embedded SQLite store serves one
// process and does not implement Notifier; callers check with a type assertion and fall back to their
// in-process delivery.
//
// Delivery is at most once per listener and in order per sending session; a listener whose connection
// drops gets a Notification with Missed set after reconnecting (notifications sent meanwhile are lost) and
// should then re-check whatever it caches. Every replica, including the sender, receives each
// notification, so payloads should let a replica recognise its own.

// MaxNotifyPayload is the largest payload Notify accepts, in bytes (PostgreSQL's limit is 8000 bytes
// including a terminating NUL).
const MaxNotifyPayload = 7999

// ErrPayloadTooLarge is returned by Notify for a payload longer than MaxNotifyPayload.
var ErrPayloadTooLarge = errors.New("store: notification payload too large")

// Publisher sends notifications. Notifier stores implement it, and so does the Store that their InTx
// passes to fn: a notification sent inside a transaction is delivered when it commits, never if it rolls
// back.
type Publisher interface {
	// Notify sends payload (at most MaxNotifyPayload bytes) on channel (a short name of letters, digits
	// and '_') to every listener of the channel on every replica.
	Notify(ctx context.Context, channel, payload string) error
}

// Notifier is a store shared by several replicas that can publish and listen.
type Notifier interface {
	Publisher
	// Listen subscribes to channel. It returns once the subscription is in effect (a notification sent
	// after Listen returns is delivered), or an error when the store cannot listen now. The channel of
	// notifications is closed when ctx is done or the store is closed. A subscriber that does not read
	// costs memory, not other subscribers' latency: nothing is dropped while it stays subscribed.
	Listen(ctx context.Context, channel string) (<-chan Notification, error)
}

// Notification is one message received by Listen.
type Notification struct {
	Channel string
	Payload string
	// Missed reports that the listening connection was lost and has been re-established: notifications
	// sent in between were lost. Payload is empty. The subscriber should re-check its state (for example
	// re-validate live sessions, or look for pending jobs).
	Missed bool
}
