package hub

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/coder/websocket"

	"printdock/internal/clip"
	"printdock/protocol"
	"printdock/server/httpx"
	"printdock/server/jobs"
	"printdock/server/keys"
)

// Serve runs an authenticated, already upgraded agent connection until it ends: it waits for hello,
// answers welcome, registers the session, then reads messages, answers pings and keeps the heartbeat.
// It returns when the connection is closed. slot is the credential's session slot from Reserve (taken
// before the upgrade, so a refusal can be an HTTP answer); Serve gives it back. With a nil slot Serve
// reserves one itself and closes with 1013 (try again later) when the key has no slot free.
//
// ctx bounds the session: when it ends, the session closes as for a shutdown (4005). The session's own
// context (derived from ctx) is passed to every store call made for it and is cancelled when the session
// must end, its cause (wrapping ErrSessionClosed) saying why.
func (h *Hub) Serve(ctx context.Context, c *websocket.Conn, p keys.Principal, remoteAddr string, slot *Slot) {
	// This goroutine is the idle connection's: parked in the read for the session's whole life. A
	// goroutine keeps a stack of about the largest size it reached (the runtime halves it only while a
	// quarter is in use, and a parked read uses more than a quarter of 8 KiB), so it only reads: opening
	// the session (hello, store calls, logs) and acting on each message (decoding, replies, store calls)
	// run on other goroutines (onDeep, deep.go), and this stack stays at the 4 KiB the parked read needs.
	// Decoding a job_status or printers message alone needs more than 4 KiB of stack (encoding/json).
	// Serve's own frame stays small for the same reason.
	var s *Session
	onDeep(func() { s = h.open(ctx, c, p, remoteAddr, slot) })
	if s == nil {
		return
	}
	s.readLoop()
	s.teardown()
}

// open sets a session up: it takes the slot, waits for hello, registers the session, starts its writer
// and logs the connection. It returns nil when the session does not start (the connection is closed and
// everything open took is given back).
func (h *Hub) open(ctx context.Context, c *websocket.Conn, p keys.Principal, remoteAddr string, slot *Slot) *Session {
	if slot == nil {
		var err error
		if slot, err = h.Reserve(p.CredentialID); err != nil {
			if errors.Is(err, ErrClosing) {
				_ = c.Close(protocol.CloseServerShutdown, "server shutting down")
			} else {
				_ = c.Close(websocket.StatusTryAgainLater, "too many sessions for this key; try again later")
			}
			return nil
		}
	}
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		slot.Release()
		_ = c.Close(protocol.CloseServerShutdown, "server shutting down")
		return nil
	}
	h.wg.Add(1) // under mu, so no Add races with Shutdown's Wait
	h.mu.Unlock()
	log := h.log.With("credential_id", p.CredentialID, "kind", string(p.Kind), "remote", remoteAddr)
	c.SetReadLimit(protocol.MaxMessageSize)
	h.o.Keys.TouchNow(ctx, p)

	hello, ok := h.readHello(ctx, c, log)
	if ok {
		if usedOn, other := h.otherInstallation(ctx, p, hello.InstallationID); other &&
			h.o.Keys.SecondInstallation(ctx, p, usedOn, hello.Hostname) {
			h.refuseInUse(ctx, c, usedOn, log)
			ok = false
		}
	}
	if !ok {
		h.wg.Done()
		slot.Release()
		return nil
	}
	s := h.newSession(ctx, c, p, hello, remoteAddr, slot)
	if s.connected, ok = h.register(s, log); !ok {
		s.release()
		return nil
	}
	s.startWriter(ctx)
	// Agent-supplied text is redacted: a secret pasted into the wrong place must not reach the log.
	s.logger().Info("agent connected", "hostname", httpx.RedactSecrets(clip.String(hello.Hostname, 256)),
		"agent_version", httpx.RedactSecrets(clip.String(hello.AgentVersion, 64)))
	s.recheckKey()
	return s
}

// teardown ends a session whose reader has ended: every status read is recorded, the session leaves the
// index, its writer and delivery end, and what open took is given back.
func (s *Session) teardown() {
	s.stopRead()
	s.waitAcks(true) // every status read is recorded before the session is
	s.recorder.Stop()
	s.hub.remove(s)
	s.kill(closeReq{abort: true})
	s.done.Wait()
	s.endDelivery()
	s.logger().Info("agent disconnected", "duration", time.Since(time.Unix(0, s.connectedAt)).Round(time.Millisecond))
	s.release()
}

// release gives back what a registered (or refused) session holds: the job queue's record of the client,
// the session context, the hub's count of running sessions and the credential's slot.
func (s *Session) release() {
	if s.connected {
		s.recordDisconnect()
	}
	s.end.cancel(closeReq{abort: true}) // the cause is set by kill before; this only frees ctx
	s.hub.wg.Done()
	s.slot.Release()
}

// logger is the session's logger. It is built when something is logged, not kept: an idle session
// holds no logger of its own.
func (s *Session) logger() *slog.Logger {
	return s.hub.log.With("credential_id", s.p.CredentialID, "kind", string(s.p.Kind), "remote", s.remote,
		"client_id", s.clientID)
}

// newSession builds the session of an agent that said hello.
func (h *Hub) newSession(ctx context.Context, c *websocket.Conn, p keys.Principal, hello protocol.Hello,
	remoteAddr string, slot *Slot) *Session {
	now := time.Now()
	sctx, cancel := context.WithCancelCause(ctx)
	s := &Session{
		hub:         h,
		conn:        c,
		p:           p,
		hello:       compactHello(hello),
		clientID:    jobs.ClientID(p.PortalID, p.CredentialID, hello.InstallationID),
		remote:      remoteAddr,
		connectedAt: now.UnixNano(),
		ctx:         sctx,
		slot:        slot,
		jobs:        make(chan []byte, jobQueue),
		end:         ender{killed: make(chan struct{}), cancel: cancel},
		w:           writer{wake: make(chan struct{}, 1)},
	}
	s.readCtx, s.readStop = context.WithCancel(context.Background()) // not from ctx: see Session.readCtx
	s.done.Add(1)
	s.acks.cond.L = &s.acks.mu
	s.recorder = newCoalescer(h.o.PrintersEvery, s.recordPrinters)
	s.lastSeen.Store(now.UnixNano())
	return s
}

// ClientLimitReason is the close reason (at most 123 bytes) of a new installation refused by the job
// queue's client limit (jobs.ErrTooManyClients), sent with protocol.CloseLimitReached.
const ClientLimitReason = "this credential has reached the server's limit of agent installations (--max-clients-per-key)"

// register records the session with the job queue, queues its welcome and indexes it, under one lock
// of the client, so that an older session of the same client cannot mark a job sent in between (see
// deliver). On failure it closes the connection and returns ok false; connected says whether the job
// queue recorded the client (its disconnect must then be recorded too).
func (h *Hub) register(s *Session, log *slog.Logger) (connected, ok bool) {
	lock := h.clientLock(s.clientID)
	lock.Lock()
	defer lock.Unlock()
	if h.o.Jobs != nil {
		id, seq, err := h.o.Jobs.ClientConnected(s.ctx, s.p.PortalID, s.p.CredentialID, s.hello)
		if errors.Is(err, jobs.ErrTooManyClients) {
			log.Warn("refused a new installation: the credential's client limit is reached",
				"installation_id", httpx.RedactSecrets(clip.String(s.hello.InstallationID, 64)))
			_ = s.conn.Close(protocol.CloseLimitReached, ClientLimitReason)
			return false, false
		}
		if err != nil {
			log.Error("record client", "err", err)
			_ = s.conn.Close(websocket.StatusTryAgainLater, "the server cannot record the session; try again later")
			return false, false
		}
		s.clientID, s.seq, connected = id, seq, true
	}
	hb := int((h.o.Heartbeat + time.Second - 1) / time.Second)
	alert := 0
	if d, err := h.o.Keys.PrinterAlertAfter(s.ctx, keys.Actor{Principal: s.p}); err == nil {
		alert = int(d / time.Second)
	} else {
		log.Warn("printer alert threshold", "err", err) // the agent keeps its default
	}
	welcome, err := protocol.Encode(protocol.Welcome{
		ProtocolVersion:     protocol.Version,
		ServerVersion:       h.o.ServerVersion,
		ClientID:            s.clientID,
		KeyID:               s.p.CredentialID,
		KeyKind:             string(s.p.Kind),
		KeyDescription:      s.p.Description,
		Portal:              s.p.PortalID,
		HeartbeatSeconds:    hb,
		PrinterAlertSeconds: alert,
		Features:            serverFeatures,
	})
	if err != nil {
		log.Error("encode welcome", "err", err)
		_ = s.conn.Close(websocket.StatusInternalError, "internal error")
		return connected, false
	}
	s.queueOut(welcome) // first in the queue: the writer sends it before anything but a logout
	if !h.add(s) {
		_ = s.conn.Close(protocol.CloseServerShutdown, "server shutting down")
		return connected, false
	}
	return connected, true
}

// refuseInUse logs out an agent whose print client secret is already used by another installation (the
// portal's one-installation policy): a logout whose message names that installation, then close 4001.
func (h *Hub) refuseInUse(ctx context.Context, c *websocket.Conn, usedOn string, log *slog.Logger) {
	log.Info("second installation refused", "used_on", httpx.RedactSecrets(clip.String(usedOn, 128)))
	msg := keys.InUseMessage(httpx.RedactSecrets(clip.String(usedOn, 128)))
	if b, err := protocol.Encode(protocol.Logout{Reason: protocol.ReasonInUse, Message: msg}); err == nil {
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.o.WriteTimeout)
		_ = c.Write(wctx, websocket.MessageText, b)
		cancel()
	}
	_ = c.Close(protocol.CloseLoggedOut, "logged out: "+protocol.ReasonInUse)
}

// recordDisconnect tells the job queue the client's session ended; it is recorded even though the
// session context has ended by then.
func (s *Session) recordDisconnect() {
	if err := s.hub.o.Jobs.ClientDisconnected(context.WithoutCancel(s.ctx), s.clientID); err != nil {
		s.logger().Warn("record client disconnect", "err", err)
	}
}

// recheckKey closes a session whose key changed between authentication and registration: such a change
// sent its event before this session could receive it.
func (s *Session) recheckKey() {
	err := s.hub.o.Keys.StillValid(s.ctx, s.p)
	if err == nil || s.ctx.Err() != nil {
		return // valid, or the session ends anyway
	}
	if reason := LogoutReason(err); reason != "" {
		s.hub.remove(s)
		s.kill(closeReq{code: protocol.CloseLoggedOut, reason: "logged out: " + reason, logout: reason})
		return
	}
	// The key could not be checked (a store error): do not keep a session that may belong to a key
	// changed meanwhile; the agent reconnects and authenticates again.
	s.logger().Warn("re-check key; closing the session", "err", httpx.RedactSecrets(err.Error()))
	s.hub.remove(s)
	s.kill(closeReq{code: websocket.StatusTryAgainLater, reason: "the server cannot check the key; try again later"})
}
