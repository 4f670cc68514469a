package hub

import (
	"context"
	"sync"
	"sync/atomic"
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
	if s.queueOut(b) {
		s.wakeWriter()
	}
}

// queueOut queues b for the writer unless outQueue messages wait already.
func (s *Session) queueOut(b []byte) bool {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	if len(s.w.out) >= outQueue {
		return false
	}
	s.w.out = append(s.w.out, b)
	return true
}

// takeOut takes the oldest queued control message; it tells a Send waiting for room.
func (s *Session) takeOut() ([]byte, bool) {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	if len(s.w.out) == 0 {
		return nil, false
	}
	b := s.w.out[0]
	s.w.out[0] = nil
	if s.w.out = s.w.out[1:]; len(s.w.out) == 0 {
		s.w.out = nil // an idle session keeps no queue
	}
	if s.w.room != nil {
		close(s.w.room)
		s.w.room = nil
	}
	return b, true
}

// roomOut returns a channel closed when the writer next takes a control message.
func (s *Session) roomOut() <-chan struct{} {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	if s.w.room == nil {
		s.w.room = make(chan struct{})
	}
	return s.w.room
}

// write sends one message with the write deadline. It is not bound to the session context: the logout
// and close are written after the session was killed.
func (s *Session) write(b []byte) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), s.hub.o.WriteTimeout)
	defer cancel()
	return s.conn.Write(ctx, websocket.MessageText, b)
}

// send writes b; a failed write ends the session.
func (s *Session) send(b []byte) {
	if err := s.write(b); err != nil {
		s.kill(closeReq{abort: true})
	}
}

// writer is the state of a session's writer. One writer goroutine at most runs at a time, and only while
// there is something to do (a queued message or job, a heartbeat due, the end): an idle session holds
// none. Whoever queues on w.out or s.jobs calls wakeWriter after, so a message never waits for a writer
// that has ended (the writer ends only when both queues are empty).
type writer struct {
	wake chan struct{} // room for one: asks the running writer to look again

	mu       sync.Mutex
	running  bool        // a writer goroutine runs
	finished bool        // the connection is finished: no writer starts again
	beatDue  atomic.Bool // set by beat (not guarded by mu)
	// out holds the control messages (welcome, pong, error, Hub.Send) waiting for the writer, sent before
	// any queued job; at most outQueue. A slice, not a channel: an idle session holds no buffer.
	out  [][]byte
	room chan struct{} // closed when the writer takes from out (made by a Send waiting for room)

	beat    *time.Timer // wakes the writer for the next ping or the silence deadline
	stopCtx func() bool // stops the wake-up on Serve's context ending (nil: that context never ends)
	hb      heartbeat   // used by the running writer only
}

// heartbeat is the writer's ping schedule and the peer's silence deadline. The peer is dead once it has
// been silent for MissedHeartbeats intervals: a deadline, not a count of pings, which would find it up to
// one interval late. It must also have left at least MissedHeartbeats-1 of our pings unanswered: when this
// process stalled (CPU starvation, a long GC) the pings were late, and the silence is ours, not the peer's.
type heartbeat struct {
	nonce      uint64
	unanswered int       // pings sent since the peer's last message
	lastPing   int64     // when the last was sent (unix nanoseconds)
	nextPing   time.Time // pings are due every Heartbeat from the session's start (late ones are dropped)
	deadAt     time.Time // when the silence is looked at again
}

// startWriter arms the heartbeat and starts the writer (the welcome is queued). ctx is Serve's: its end
// closes the session as a shutdown.
func (s *Session) startWriter(ctx context.Context) {
	h := s.hub
	now := time.Now()
	s.w.mu.Lock()
	if !s.w.finished { // else the session was logged out as it registered
		s.w.hb.nextPing = now.Add(h.o.Heartbeat)
		s.w.hb.deadAt = now.Add(time.Duration(MissedHeartbeats) * h.o.Heartbeat)
		s.w.beat = time.AfterFunc(h.o.Heartbeat, func() {
			s.w.beatDue.Store(true)
			s.wakeWriter()
		})
		// Serve's context ending (a shutdown) wakes the writer, which finds the session context ended.
		// Not the session context itself: every kill cancels that, and a mass logout would start a
		// goroutine per session for nothing. A context that never ends (the API's) needs no wake-up,
		// and registering one would keep three small objects per idle session for nothing.
		if ctx.Done() != nil {
			s.w.stopCtx = context.AfterFunc(ctx, s.wakeWriter)
		}
	}
	s.w.mu.Unlock()
	s.wakeWriter()
}

// wakeWriter asks the writer to look at its queues, starting one when none runs.
func (s *Session) wakeWriter() {
	select {
	case s.w.wake <- struct{}{}:
	default:
	}
	s.w.mu.Lock()
	if !s.w.running && !s.w.finished {
		s.w.running = true
		s.hub.wg.Add(1) // the session's Serve holds a count until the writer has finished
		goDeep(s.writeLoop)
	}
	s.w.mu.Unlock()
}

// idle reports whether the writer may end now (nothing queued, no wake-up pending); it then
// no longer counts as running.
func (s *Session) idle() bool {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	if len(s.w.wake) > 0 || len(s.w.out) > 0 || len(s.jobs) > 0 {
		return false
	}
	s.w.running = false
	return true
}

// writeLoop is the session's only writer while it runs: queued messages, heartbeat pings, and the final
// logout/close.
func (s *Session) writeLoop() {
	defer s.hub.wg.Done()
	for {
		select {
		case <-s.w.wake:
		default:
		}
		select {
		case <-s.killed():
			s.finish()
			s.w.mu.Lock()
			s.w.finished, s.w.running = true, false
			beat, stopCtx := s.w.beat, s.w.stopCtx
			s.w.mu.Unlock()
			if beat != nil {
				beat.Stop()
			}
			if stopCtx != nil {
				stopCtx()
			}
			s.done.Done()
			return
		default:
		}
		if s.ctx.Err() != nil {
			s.kill(closeReq{code: protocol.CloseServerShutdown, reason: "server shutting down"})
			continue
		}
		if s.w.beatDue.Swap(false) {
			s.heartbeat()
			continue
		}
		// Control messages (welcome, pongs, errors) go before queued jobs, so a long job queue never
		// starves them.
		if b, ok := s.takeOut(); ok {
			s.send(b)
			continue
		}
		if s.idle() {
			return
		}
		select {
		case <-s.w.wake:
		case <-s.killed():
		case b := <-s.jobs:
			s.send(b)
		}
	}
}

// heartbeat sends the ping due and ends a session whose peer is dead, then arms the next wake-up.
func (s *Session) heartbeat() {
	h, hb := s.hub, &s.w.hb
	now := time.Now()
	silence := time.Duration(MissedHeartbeats) * h.o.Heartbeat
	lastSeen := s.lastSeen.Load()
	if !now.Before(hb.deadAt) {
		switch quiet := now.Sub(time.Unix(0, lastSeen)); {
		case quiet < silence:
			hb.deadAt = now.Add(silence - quiet)
		case hb.unanswered < MissedHeartbeats-1 || lastSeen > hb.lastPing:
			hb.deadAt = now.Add(h.o.Heartbeat) // our own pings were late: give the peer their time
		default:
			h.log.Info("heartbeat timeout", "client_id", s.clientID, "credential_id", s.p.CredentialID)
			s.kill(closeReq{code: protocol.CloseHeartbeatTimeout, reason: "heartbeat timeout"})
			return
		}
	}
	if !now.Before(hb.nextPing) {
		for !now.Before(hb.nextPing) {
			hb.nextPing = hb.nextPing.Add(h.o.Heartbeat)
		}
		if lastSeen > hb.lastPing {
			hb.unanswered = 0
		}
		hb.nonce++
		b, _ := protocol.Encode(protocol.Ping{Nonce: hb.nonce})
		s.send(b)
		hb.unanswered++
		hb.lastPing = time.Now().UnixNano()
	}
	next := hb.nextPing
	if hb.deadAt.Before(next) {
		next = hb.deadAt
	}
	s.w.beat.Reset(time.Until(next))
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
