package hub

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"printdock/protocol"
	"printdock/server/httpx"
	"printdock/server/keys"
)

// maxProtocolErrors is how many refused messages in a row close a session with 4003.
const maxProtocolErrors = 10

// outQueue is how many messages may wait for a session's writer.
const outQueue = 16

// Session is one established agent connection.
type Session struct {
	hub         *Hub
	conn        *websocket.Conn
	p           keys.Principal
	hello       protocol.Hello
	clientID    string
	remote      string
	connectedAt time.Time
	indexed     bool // guarded by hub.mu

	out      chan []byte   // messages for the writer
	once     sync.Once     // guards req and killed
	req      closeReq      // why the session ends; read after <-killed
	killed   chan struct{} // closed when the session must end
	done     chan struct{} // closed when the writer has finished
	lastSeen atomic.Int64  // unix nanoseconds of the last message from the peer

	mu       sync.Mutex
	printers []protocol.Printer
}

type closeReq struct {
	code   websocket.StatusCode
	reason string
	logout string // when set, a logout message with this reason precedes the close
	abort  bool   // the connection is already gone: just release it
}

// ClientID returns the server's ID of the session's installation.
func (s *Session) ClientID() string { return s.clientID }

// Principal returns who the session authenticated as.
func (s *Session) Principal() keys.Principal { return s.p }

// Info describes the session.
func (s *Session) Info() ClientInfo {
	s.mu.Lock()
	printers := slices.Clone(s.printers)
	s.mu.Unlock()
	if printers == nil {
		printers = []protocol.Printer{}
	}
	return ClientInfo{
		ClientID:       s.clientID,
		PortalID:       s.p.PortalID,
		CredentialID:   s.p.CredentialID,
		KeyKind:        s.p.Kind,
		Description:    s.p.Description,
		Hostname:       s.hello.Hostname,
		OS:             s.hello.OS,
		AgentVersion:   s.hello.AgentVersion,
		InstallationID: s.hello.InstallationID,
		RemoteAddr:     s.remote,
		ConnectedAt:    s.connectedAt,
		Printers:       printers,
	}
}

func (s *Session) kill(r closeReq) {
	s.once.Do(func() {
		s.req = r
		close(s.killed)
	})
}

// Serve runs an authenticated, already upgraded agent connection until it ends: it waits for hello,
// answers welcome, registers the session, then reads messages, answers pings and keeps the heartbeat.
// It returns when the connection is closed.
func (h *Hub) Serve(c *websocket.Conn, p keys.Principal, remoteAddr string) {
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		_ = c.Close(protocol.CloseServerShutdown, "server shutting down")
		return
	}
	h.wg.Add(1) // under mu, so no Add races with Shutdown's Wait
	h.mu.Unlock()
	defer h.wg.Done()
	log := h.log.With("credential_id", p.CredentialID, "kind", string(p.Kind), "remote", remoteAddr)
	c.SetReadLimit(protocol.MaxMessageSize)
	ctx := context.Background()
	h.o.Keys.TouchNow(ctx, p)

	hello, ok := h.readHello(c, log)
	if !ok {
		return
	}
	now := time.Now()
	s := &Session{
		hub:         h,
		conn:        c,
		p:           p,
		hello:       hello,
		clientID:    ClientID(p.PortalID, hello.InstallationID),
		remote:      remoteAddr,
		connectedAt: now,
		out:         make(chan []byte, outQueue),
		killed:      make(chan struct{}),
		done:        make(chan struct{}),
	}
	s.lastSeen.Store(now.UnixNano())
	hb := int((h.o.Heartbeat + time.Second - 1) / time.Second)
	welcome, err := protocol.Encode(protocol.Welcome{
		ProtocolVersion:  protocol.Version,
		ServerVersion:    h.o.ServerVersion,
		ClientID:         s.clientID,
		KeyID:            p.CredentialID,
		KeyKind:          string(p.Kind),
		KeyDescription:   p.Description,
		Portal:           p.PortalID,
		HeartbeatSeconds: hb,
	})
	if err != nil {
		log.Error("encode welcome", "err", err)
		_ = c.Close(websocket.StatusInternalError, "internal error")
		return
	}
	s.out <- welcome // first in the queue: the writer sends it before anything but a logout
	if !h.add(s) {
		_ = c.Close(protocol.CloseServerShutdown, "server shutting down")
		return
	}
	h.wg.Add(1)
	go s.writeLoop()
	log = log.With("client_id", s.clientID)
	log.Info("agent connected", "hostname", hello.Hostname, "agent_version", hello.AgentVersion)

	// A change that happened between authentication and registration sent its event before this
	// session could receive it; re-check now that the session is indexed.
	if err := h.o.Keys.StillValid(ctx, p); err != nil {
		if reason := logoutReason(err); reason != "" {
			h.remove(s)
			s.kill(closeReq{code: protocol.CloseLoggedOut, reason: "logged out: " + reason, logout: reason})
		} else {
			log.Warn("re-check key", "err", err)
		}
	}

	s.readLoop(ctx, log)
	h.remove(s)
	s.kill(closeReq{abort: true})
	<-s.done
	log.Info("agent disconnected", "duration", time.Since(now).Round(time.Millisecond))
}

// logoutReason maps a StillValid error to a logout reason ("" for errors that say nothing about the key).
func logoutReason(err error) string {
	switch {
	case errors.Is(err, keys.ErrRevoked):
		return protocol.ReasonRevoked
	case errors.Is(err, keys.ErrInactive):
		return protocol.ReasonDeactivated
	case errors.Is(err, keys.ErrNotFound):
		return protocol.ReasonDeleted
	case errors.Is(err, keys.ErrUnauthenticated):
		// keys.StillValid says "deleted" or "rotated" in the text of ErrUnauthenticated.
		if strings.Contains(err.Error(), "deleted") {
			return protocol.ReasonDeleted
		}
		return protocol.ReasonRotated
	}
	return ""
}

// readHello waits for the first message, which must be a hello of our protocol version.
func (h *Hub) readHello(c *websocket.Conn, log *slog.Logger) (protocol.Hello, bool) {
	timer := time.AfterFunc(h.o.HelloTimeout, func() {
		_ = c.Close(protocol.CloseProtocolError, "no hello in time")
	})
	typ, data, err := c.Read(context.Background())
	if !timer.Stop() {
		return protocol.Hello{}, false
	}
	if err != nil {
		log.Debug("read hello", "close_status", int(websocket.CloseStatus(err)))
		_ = c.CloseNow()
		return protocol.Hello{}, false
	}
	if typ != websocket.MessageText {
		_ = c.Close(protocol.CloseProtocolError, "messages must be text frames")
		return protocol.Hello{}, false
	}
	m, err := protocol.Decode(data)
	if err != nil {
		_ = c.Close(protocol.CloseProtocolError, "the first message must be a valid hello")
		return protocol.Hello{}, false
	}
	hello, ok := m.(protocol.Hello)
	if !ok {
		_ = c.Close(protocol.CloseProtocolError, "the first message must be hello")
		return protocol.Hello{}, false
	}
	if hello.ProtocolVersion != protocol.Version {
		b, _ := protocol.Encode(protocol.Error{Code: "unsupported_version",
			Message: "this server speaks protocol version 1"})
		wctx, cancel := context.WithTimeout(context.Background(), h.o.WriteTimeout)
		_ = c.Write(wctx, websocket.MessageText, b)
		cancel()
		_ = c.Close(protocol.CloseUnsupportedVersion, "unsupported protocol version")
		return protocol.Hello{}, false
	}
	return hello, true
}

func (s *Session) readLoop(ctx context.Context, log *slog.Logger) {
	h := s.hub
	lastTouch := time.Now()
	errorsInRow := 0
	for {
		typ, data, err := s.conn.Read(ctx)
		if err != nil {
			if st := websocket.CloseStatus(err); st == websocket.StatusMessageTooBig {
				log.Info("agent sent an oversized message", "limit", protocol.MaxMessageSize)
			}
			return
		}
		now := time.Now()
		s.lastSeen.Store(now.UnixNano())
		if now.Sub(lastTouch) >= h.o.TouchEvery {
			lastTouch = now
			h.o.Keys.Touch(ctx, s.p)
		}
		if typ != websocket.MessageText {
			s.kill(closeReq{code: protocol.CloseProtocolError, reason: "messages must be text frames"})
			return
		}
		m, err := protocol.Decode(data)
		if err != nil {
			if errors.Is(err, protocol.ErrMalformed) || errors.Is(err, protocol.ErrTooLarge) {
				log.Info("agent sent a garbled message; closing")
				s.kill(closeReq{code: protocol.CloseProtocolError, reason: "malformed message"})
				return
			}
			code, msg := "invalid_message", httpx.RedactSecrets(err.Error())
			if errors.Is(err, protocol.ErrUnknownType) {
				code, msg = "unknown_type", "unknown message type"
			}
			if errorsInRow++; errorsInRow > maxProtocolErrors {
				s.kill(closeReq{code: protocol.CloseProtocolError, reason: "too many refused messages"})
				return
			}
			s.reply(protocol.Error{Code: code, Message: msg})
			continue
		}
		errorsInRow = 0
		switch m := m.(type) {
		case protocol.Ping:
			s.reply(protocol.Pong{Nonce: m.Nonce})
		case protocol.Pong:
			// lastSeen is enough
		case protocol.Printers:
			s.mu.Lock()
			s.printers = slices.Clone(m.Printers)
			s.mu.Unlock()
		case protocol.JobStatus:
			if h.o.JobStatus != nil {
				h.o.JobStatus(s.clientID, m)
			}
		case protocol.Error:
			code := httpx.RedactSecrets(m.Code)
			if len(code) > 64 {
				code = code[:64]
			}
			log.Info("agent reported an error", "code", code)
		default:
			s.reply(protocol.Error{Code: "unexpected_message",
				Message: "an agent may not send " + m.MessageType() + " now"})
		}
	}
}

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

func (s *Session) write(b []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.hub.o.WriteTimeout)
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
	missed := 0
	lastTick := s.connectedAt.UnixNano()
	for {
		select {
		case <-s.killed:
			s.finish()
			return
		default:
		}
		select {
		case <-s.killed:
			s.finish()
			return
		case b := <-s.out:
			if err := s.write(b); err != nil {
				s.kill(closeReq{abort: true})
			}
		case now := <-t.C:
			if s.lastSeen.Load() > lastTick {
				missed = 0
			} else {
				missed++
			}
			lastTick = now.UnixNano()
			if missed >= MissedHeartbeats {
				h.log.Info("heartbeat timeout", "client_id", s.clientID, "credential_id", s.p.CredentialID)
				s.kill(closeReq{code: protocol.CloseHeartbeatTimeout, reason: "heartbeat timeout"})
				continue
			}
			nonce++
			b, _ := protocol.Encode(protocol.Ping{Nonce: nonce})
			if err := s.write(b); err != nil {
				s.kill(closeReq{abort: true})
			}
		}
	}
}

func (s *Session) finish() {
	r := s.req
	if r.abort {
		_ = s.conn.CloseNow()
		return
	}
	if r.logout != "" {
		b, err := protocol.Encode(protocol.Logout{Reason: r.logout})
		if err == nil && s.write(b) == nil && s.hub.o.LogoutSent != nil {
			s.hub.o.LogoutSent(r.logout)
		}
	}
	_ = s.conn.Close(r.code, r.reason)
}
