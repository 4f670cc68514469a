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
)

// readHello waits for the first message, which must be a hello of our protocol version.
func (h *Hub) readHello(ctx context.Context, c *websocket.Conn, log *slog.Logger) (protocol.Hello, bool) {
	timer := time.AfterFunc(h.o.HelloTimeout, func() {
		_ = c.Close(protocol.CloseProtocolError, "no hello in time")
	})
	typ, data, err := c.Read(ctx)
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
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.o.WriteTimeout)
		_ = c.Write(wctx, websocket.MessageText, b)
		cancel()
		_ = c.Close(protocol.CloseUnsupportedVersion, "unsupported protocol version")
		return protocol.Hello{}, false
	}
	return hello, true
}

// readLoop reads the agent's messages until the connection ends. Reading is not bound to the session
// context: after a kill the writer's close handshake needs the reader to take the agent's close frame
// (s.readCtx; stopRead ends it for a peer that went silent).
func (s *Session) readLoop() {
	s.reading = reading{lastTouch: time.Now().UnixNano()}
	for {
		typ, data, err := s.conn.Read(s.readCtx)
		if err != nil {
			if st := websocket.CloseStatus(err); st == websocket.StatusMessageTooBig {
				s.logger().Info("agent sent an oversized message", "limit", protocol.MaxMessageSize)
			}
			return
		}
		ok := false
		onDeep(func() { ok = s.received(&s.reading, typ, data) }) // off the parked stack (see Serve)
		if !ok {
			return
		}
	}
}

// reading is the reader's state between messages (Session.reading).
type reading struct {
	lastTouch   int64 // unix nanoseconds
	errorsInRow int
}

// received acts on one message read; false ends the reading. (It is not part of readLoop so that the
// frame parked in Read while the agent is idle stays small.)
func (s *Session) received(r *reading, typ websocket.MessageType, data []byte) bool {
	h := s.hub
	now := time.Now()
	s.lastSeen.Store(now.UnixNano())
	if now.Sub(time.Unix(0, r.lastTouch)) >= h.o.TouchEvery {
		r.lastTouch = now.UnixNano()
		h.o.Keys.Touch(s.ctx, s.p)
	}
	if typ != websocket.MessageText {
		s.kill(closeReq{code: protocol.CloseProtocolError, reason: "messages must be text frames"})
		return false
	}
	m, err := protocol.Decode(data)
	if err != nil {
		if errors.Is(err, protocol.ErrMalformed) || errors.Is(err, protocol.ErrTooLarge) {
			s.logger().Info("agent sent a garbled message; closing")
			s.kill(closeReq{code: protocol.CloseProtocolError, reason: "malformed message"})
			return false
		}
		code, msg := "invalid_message", httpx.RedactSecrets(err.Error())
		if errors.Is(err, protocol.ErrUnknownType) {
			code, msg = "unknown_type", "unknown message type"
		}
		if r.errorsInRow++; r.errorsInRow > maxProtocolErrors {
			s.kill(closeReq{code: protocol.CloseProtocolError, reason: "too many refused messages"})
			return false
		}
		s.reply(protocol.Error{Code: code, Message: msg})
		return true
	}
	r.errorsInRow = 0
	s.handle(m)
	return true
}

// handle acts on one valid message from the agent.
func (s *Session) handle(m protocol.Message) {
	switch m := m.(type) {
	case protocol.Ping:
		// A pong tells the agent that every message it wrote before the ping is processed: its outbox
		// stops keeping those statuses for a resend. So the statuses read before the ping are recorded
		// first (a status that could not be recorded ends the session before this pong is written).
		s.waitAcks(false)
		s.reply(protocol.Pong{Nonce: m.Nonce})
	case protocol.Pong:
		// lastSeen is enough
	case protocol.Printers:
		list := m.Printers
		if len(list) > jobs.MaxPrintersPerClient {
			list = list[:jobs.MaxPrintersPerClient]
		}
		s.mu.Lock()
		s.printers = compactPrinters(list)
		s.mu.Unlock()
		if s.hub.o.Jobs != nil {
			s.recorder.Offer(m.Printers)
		}
	case protocol.JobStatus:
		s.ack(m)
	case protocol.JobStatuses:
		// Several statuses the agent had ready at once (it sends them only because welcome listed
		// FeatureJobStatuses): each is recorded exactly as a job_status of its own, in order.
		for _, st := range m.Statuses {
			s.ack(st)
		}
	case protocol.Error:
		s.logger().Info("agent reported an error", "code", clip.String(httpx.RedactSecrets(m.Code), 64))
	default:
		s.reply(protocol.Error{Code: "unexpected_message",
			Message: "an agent may not send " + m.MessageType() + " now"})
	}
}

// recordPrinters records an agent's printers message in the job queue. s.recorder calls it at most once
// per Options.PrintersEvery, with the newest list received by then (the messages in between are
// superseded, each being the agent's full list), so an agent flooding printers messages costs at most
// one store transaction per interval.
func (s *Session) recordPrinters(ps []protocol.Printer) {
	err := s.hub.o.Jobs.UpdatePrinters(s.ctx, s.clientID, ps)
	switch {
	case err == nil:
	case errors.Is(err, jobs.ErrTooManyPrinters):
		// The others are recorded; tell the agent which limit it hit.
		s.reply(protocol.Error{Code: "too_many_printers", Message: httpx.RedactSecrets(err.Error())})
	default:
		if s.ctx.Err() == nil {
			s.logger().Error("record printers", "err", httpx.RedactSecrets(err.Error()))
		}
		return // not recorded: delivery waits for a printers message that is
	}
	s.startDelivery()
}

// jobStatuses hands job_status messages to the job queue. A status the queue refuses is answered with
// an `error` message (the session stays): forbidden (the job belongs to another client), not_found,
// conflict (e.g. the job was cancelled or already finished) or invalid_message. A status the store could
// not record ends the session instead: the agent reconnects and reports it again.
func (s *Session) jobStatuses(ctx context.Context, ms []protocol.JobStatus) {
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
		s.jobStatusDone(m, e)
	}
}

// jobStatusDone reports the outcome of one job_status.
func (s *Session) jobStatusDone(m protocol.JobStatus, err error) {
	h := s.hub
	if err == nil {
		if h.o.JobStatus != nil {
			h.o.JobStatus(m.State)
		}
		return
	}
	// The job ID and the error (which may quote it) come from the agent: redact them in logs and answers.
	log := s.logger()
	jobID := httpx.RedactSecrets(clip.String(m.JobID, 64))
	state := httpx.RedactSecrets(clip.String(m.State, 16))
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
		log.Info("job status refused", "job_id", jobID, "state", state, "err", httpx.RedactSecrets(err.Error()))
	case errors.Is(err, jobs.ErrInvalid):
		code = "invalid_message"
	default:
		// Not recorded, and the agent may already hold it as delivered: end the session, so the agent
		// reconnects and reports again every status no pong confirmed (this one included).
		log.Error("record job status; closing the session so the agent reports it again", "job_id", jobID,
			"err", httpx.RedactSecrets(err.Error()))
		s.kill(closeReq{code: websocket.StatusInternalError, reason: "a job status could not be recorded"})
		return
	}
	s.reply(protocol.Error{Code: code, Message: httpx.RedactSecrets("job_status " + clip.String(m.State, 16) +
		" for " + jobID + ": " + err.Error())})
}

// serverFeatures are the optional agent messages this server takes, listed in every welcome.
var serverFeatures = []string{protocol.FeatureJobStatuses}
