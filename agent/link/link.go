// Package link owns the agent's websocket connection to printdock-server: the dial, hello, the reader,
// heartbeats and the one goroutine that writes to the connection. Everything else enqueues messages
// with Conn.Send or Conn.Post (the shape of coder/websocket's chat example); only the writer goroutine
// writes. Dial and close errors come back as typed values (*DialError, *CloseError) that callers turn
// into words; the package holds no credentials beyond the header it is given for one dial.
package link

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"printdock/protocol"
)

// Timing.
const (
	DialTimeout      = 30 * time.Second
	WelcomeTimeout   = 15 * time.Second
	WriteTimeout     = 10 * time.Second
	DefaultHeartbeat = 30 * time.Second
	DeadAfter        = 3 // silent heartbeat intervals before the link is declared dead
	closeGrace       = time.Second
	sendQueue        = 64
)

// ErrClosed: the message was not sent because the connection has ended.
var ErrClosed = errors.New("link: connection closed")

// Config is what one connection needs.
type Config struct {
	URL        string // the websocket URL (ws:// or wss://)
	Header     http.Header
	HTTPClient *http.Client
	Hello      protocol.Hello
	// Heartbeat is how often to ping; 0 means the server's heartbeat_seconds, or DefaultHeartbeat.
	Heartbeat time.Duration
	Log       *slog.Logger
}

// Conn is one open connection. Its methods are safe for concurrent use.
type Conn struct {
	ws     *websocket.Conn
	log    *slog.Logger
	ctx    context.Context // ends when the connection is closed
	cancel context.CancelFunc
	wg     sync.WaitGroup

	sendq    chan outgoing
	stopped  chan struct{} // closed when the writer has exited
	failed   chan struct{} // closed after the first failed write
	failOnce sync.Once
	werr     error // the first failed write; set before failed is closed

	msgs     chan protocol.Message
	rerr     chan error
	lastSeen atomic.Int64 // unix nanoseconds of the last message read
}

type outgoing struct {
	name  string
	data  []byte
	close *websocket.StatusCode // a close frame instead of data
	why   string
	done  chan error // buffered; nil for Post
}

// testWriteHook, when set (tests), runs in the writer goroutine before every write.
var testWriteHook func()

// Dial opens the websocket and starts its reader and writer. It does not send hello. A failed dial is
// a *DialError, or ctx.Err() when ctx ended.
func Dial(ctx context.Context, cfg Config) (*Conn, error) {
	target, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("link: parse url: %w", err)
	}
	dctx, cancel := context.WithTimeout(ctx, DialTimeout)
	defer cancel()
	ws, resp, err := websocket.Dial(dctx, cfg.URL, &websocket.DialOptions{HTTPClient: cfg.HTTPClient, HTTPHeader: cfg.Header})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var body []byte
		if resp != nil && resp.Body != nil {
			body, _ = io.ReadAll(io.LimitReader(resp.Body, 4096))
		}
		return nil, ClassifyDial(target, resp, body, err)
	}
	ws.SetReadLimit(protocol.MaxMessageSize)
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// The connection outlives ctx until Close, so that a close frame can still be written after ctx ends.
	cctx, ccancel := context.WithCancel(context.WithoutCancel(ctx))
	c := &Conn{
		ws: ws, log: log, ctx: cctx, cancel: ccancel,
		sendq:   make(chan outgoing, sendQueue),
		stopped: make(chan struct{}),
		failed:  make(chan struct{}),
		msgs:    make(chan protocol.Message, 16),
		rerr:    make(chan error, 1),
	}
	c.lastSeen.Store(time.Now().UnixNano())
	c.wg.Add(2)
	go func() { defer c.wg.Done(); c.writer(cctx) }()
	go func() { defer c.wg.Done(); c.reader(cctx) }()
	return c, nil
}

// Close ends the connection at once and waits for its goroutines.
func (c *Conn) Close() {
	c.cancel()
	c.ws.CloseNow()
	c.wg.Wait()
}

// Go runs f in a goroutine that lives as long as the connection: its context ends when the
// connection is closed, and Close waits for it.
func (c *Conn) Go(f func(ctx context.Context)) {
	c.wg.Add(1)
	go func() { defer c.wg.Done(); f(c.ctx) }()
}

// Send enqueues m for the writer and waits until it is written (or failed, or ctx ended).
func (c *Conn) Send(ctx context.Context, m protocol.Message) error {
	o, err := encode(m)
	if err != nil {
		return err
	}
	o.done = make(chan error, 1)
	if err := c.enqueue(ctx, o); err != nil {
		return err
	}
	select {
	case err := <-o.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-c.stopped:
		select {
		case err := <-o.done:
			return err
		default:
			return ErrClosed
		}
	}
}

// Post enqueues m for the writer without waiting for the write; a failed write ends the session.
func (c *Conn) Post(ctx context.Context, m protocol.Message) {
	if o, err := encode(m); err == nil {
		_ = c.enqueue(ctx, o)
	}
}

func encode(m protocol.Message) (outgoing, error) {
	b, err := protocol.Encode(m)
	if err != nil {
		return outgoing{}, fmt.Errorf("link: encode %s: %w", m.MessageType(), err)
	}
	return outgoing{name: m.MessageType(), data: b}, nil
}

func (c *Conn) enqueue(ctx context.Context, o outgoing) error {
	select {
	case c.sendq <- o:
		return nil
	case <-c.stopped:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// closeWith sends a close frame through the writer (bounded by closeGrace) and then drops the socket.
func (c *Conn) closeWith(code websocket.StatusCode, why string) {
	o := outgoing{name: "close", close: &code, why: why, done: make(chan error, 1)}
	ctx, cancel := context.WithTimeout(context.Background(), 2*closeGrace)
	defer cancel()
	if c.enqueue(ctx, o) == nil {
		select {
		case <-o.done:
		case <-ctx.Done():
		case <-c.stopped:
		}
	}
	c.ws.CloseNow()
}

// writer is the only goroutine that writes to the websocket.
func (c *Conn) writer(ctx context.Context) {
	defer close(c.stopped)
	for {
		var o outgoing
		select {
		case <-ctx.Done():
			return
		case o = <-c.sendq:
		}
		var err error
		switch {
		case c.werr != nil:
			err = ErrClosed
		case o.close != nil:
			t := time.AfterFunc(closeGrace, func() { c.ws.CloseNow() })
			if testWriteHook != nil {
				testWriteHook()
			}
			err = c.ws.Close(*o.close, o.why)
			t.Stop()
		default:
			if testWriteHook != nil {
				testWriteHook()
			}
			wctx, cancel := context.WithTimeout(ctx, WriteTimeout)
			err = c.ws.Write(wctx, websocket.MessageText, o.data)
			cancel()
			if err != nil {
				err = fmt.Errorf("link: send %s: %w", o.name, err)
				c.werr = err
				c.failOnce.Do(func() { close(c.failed) })
			}
		}
		if o.done != nil {
			o.done <- err
		}
	}
}

// reader reads messages into msgs until the connection fails, recording when anything arrived.
func (c *Conn) reader(ctx context.Context) {
	for {
		typ, data, err := c.ws.Read(ctx)
		if err != nil {
			c.rerr <- err
			return
		}
		c.lastSeen.Store(time.Now().UnixNano())
		if typ != websocket.MessageText {
			c.log.Warn("agent: ignoring a binary websocket message")
			continue
		}
		m, err := protocol.Decode(data)
		if err != nil {
			c.log.Warn("agent: ignoring a message the agent does not understand", "error", err)
			c.Post(ctx, protocol.Error{Code: "bad_message", Message: err.Error()})
			continue
		}
		select {
		case c.msgs <- m:
		case <-ctx.Done():
			return
		}
	}
}

// drain is called after a write failed: the server may have logged the agent out at that very moment,
// so the messages and close code still in flight decide (a logout wins over the write error).
func (c *Conn) drain(ctx context.Context) error {
	werr := &CloseError{Kind: CloseWriteFailed, Code: -1, Err: c.werr}
	t := time.NewTimer(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case m := <-c.msgs:
			if lo, ok := m.(protocol.Logout); ok {
				return &CloseError{Kind: CloseLogout, Code: -1, Reason: lo.Reason, Message: lo.Message}
			}
		case err := <-c.rerr:
			if ce := ClassifyClose(err); ce.Kind == CloseLogout {
				return ce
			}
			return werr
		case <-t.C:
			return werr
		case <-ctx.Done():
			return werr
		}
	}
}
