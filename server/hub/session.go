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
	"printdock/server/jobs"
	"printdock/server/keys"
)

// maxProtocolErrors is how many refused messages in a row close a session with 4003.
const maxProtocolErrors = 10

// outQueue is how many control messages (welcome, pong, error, Hub.Send) may wait for a session's writer.
const outQueue = 16

// ackQueue is how many job_status messages may wait for a session's ack loop; the reader blocks beyond
// it (the agent then waits on TCP).
const ackQueue = 256

// jobQueue is how many encoded job messages (up to protocol.MaxMessageSize each) may wait for a session's
// writer. The delivery loop blocks beyond it, so a slow agent holds at most this many in memory.
const jobQueue = 4

// Session is one established agent connection.
type Session struct {
	hub         *Hub
	conn        *websocket.Conn
	p           keys.Principal
	hello       protocol.Hello
	clientID    string
	remote      string
	connectedAt time.Time
	indexed     bool  // guarded by hub.mu
	slot        *Slot // the credential's session slot, released when the session leaves the index
	log         *slog.Logger

	out      chan []byte             // control messages for the writer (sent before any queued job)
	jobs     chan []byte             // job messages for the writer
	kick     chan struct{}           // asks the delivery loop to look again (room for one)
	acks     chan protocol.JobStatus // job_status messages for the ack loop (closed when reading ends)
	printed  chan struct{}           // closed once the agent's first printers message is recorded
	seenOnce sync.Once               // guards printed
	once     sync.Once               // guards req and killed
	req      closeReq                // why the session ends; read after <-killed
	killed   chan struct{}           // closed when the session must end
	done     chan struct{}           // closed when the writer has finished
	lastSeen atomic.Int64            // unix nanoseconds of the last message from the peer

	mu       sync.Mutex
	printers []protocol.Printer

	// Printers updates in the job queue, at most one per Options.PrintersEvery (see recordPrinters).
	pmu      sync.Mutex
	pPending []protocol.Printer // the newest list not yet recorded
	pHas     bool               // pPending is set
	pTimer   *time.Timer        // a scheduled flush
	pLast    time.Time          // when the last update started
	pClosed  bool               // the session ended: record nothing more
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

// poke wakes the session's delivery loop without blocking.
func (s *Session) poke() {
	select {
	case s.kick <- struct{}{}:
	default:
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
// It returns when the connection is closed. slot is the credential's session slot from Reserve (taken
// before the upgrade, so a refusal can be an HTTP answer); Serve gives it back. With a nil slot Serve
// reserves one itself and closes with 1013 (try again later) when the key has no slot free.
func (h *Hub) Serve(c *websocket.Conn, p keys.Principal, remoteAddr string, slot *Slot) {
	if slot == nil {
		var err error
		if slot, err = h.Reserve(p.CredentialID); err != nil {
			if errors.Is(err, ErrClosing) {
				_ = c.Close(protocol.CloseServerShutdown, "server shutting down")
			} else {
				_ = c.Close(websocket.StatusTryAgainLater, "too many sessions for this key; try again later")
			}
			return
		}
	}
	defer slot.Release()
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
		clientID:    jobs.ClientID(p.PortalID, p.CredentialID, hello.InstallationID),
		remote:      remoteAddr,
		connectedAt: now,
		slot:        slot,
		out:         make(chan []byte, outQueue),
		jobs:        make(chan []byte, jobQueue),
		kick:        make(chan struct{}, 1),
		acks:        make(chan protocol.JobStatus, ackQueue),
		printed:     make(chan struct{}),
		killed:      make(chan struct{}),
		done:        make(chan struct{}),
	}
	s.lastSeen.Store(now.UnixNano())
	// Record the session with the job queue and index it under one lock of the client, so that an
	// older session of the same client cannot mark a job sent in between (see deliver).
	lock := h.clientLock(s.clientID)
	lock.Lock()
	if h.o.Jobs != nil {
		id, err := h.o.Jobs.ClientConnected(ctx, p.PortalID, p.CredentialID, hello)
		if err != nil {
			lock.Unlock()
			log.Error("record client", "err", err)
			_ = c.Close(websocket.StatusTryAgainLater, "the server cannot record the session; try again later")
			return
		}
		s.clientID = id
		defer func() {
			if err := h.o.Jobs.ClientDisconnected(context.WithoutCancel(ctx), id); err != nil {
				log.Warn("record client disconnect", "err", err)
			}
		}()
	}
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
		lock.Unlock()
		log.Error("encode welcome", "err", err)
		_ = c.Close(websocket.StatusInternalError, "internal error")
		return
	}
	s.out <- welcome // first in the queue: the writer sends it before anything but a logout
	added := h.add(s)
	lock.Unlock()
	if !added {
		_ = c.Close(protocol.CloseServerShutdown, "server shutting down")
		return
	}
	h.wg.Add(1)
	go s.writeLoop()
	log = log.With("client_id", s.clientID)
	s.log = log
	// Agent-supplied text is redacted: a secret pasted into the wrong place must not reach the log.
	log.Info("agent connected", "hostname", httpx.RedactSecrets(clip(hello.Hostname, 256)),
		"agent_version", httpx.RedactSecrets(clip(hello.AgentVersion, 64)))

	delivered := make(chan struct{})
	dctx, stopDelivery := context.WithCancel(ctx)
	if h.o.Jobs != nil {
		wake, unsubscribe := h.o.Jobs.Subscribe(s.clientID)
		defer unsubscribe()
		go func() {
			defer close(delivered)
			s.deliverLoop(dctx, wake, log)
		}()
	} else {
		close(delivered)
	}

	// A change that happened between authentication and registration sent its event before this
	// session could receive it; re-check now that the session is indexed.
	if err := h.o.Keys.StillValid(ctx, p); err != nil {
		if reason := logoutReason(err); reason != "" {
			h.remove(s)
			s.kill(closeReq{code: protocol.CloseLoggedOut, reason: "logged out: " + reason, logout: reason})
		} else {
			// The key could not be checked (a store error): do not keep a session that may belong to
			// a key changed meanwhile; the agent reconnects and authenticates again.
			log.Warn("re-check key; closing the session", "err", httpx.RedactSecrets(err.Error()))
			h.remove(s)
			s.kill(closeReq{code: websocket.StatusTryAgainLater, reason: "the server cannot check the key; try again later"})
		}
	}

	acked := make(chan struct{})
	go func() {
		defer close(acked)
		s.ackLoop(ctx, log)
	}()
	s.readLoop(ctx, log)
	close(s.acks)
	<-acked // every status read is recorded before the session is
	s.stopPrinters()
	h.remove(s)
	s.kill(closeReq{abort: true})
	stopDelivery()
	<-s.done
	<-delivered
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
			list := m.Printers
			if len(list) > jobs.MaxPrintersPerClient {
				list = list[:jobs.MaxPrintersPerClient]
			}
			s.mu.Lock()
			s.printers = slices.Clone(list)
			s.mu.Unlock()
			if h.o.Jobs != nil {
				s.recordPrinters(m.Printers)
			}
		case protocol.JobStatus:
			s.acks <- m
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

// recordPrinters records an agent's printers message in the job queue: at once when the last update
// is at least Options.PrintersEvery ago, else when that interval has passed — with the newest list
// received by then (the messages in between are superseded, each being the agent's full list). So an
// agent flooding printers messages costs at most one store transaction per interval.
func (s *Session) recordPrinters(ps []protocol.Printer) {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	if s.pClosed {
		return
	}
	s.pPending, s.pHas = ps, true
	if s.pTimer != nil {
		return // a flush is scheduled; it takes the newest list
	}
	if wait := time.Until(s.pLast.Add(s.hub.o.PrintersEvery)); wait > 0 {
		s.pTimer = time.AfterFunc(wait, func() {
			s.pmu.Lock()
			defer s.pmu.Unlock()
			s.pTimer = nil
			if !s.pClosed && s.pHas {
				s.flushPrintersLocked()
			}
		})
		return
	}
	s.flushPrintersLocked()
}

// flushPrintersLocked records the pending list (s.pmu held).
func (s *Session) flushPrintersLocked() {
	ps := s.pPending
	s.pPending, s.pHas = nil, false
	s.pLast = time.Now()
	err := s.hub.o.Jobs.UpdatePrinters(context.Background(), s.clientID, ps)
	switch {
	case err == nil:
	case errors.Is(err, jobs.ErrTooManyPrinters):
		// The others are recorded; tell the agent which limit it hit.
		s.reply(protocol.Error{Code: "too_many_printers", Message: httpx.RedactSecrets(err.Error())})
	default:
		s.log.Error("record printers", "err", httpx.RedactSecrets(err.Error()))
		return // not recorded: delivery waits for a printers message that is
	}
	s.seenOnce.Do(func() { close(s.printed) })
}

// stopPrinters ends printers recording when the session ends (a scheduled update is dropped; the agent
// reports its printers again when it reconnects).
func (s *Session) stopPrinters() {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	s.pClosed = true
	if s.pTimer != nil {
		s.pTimer.Stop()
		s.pTimer = nil
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
		// Control messages (welcome, pongs, errors) go before queued jobs, so a long job queue never
		// starves the heartbeat.
		select {
		case b := <-s.out:
			if err := s.write(b); err != nil {
				s.kill(closeReq{abort: true})
			}
			continue
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
		case b := <-s.jobs:
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

// ackLoop hands the agent's job_status messages to the job queue, in order: the statuses that arrived
// while the previous ones were being recorded go together (Jobs.AckAll, one transaction), so a busy agent
// is not held to one store commit per status. It returns when s.acks is closed and drained.
func (s *Session) ackLoop(ctx context.Context, log *slog.Logger) {
	var batch []protocol.JobStatus
	for m := range s.acks {
		batch = append(batch[:0], m)
	more:
		for len(batch) < ackQueue {
			select {
			case m, ok := <-s.acks:
				if !ok {
					break more
				}
				batch = append(batch, m)
			default:
				break more
			}
		}
		s.jobStatuses(ctx, batch, log)
	}
}

// jobStatuses hands job_status messages to the job queue. A status the queue refuses is answered with
// an `error` message (the session stays): forbidden (the job belongs to another client), not_found,
// conflict (e.g. the job was cancelled or already finished), invalid_message, or internal_error (not
// recorded; the job is redelivered after a reconnect and may be reported again).
func (s *Session) jobStatuses(ctx context.Context, ms []protocol.JobStatus, log *slog.Logger) {
	h := s.hub
	if h.o.Jobs == nil {
		return
	}
	errs, err := h.o.Jobs.AckAll(ctx, s.clientID, ms)
	for i, m := range ms {
		e := err
		if e == nil {
			e = errs[i]
		}
		s.jobStatusDone(m, e, log)
	}
}

// jobStatusDone reports the outcome of one job_status.
func (s *Session) jobStatusDone(m protocol.JobStatus, err error, log *slog.Logger) {
	h := s.hub
	if err == nil {
		if h.o.JobStatus != nil {
			h.o.JobStatus(m.State)
		}
		return
	}
	// The job ID and the error (which may quote it) come from the agent: redact them in logs and answers.
	jobID := httpx.RedactSecrets(clip(m.JobID, 64))
	var code string
	switch {
	case errors.Is(err, jobs.ErrForbidden):
		code = "forbidden"
		log.Warn("agent reported a job of another client", "job_id", jobID)
	case errors.Is(err, jobs.ErrNotFound):
		code = "not_found"
		log.Info("agent reported an unknown job", "job_id", jobID)
	case errors.Is(err, jobs.ErrConflict):
		code = "conflict"
		log.Info("job status refused", "job_id", jobID, "state", httpx.RedactSecrets(clip(m.State, 16)),
			"err", httpx.RedactSecrets(err.Error()))
	case errors.Is(err, jobs.ErrInvalid):
		code = "invalid_message"
	default:
		code = "internal_error"
		log.Error("record job status", "job_id", jobID, "err", httpx.RedactSecrets(err.Error()))
		err = errors.New("the status could not be recorded")
	}
	s.reply(protocol.Error{Code: code, Message: httpx.RedactSecrets("job_status " + clip(m.State, 16) + " for " +
		jobID + ": " + err.Error())})
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// deliverLoop sends the client's jobs while the session lives: once the agent's first printers message
// is recorded (PendingFor delivers only to printers in the agent's latest list), then whenever the job
// queue signals new work (wake), the hub pokes the session (it became the client's newest again), or a
// failed attempt is due again.
func (s *Session) deliverLoop(ctx context.Context, wake <-chan struct{}, log *slog.Logger) {
	select {
	case <-s.printed:
	case <-s.killed:
		return
	case <-ctx.Done():
		return
	}
	var retry <-chan time.Time
	for {
		if err := s.deliver(ctx, log); err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Error("deliver jobs", "err", err)
			retry = time.After(s.hub.o.RetryEvery)
		} else {
			retry = nil
		}
		select {
		case <-wake:
		case <-s.kick:
		case <-retry:
		case <-s.killed:
			return
		case <-ctx.Done():
			return
		}
	}
}

// deliver sends every job PendingFor returns, batch by batch, until none is left. The jobs of a batch are
// marked sent (Jobs.MarkSentAll, one transaction) BEFORE they are queued for the writer; a job the queue
// refuses (cancelled or expired meanwhile) is skipped. Only the client's newest session delivers, and the
// check and the marking happen under the client's lock, which a new session of the client holds while it
// registers: so a job is never marked sent in the new session's name while an old session writes it (it
// would then not be redelivered).
func (s *Session) deliver(ctx context.Context, log *slog.Logger) error {
	h := s.hub
	lock := h.clientLock(s.clientID)
	for {
		batch, err := h.o.Jobs.PendingFor(ctx, s.clientID)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		msgs := make([][]byte, 0, len(batch))
		ids := make([]string, 0, len(batch))
		sent := batch[:0:0]
		for _, j := range batch {
			b, err := protocol.Encode(j)
			if err != nil {
				log.Error("encode job", "job_id", j.JobID, "err", err)
				continue
			}
			msgs, ids, sent = append(msgs, b), append(ids, j.JobID), append(sent, j)
		}
		if len(ids) == 0 {
			return nil // only jobs that cannot be encoded (logged); do not spin on them
		}
		lock.Lock()
		if !h.newest(s) {
			lock.Unlock()
			return nil // a newer session of the client delivers
		}
		errs, err := h.o.Jobs.MarkSentAll(ctx, ids)
		lock.Unlock()
		if err != nil {
			return err
		}
		for i, j := range sent {
			if err := errs[i]; err != nil {
				if !errors.Is(err, jobs.ErrConflict) && !errors.Is(err, jobs.ErrNotFound) {
					return err
				}
				log.Debug("job not sent", "job_id", j.JobID, "err", err)
				continue
			}
			select {
			case s.jobs <- msgs[i]:
			case <-s.killed:
				return nil // stays sent and unacknowledged: redelivered after the reconnect
			case <-ctx.Done():
				return nil
			}
			if h.o.JobSent != nil {
				h.o.JobSent()
			}
			log.Debug("job sent", "job_id", j.JobID, "printer", j.PrinterID, "bytes", len(msgs[i]))
		}
	}
}
