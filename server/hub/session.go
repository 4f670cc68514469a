package hub

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"printdock/protocol"
	"printdock/server/keys"
)

// The session's code is split by concern: serve.go sets a session up and tears it down, read.go reads
// the agent's messages (and records its statuses and printers), write.go is the single writer, and
// deliver.go sends the client's jobs.

// maxProtocolErrors is how many refused messages in a row close a session with 4003.
const maxProtocolErrors = 10

// outQueue is how many control messages (welcome, pong, error, Hub.Send) may wait for a session's writer.
const outQueue = 16

// ackQueue is how many job_status messages may wait to be recorded (see acker); the reader blocks beyond
// it (the agent then waits on TCP).
const ackQueue = 256

// jobQueue is how many encoded job messages (up to protocol.MaxMessageSize each) may wait for a session's
// writer. The delivery loop blocks beyond it, so a slow agent holds at most this many in memory.
const jobQueue = 4

// ErrSessionClosed is the cause (context.Cause) of a session context's cancellation; the error wrapping
// it says why the session closed (the agent went away, a logout, a heartbeat timeout, shutdown, …).
var ErrSessionClosed = errors.New("session closed")

// Session is one established agent connection.
//
// Lock order: Hub.clientLocks stripe → Hub.mu → Session.mu. The printers coalescer's lock is separate:
// it is held while a printers list is recorded and nothing else is locked under it.
type Session struct {
	hub         *Hub
	conn        *websocket.Conn
	p           keys.Principal
	hello       protocol.Hello
	clientID    string
	seq         int64 // the session's number among the client's (jobs.Service.ClientConnected)
	remote      string
	connectedAt int64 // unix nanoseconds
	// ctx is the session context, given to every store call made for the session. It is cancelled, with
	// the closeReq as its cause, as soon as the session must end (see kill).
	ctx     context.Context
	slot    *Slot // the credential's session slot, released when the session leaves the index
	indexed bool  // guarded by hub.mu
	// connected: the job queue recorded the client (its disconnect is recorded when the session ends).
	connected bool

	jobs     chan []byte    // job messages for the writer
	acks     acker          // job_status messages being recorded
	end      ender          // why and when the session ends
	done     sync.WaitGroup // done when the writer has finished (one count, from newSession)
	w        writer         // the writer's state (write.go)
	lastSeen atomic.Int64   // unix nanoseconds of the last message from the peer
	// readCtx bounds the reader: not the session context (a kill's close handshake needs the reader), but
	// stopRead (readStop) ends it when the peer went silent and will not answer the handshake. A plain
	// context.WithCancel: a hand-written context without a cancelCtx saved 0.2 KiB of heap per idle
	// session at 5,000 idle agents, within the noise of the RSS.
	readCtx  context.Context
	readStop context.CancelFunc
	reading  reading // the reader's state between messages

	// cancelled holds the jobs this session sent a `cancel` for (only the active delivery run uses it).
	cancelled map[string]struct{}

	// recorder records the agent's printers messages in the job queue, coalesced to one store
	// transaction per Options.PrintersEvery.
	recorder *coalescer[[]protocol.Printer]
	// dl is the state of the session's deliveries (deliver.go), which start once the first printers
	// list is recorded (startDelivery).
	dl delivery

	mu       sync.Mutex // guards printers
	printers []protocol.Printer
}

// ender records, once, why a session ends, closes killed and cancels the session context with the
// reason as its cause.
type ender struct {
	once   sync.Once
	req    closeReq // why the session ends; read after <-killed
	killed chan struct{}
	cancel context.CancelCauseFunc
}

// closeReq says how a session ends. As an error it is the cause of the session context's cancellation.
type closeReq struct {
	code   websocket.StatusCode
	reason string
	logout string       // when set, a logout message with this reason precedes the close
	abort  bool         // the connection is already gone: just release it
	batch  *logoutBatch // the mass logout this one is part of, or nil
}

func (r closeReq) Error() string {
	switch {
	case r.abort:
		return "session closed: connection ended"
	case r.logout != "":
		return "session closed: logged out (" + r.logout + ")"
	default:
		return "session closed: " + strconv.Itoa(int(r.code)) + " " + r.reason
	}
}

func (r closeReq) Unwrap() error { return ErrSessionClosed }

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
		ConnectedAt:    time.Unix(0, s.connectedAt),
		Printers:       printers,
	}
}

// poke asks the session to look for the client's jobs in the store, without blocking.
func (s *Session) poke() { s.wakeDelivery(true) }

// killed is closed when the session must end.
func (s *Session) killed() <-chan struct{} { return s.end.killed }

// kill ends the session (the first call wins): the writer sends the logout and close r asks for, and
// the session context is cancelled with r as its cause, so store calls made for the session stop.
func (s *Session) kill(r closeReq) {
	won := false
	s.end.once.Do(func() {
		won = true
		s.end.req = r
		close(s.end.killed)
		s.end.cancel(r)
	})
	if won {
		s.wakeWriter() // the writer sends the logout and close
	}
	if !won && r.batch != nil {
		r.batch.written.Done() // the session ends otherwise: the batch does not wait for its logout
	}
}

// LogoutReason maps a StillValid error to a logout reason ("" for errors that say nothing about the key).
func LogoutReason(err error) string {
	switch {
	case errors.Is(err, keys.ErrRevoked):
		return protocol.ReasonRevoked
	case errors.Is(err, keys.ErrInactive):
		return protocol.ReasonDeactivated
	case errors.Is(err, keys.ErrNotFound), errors.Is(err, keys.ErrDeleted):
		return protocol.ReasonDeleted
	case errors.Is(err, keys.ErrExpired):
		return protocol.ReasonExpired
	case errors.Is(err, keys.ErrOwnSecret):
		return protocol.ReasonOwnSecret
	case errors.Is(err, keys.ErrSharedSecret):
		return protocol.ReasonSharedSecret
	case errors.Is(err, keys.ErrRotated), errors.Is(err, keys.ErrUnauthenticated):
		// Rotated, and any other reason the key no longer authenticates (an expired token): the agent
		// must sign in again.
		return protocol.ReasonRotated
	}
	return ""
}

// stopRead ends the reader's wait: the connection closes.
func (s *Session) stopRead() { s.readStop() }
