package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"printdock/server/store"
)

// Notifications: NOTIFY goes through the pool (or the transaction, delivered at commit); LISTEN runs on
// one dedicated connection per DB, opened by the first Listen and kept (reconnecting) until Close. The
// PostgreSQL channel is "<schema>.<channel>", so that stores in different schemas of one database (tests,
// several deployments) do not hear each other.

const (
	// listenHealth is how often an idle listening connection is pinged (a dead peer otherwise goes
	// unnoticed until TCP keepalive gives up).
	listenHealth = 30 * time.Second
	// reconnectMax caps the wait between attempts to re-establish the listening connection.
	reconnectMax = 5 * time.Second
	// maxIdentifier is PostgreSQL's identifier length limit (NAMEDATALEN - 1).
	maxIdentifier = 63
)

var errListenerClosed = errors.New("postgres: listen: store closed")

// channelName returns the PostgreSQL channel for channel in schema.
func channelName(schema, channel string) (string, error) {
	if channel == "" {
		return "", errors.New("empty channel name")
	}
	for _, r := range channel {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return "", fmt.Errorf("channel %q: only letters, digits and '_' are allowed", channel)
		}
	}
	name := schema + "." + channel
	if len(name) > maxIdentifier {
		return "", fmt.Errorf("channel %q: %q is longer than %d bytes", channel, name, maxIdentifier)
	}
	return name, nil
}

func (q q) notify(ctx context.Context, schema, channel, payload string) error {
	name, err := channelName(schema, channel)
	if err != nil {
		return fmt.Errorf("postgres: notify: %w", err)
	}
	if len(payload) > store.MaxNotifyPayload {
		return fmt.Errorf("postgres: notify: %d bytes: %w", len(payload), store.ErrPayloadTooLarge)
	}
	_, err = q.exec(ctx, "notify", `SELECT pg_notify($1, $2)`, name, payload)
	return err
}

// Notify sends payload on channel to every listener of every store on this database and schema.
func (db *DB) Notify(ctx context.Context, channel, payload string) error {
	return db.q.notify(ctx, db.schema, channel, payload)
}

// Notify inside a transaction is delivered when the transaction commits (never if it rolls back).
func (t *txStore) Notify(ctx context.Context, channel, payload string) error {
	return t.q.notify(ctx, t.db.schema, channel, payload)
}

// Listen subscribes to channel; see store.Notifier.
func (db *DB) Listen(ctx context.Context, channel string) (<-chan store.Notification, error) {
	name, err := channelName(db.schema, channel)
	if err != nil {
		return nil, fmt.Errorf("postgres: listen: %w", err)
	}
	return db.lis.listen(ctx, channel, name)
}

// listener owns the listening connection and the subscriptions.
type listener struct {
	cfg    *pgx.ConnConfig
	ctx    context.Context // ends at close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	subs      map[string]map[*sub]struct{} // PostgreSQL channel → subscribers
	version   uint64                       // changes whenever subs does
	interrupt context.CancelFunc           // ends the current wait so that the loop re-reads subs
	running   bool
	closed    bool
}

func newListener(cfg *pgx.ConnConfig) *listener {
	cfg.RuntimeParams["application_name"] += " (listener)"
	ctx, cancel := context.WithCancel(context.Background())
	return &listener{cfg: cfg, ctx: ctx, cancel: cancel, subs: make(map[string]map[*sub]struct{})}
}

// sub is one Listen subscription: an unbounded FIFO drained into out by its own goroutine, so the
// listening loop never blocks on a slow subscriber and nothing is dropped.
type sub struct {
	channel, name string
	ready         chan error // the first activation (nil) or failure
	active        bool       // LISTEN is in effect on the current connection (guarded by listener.mu)
	activated     bool       // was active once (guarded by listener.mu)
	missed        bool       // lost the connection since; owes a Missed notification (guarded by listener.mu)

	mu    sync.Mutex
	queue []store.Notification
	wake  chan struct{}
	done  chan struct{}
	out   chan store.Notification
}

func (s *sub) push(n store.Notification) {
	s.mu.Lock()
	s.queue = append(s.queue, n)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *sub) run() {
	defer close(s.out)
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.mu.Unlock()
			select {
			case <-s.wake:
				continue
			case <-s.done:
				return
			}
		}
		n := s.queue[0]
		s.queue[0] = store.Notification{}
		s.queue = s.queue[1:]
		if len(s.queue) == 0 {
			s.queue = nil
		}
		s.mu.Unlock()
		select {
		case s.out <- n:
		case <-s.done:
			return
		}
	}
}

func (l *listener) listen(ctx context.Context, channel, name string) (<-chan store.Notification, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("postgres: listen: %w", err)
	}
	s := &sub{channel: channel, name: name, ready: make(chan error, 1), wake: make(chan struct{}, 1),
		done: make(chan struct{}), out: make(chan store.Notification, 16)}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, errListenerClosed
	}
	if l.subs[name] == nil {
		l.subs[name] = make(map[*sub]struct{})
	}
	l.subs[name][s] = struct{}{}
	l.changedLocked()
	if !l.running {
		l.running = true
		l.wg.Add(1)
		go l.loop()
	}
	l.wg.Add(2)
	l.mu.Unlock()
	go func() {
		defer l.wg.Done()
		s.run()
	}()
	go func() {
		defer l.wg.Done()
		select {
		case <-ctx.Done():
		case <-l.ctx.Done():
		case <-s.done: // failed before activation
		}
		l.remove(s)
	}()
	select {
	case err := <-s.ready:
		if err != nil {
			l.remove(s)
			return nil, fmt.Errorf("postgres: listen: %w", err)
		}
		return s.out, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("postgres: listen: %w", ctx.Err())
	case <-l.ctx.Done():
		return nil, errListenerClosed
	}
}

// changedLocked records a change of subs and wakes the loop. l.mu is held.
func (l *listener) changedLocked() {
	l.version++
	if l.interrupt != nil {
		l.interrupt()
		l.interrupt = nil
	}
}

// remove ends s: no more deliveries, its channel closes. Safe to call more than once.
func (l *listener) remove(s *sub) {
	l.mu.Lock()
	if set := l.subs[s.name]; set != nil {
		if _, ok := set[s]; ok {
			delete(set, s)
			if len(set) == 0 {
				delete(l.subs, s.name)
			}
			l.changedLocked()
			close(s.done)
		}
	}
	l.mu.Unlock()
}

func (l *listener) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.cancel()
	l.wg.Wait()
}

// loop keeps a listening connection while the store is open.
func (l *listener) loop() {
	defer l.wg.Done()
	wait := 100 * time.Millisecond
	for l.ctx.Err() == nil {
		conn, err := pgx.ConnectConfig(l.ctx, l.cfg)
		if err != nil {
			if l.ctx.Err() != nil {
				return
			}
			l.failPending(err)
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-l.ctx.Done():
				t.Stop()
				return
			}
			wait = min(2*wait, reconnectMax)
			continue
		}
		wait = 100 * time.Millisecond
		err = l.serve(conn)
		closeConn(&pconn{Conn: conn})
		l.lost(err)
	}
}

// failPending fails the subscriptions that never became active (their Listen call is waiting).
func (l *listener) failPending(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, set := range l.subs {
		for s := range set {
			if !s.activated {
				select {
				case s.ready <- err:
				default:
				}
			}
		}
	}
}

// lost marks every active subscription as owing a Missed notification once listening again.
func (l *listener) lost(error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.interrupt = nil
	for _, set := range l.subs {
		for s := range set {
			if s.active {
				s.active, s.missed = false, true
			}
		}
	}
}

// serve runs LISTEN / UNLISTEN to match the subscriptions and delivers notifications until the
// connection fails or the store closes.
func (l *listener) serve(conn *pgx.Conn) error {
	listened := map[string]bool{}
	for {
		l.mu.Lock()
		want := make(map[string]bool, len(l.subs))
		for name := range l.subs {
			want[name] = true
		}
		ver := l.version
		l.mu.Unlock()
		for name := range want {
			if !listened[name] {
				if _, err := conn.Exec(l.ctx, `LISTEN `+pgx.Identifier{name}.Sanitize()); err != nil {
					return err
				}
				listened[name] = true
			}
		}
		for name := range listened {
			if !want[name] {
				if _, err := conn.Exec(l.ctx, `UNLISTEN `+pgx.Identifier{name}.Sanitize()); err != nil {
					return err
				}
				delete(listened, name)
			}
		}
		l.mu.Lock()
		if l.version != ver {
			l.mu.Unlock()
			continue
		}
		for _, set := range l.subs {
			for s := range set {
				if s.active {
					continue
				}
				s.active = true
				if !s.activated {
					s.activated = true
					select {
					case s.ready <- nil:
					default: // a connection failure was reported first; Listen has returned it
					}
				}
				if s.missed {
					s.missed = false
					s.push(store.Notification{Channel: s.channel, Missed: true})
				}
			}
		}
		wctx, cancel := context.WithTimeout(l.ctx, listenHealth)
		l.interrupt = cancel
		l.mu.Unlock()

		n, err := conn.WaitForNotification(wctx)
		interrupted := wctx.Err() == context.Canceled
		cancel()
		if n != nil {
			l.dispatch(n.Channel, n.Payload)
		}
		switch {
		case err == nil:
		case l.ctx.Err() != nil:
			return err
		case conn.IsClosed():
			return err
		case interrupted:
			// subscriptions changed: re-sync
		default: // idle for listenHealth: check the connection
			pctx, pcancel := context.WithTimeout(l.ctx, closeWait)
			err := conn.Ping(pctx)
			pcancel()
			if err != nil {
				return err
			}
		}
	}
}

func (l *listener) dispatch(name, payload string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for s := range l.subs[name] {
		if s.active {
			s.push(store.Notification{Channel: s.channel, Payload: payload})
		}
	}
}
