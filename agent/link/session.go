package link

import (
	"context"
	"time"

	"github.com/coder/websocket"

	"printdock/protocol"
)

// Handler receives what a session brings. Its methods run on the session's goroutine, in order.
type Handler interface {
	// Welcomed is called once, when the server answered hello, with the heartbeat interval in use.
	// Returning false ends the session at once (the credentials changed meanwhile).
	Welcomed(ctx context.Context, c *Conn, w protocol.Welcome, heartbeat time.Duration) bool
	// Message receives the messages after welcome that the link does not handle itself (job, cancel,
	// error, …).
	Message(ctx context.Context, c *Conn, m protocol.Message)
	// Confirmed says that the server answered a ping written at t: it has processed every message
	// written before t (the hub handles an agent's messages in order).
	Confirmed(t time.Time)
}

// Run runs one session: dial, hello, welcome, then messages and heartbeats until the connection ends or
// ctx is done. It returns how long the session was connected (0 if never) and why it ended: a
// *DialError, a *CloseError, or ctx.Err(). The connection is closed when Run returns.
func Run(ctx context.Context, cfg Config, h Handler) (time.Duration, error) {
	c, err := Dial(ctx, cfg)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if err := c.Send(ctx, cfg.Hello); err != nil {
		return 0, &CloseError{Kind: CloseHelloFailed, Code: -1, Err: err}
	}
	var (
		connectedAt time.Time
		interval    = cfg.Heartbeat
		nonce       uint64
		pingSent    = map[uint64]time.Time{} // our pings not answered yet
	)
	if interval <= 0 {
		interval = DefaultHeartbeat
	}
	connectedFor := func() time.Duration {
		if connectedAt.IsZero() {
			return 0
		}
		return time.Since(connectedAt)
	}
	welcomeTimer := time.NewTimer(WelcomeTimeout)
	defer welcomeTimer.Stop()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	// The link is dead once the server has been silent for DeadAfter intervals: a timer on that deadline,
	// not a check at the next tick, which would find it up to one interval late.
	dead := time.NewTimer(time.Duration(DeadAfter) * interval)
	defer dead.Stop()

	for {
		select {
		case <-ctx.Done():
			c.closeWith(websocket.StatusGoingAway, "agent stopping")
			return connectedFor(), ctx.Err()

		case err := <-c.rerr:
			return connectedFor(), ClassifyClose(err)

		case <-c.failed:
			return connectedFor(), c.drain(ctx)

		case <-welcomeTimer.C:
			if connectedAt.IsZero() {
				c.closeWith(protocol.CloseProtocolError, "no welcome")
				return 0, &CloseError{Kind: CloseNoWelcome, Code: -1}
			}

		case m := <-c.msgs:
			switch m := m.(type) {
			case protocol.Welcome:
				if !connectedAt.IsZero() {
					continue
				}
				connectedAt = time.Now()
				if cfg.Heartbeat <= 0 && m.HeartbeatSeconds > 0 {
					interval = time.Duration(m.HeartbeatSeconds) * time.Second
					ticker.Reset(interval)
					dead.Reset(time.Duration(DeadAfter) * interval)
				}
				if !h.Welcomed(ctx, c, m, interval) {
					return 0, ctx.Err()
				}
			case protocol.Ping:
				c.Post(ctx, protocol.Pong{Nonce: m.Nonce})
			case protocol.Pong:
				// lastSeen was updated by the reader
				if at, ok := pingSent[m.Nonce]; ok {
					for n := range pingSent {
						if n <= m.Nonce {
							delete(pingSent, n)
						}
					}
					h.Confirmed(at)
				}
			case protocol.Logout:
				c.log.Info("agent: the server sent logout", "reason", m.Reason)
				return connectedFor(), &CloseError{Kind: CloseLogout, Code: -1, Reason: m.Reason, Message: m.Message}
			case protocol.Error:
				c.log.Warn("agent: the server refused a message", "code", m.Code, "message", m.Message)
			default:
				if connectedAt.IsZero() {
					continue // nothing but the above before welcome
				}
				h.Message(ctx, c, m)
			}

		case <-dead.C:
			silent := time.Since(time.Unix(0, c.lastSeen.Load()))
			if limit := time.Duration(DeadAfter) * interval; silent < limit {
				dead.Reset(limit - silent)
				continue
			}
			c.log.Warn("agent: the server stopped answering; reconnecting", "silent_for", silent.Round(time.Millisecond))
			c.ws.CloseNow()
			return connectedFor(), &CloseError{Kind: CloseDead, Code: -1, Silent: silent}

		case <-ticker.C:
			nonce++
			if len(pingSent) < 16 {
				pingSent[nonce] = time.Now()
			}
			c.Post(ctx, protocol.Ping{Nonce: nonce})
		}
	}
}

// Verify dials, says hello and waits for welcome (WelcomeTimeout at most), then closes the connection
// normally: a check that the server accepts the credentials in cfg, storing nothing.
func Verify(ctx context.Context, cfg Config) (protocol.Welcome, error) {
	c, err := Dial(ctx, cfg)
	if err != nil {
		return protocol.Welcome{}, err
	}
	defer c.Close()
	if err := c.Send(ctx, cfg.Hello); err != nil {
		return protocol.Welcome{}, &CloseError{Kind: CloseHelloFailed, Code: -1, Err: err}
	}
	wctx, cancel := context.WithTimeout(ctx, WelcomeTimeout)
	defer cancel()
	for {
		select {
		case <-wctx.Done():
			return protocol.Welcome{}, &CloseError{Kind: CloseNoWelcome, Code: -1, Err: wctx.Err()}
		case err := <-c.rerr:
			return protocol.Welcome{}, ClassifyClose(err)
		case m := <-c.msgs:
			switch m := m.(type) {
			case protocol.Welcome:
				c.closeWith(websocket.StatusNormalClosure, "login verified")
				return m, nil
			case protocol.Logout:
				return protocol.Welcome{}, &CloseError{Kind: CloseLogout, Code: -1, Reason: m.Reason, Message: m.Message}
			case protocol.Ping:
				c.Post(wctx, protocol.Pong{Nonce: m.Nonce})
			}
		}
	}
}
