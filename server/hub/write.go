package hub

import (
	"context"
	"time"

	"github.com/coder/websocket"

	"printdock/protocol"
)

// reply queues m without blocking; a peer that does not read its answers loses them.
func (s *Session) reply(m protocol.Message) {
	b, err := protocol.Encode(m)
	if err != nil {
		return
	}
	select {
	case s.out <- b:
	default:
	}
}

// write sends one message with the write deadline. It is not bound to the session context: the logout
// and close are written after the session was killed.
func (s *Session) write(b []byte) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), s.hub.o.WriteTimeout)
	defer cancel()
	return s.conn.Write(ctx, websocket.MessageText, b)
}

// writeLoop is the session's only writer: queued messages, heartbeat pings, and the final logout/close.
func (s *Session) writeLoop() {
	h := s.hub
	defer h.wg.Done()
	defer close(s.done)
	t := time.NewTicker(h.o.Heartbeat)
	defer t.Stop()
	var nonce uint64
	// The peer is dead once it has been silent for MissedHeartbeats intervals: a timer on that deadline,
	// not a count of ticks, which would find it up to one interval late. It must also have left at least
	// MissedHeartbeats-1 of our pings unanswered: when this process stalled (CPU starvation, a long GC)
	// the ticker dropped its pings, and the silence is ours, not the peer's.
	silence := time.Duration(MissedHeartbeats) * h.o.Heartbeat
	dead := time.NewTimer(silence)
	defer dead.Stop()
	unanswered, lastPing := 0, int64(0) // pings sent since the peer's last message; when the last was sent
	send := func(b []byte) {
		if err := s.write(b); err != nil {
			s.kill(closeReq{abort: true})
		}
	}
	for {
		select {
		case <-s.killed():
			s.finish()
			return
		default:
		}
		// Control messages (welcome, pongs, errors) go before queued jobs, so a long job queue never
		// starves the heartbeat.
		select {
		case b := <-s.out:
			send(b)
			continue
		default:
		}
		select {
		case <-s.killed():
			s.finish()
			return
		case <-s.ctx.Done():
			// Serve's context ended (kill cancels it too, and then this is a no-op).
			s.kill(closeReq{code: protocol.CloseServerShutdown, reason: "server shutting down"})
		case b := <-s.out:
			send(b)
		case b := <-s.jobs:
			send(b)
		case <-dead.C:
			if quiet := time.Since(time.Unix(0, s.lastSeen.Load())); quiet < silence {
				dead.Reset(silence - quiet)
				continue
			}
			if unanswered < MissedHeartbeats-1 || s.lastSeen.Load() > lastPing {
				dead.Reset(h.o.Heartbeat) // our own pings were late: give the peer their time
				continue
			}
			h.log.Info("heartbeat timeout", "client_id", s.clientID, "credential_id", s.p.CredentialID)
			s.kill(closeReq{code: protocol.CloseHeartbeatTimeout, reason: "heartbeat timeout"})
		case <-t.C:
			if s.lastSeen.Load() > lastPing {
				unanswered = 0
			}
			nonce++
			b, _ := protocol.Encode(protocol.Ping{Nonce: nonce})
			send(b)
			unanswered++
			lastPing = time.Now().UnixNano()
		}
	}
}

// finish ends the connection the way the kill asked for.
func (s *Session) finish() {
	r := s.end.req
	if r.abort {
		_ = s.conn.CloseNow()
		return
	}
	if r.logout != "" {
		b, err := r.logoutMessage()
		if err == nil && s.write(b) == nil && s.hub.o.LogoutSent != nil {
			s.hub.o.LogoutSent(r.logout)
		}
		r.logoutWritten()
	}
	if r.code == protocol.CloseHeartbeatTimeout {
		// A silent peer will not answer the close handshake, which would keep the dead session for
		// up to 5 s more: send the close frame, then stop the reader, which drops the connection.
		t := time.AfterFunc(deadPeerGrace, s.stopRead)
		defer t.Stop()
	}
	_ = s.conn.Close(r.code, r.reason)
}

// deadPeerGrace is how long a peer that missed its heartbeats gets to answer the close frame.
const deadPeerGrace = 100 * time.Millisecond
