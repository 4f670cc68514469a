package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"printdock/agent/localapi"
	"printdock/keystore"
	"printdock/protocol"
)

// Session timing.
const (
	dialTimeout      = 30 * time.Second
	welcomeTimeout   = 15 * time.Second
	writeTimeout     = 10 * time.Second
	defaultHeartbeat = 30 * time.Second
	deadAfter        = 3 // silent heartbeat intervals before the link is declared dead
)

// creds is what one session needs.
type creds struct {
	gen      uint64
	secret   string
	server   string
	deviceID string
}

// loop runs sessions until ctx is done: connect, run, and on failure wait (backoff) and reconnect. A
// logout (server message, close 4001, or printdock-server's own 401/403 on connect) ends the
// reconnecting until the next login; a 401/403 from anything else is retried like a network error.
func (a *Agent) loop(ctx context.Context) {
	attempt := 0
	for ctx.Err() == nil {
		select { // a kick that arrived before we read the credentials is already accounted for
		case <-a.kick:
		default:
		}
		a.mu.Lock()
		cr := creds{gen: a.gen, secret: a.secret, server: a.serverURLLocked(), deviceID: a.p.DeviceID}
		if cr.secret == "" || cr.server == "" {
			a.setStateLocked(a.idleStateLocked())
			a.mu.Unlock()
			a.idleWaits.Add(1) // the loop now waits for a login: no dial happens before one
			select {
			case <-ctx.Done():
				return
			case <-a.kick:
				attempt = 0
				continue
			}
		}
		sctx, cancel := context.WithCancel(ctx)
		a.sessCancel = cancel
		a.rt.attempts = attempt
		a.setStateLocked(localapi.StateConnecting)
		a.mu.Unlock()

		connected, err := a.session(sctx, cr)
		cancel()

		a.mu.Lock()
		a.sessCancel = nil
		changed := a.gen != cr.gen
		a.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		if changed { // login or logout while connected: start over with the new credentials
			attempt = 0
			continue
		}
		var lo *LogoutError
		if errors.As(err, &lo) {
			a.loggedOut(cr.gen, lo)
			attempt = 0
			continue
		}
		if connected >= a.backoff.HealthyAfter {
			attempt = 0
		}
		delay := a.backoff.Delay(attempt)
		var ra *retryAfterError
		if errors.As(err, &ra) && ra.d > delay {
			delay = ra.d
		}
		attempt++
		a.mu.Lock()
		if a.gen == cr.gen {
			a.rt.attempts = attempt
			a.rt.nextRetry = time.Now().Add(delay)
			a.setErrorLocked(err)
			a.setStateLocked(localapi.StateConnecting)
		}
		a.mu.Unlock()
		a.log.Warn("agent: disconnected; reconnecting", "error", err, "retry_in", delay.Round(time.Millisecond), "attempt", attempt)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-a.kick:
			t.Stop()
			attempt = 0
		case <-t.C:
		}
	}
}

// loggedOut handles a forced logout: delete the secret, remember why (state.json), stop reconnecting.
func (a *Agent) loggedOut(gen uint64, lo *LogoutError) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.gen != gen {
		return // a new login replaced the secret meanwhile
	}
	if a.ks != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := a.ks.Delete(ctx); err != nil {
			a.log.Error("agent: cannot delete the secret after logout", "error", err)
		}
		cancel()
	}
	a.secret = ""
	a.gen++
	now := time.Now().UTC()
	a.p.LogoutReason = lo.Reason
	a.p.LogoutAt = &now
	a.p.ClientID = ""
	a.savePersistedLocked()
	a.rt.attempts = 0
	a.rt.heartbeat = 0
	msg := logoutMessage(lo.Reason)
	if lo.Detail != "" && lo.Status != 0 {
		msg += " (server: " + lo.Detail + ")"
	}
	a.setErrorLocked(errors.New(msg))
	a.setStateLocked(localapi.StateLoggedOut)
	a.log.Warn("agent: logged out by the server; the secret was deleted", "reason", lo.Reason, "http_status", lo.Status)
}

// Refusal codes printdock-server's agent endpoint answers a refused secret with (server/api: 401 via
// httpx.CodeUnauthenticated; 403 for an inactive or revoked key, or httpx.CodeForbidden).
var (
	refusal401Codes = []string{"unauthenticated"}
	refusal403Codes = []string{"key_inactive", "key_revoked", "forbidden"}
)

// errorBody is printdock-server's JSON error shape.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// dialError classifies a failed dial of target (the websocket URL). A 401 or 403 means the secret no
// longer works (a *LogoutError) only when it is printdock-server's own answer (see printdockRefusal);
// any other 401/403 — a proxy, a login page, another service at a wrong address — is reported as such
// and the agent keeps retrying with backoff, so that it never deletes a working secret because
// something else answered.
func dialError(target *url.URL, resp *http.Response, err error) error {
	if resp == nil {
		return uerr(ErrServerUnreachable, err, "Cannot reach the server: %s", trimDialErr(err))
	}
	var body []byte
	if resp.Body != nil {
		body, _ = io.ReadAll(io.LimitReader(resp.Body, 4096))
	}
	detail := ""
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil {
		detail = strings.TrimSpace(eb.Error.Code + ": " + eb.Error.Message)
		detail = strings.Trim(detail, ": ")
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		if !printdockRefusal(target, resp, body) {
			return uerr(ErrServerUnreachable, ErrNotPrintdock,
				"The server at %s answered %d but not as a printdock server: check the server address and any proxy in between",
				displayURL(target), resp.StatusCode)
		}
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		return &LogoutError{Reason: protocol.ReasonInvalid, Status: resp.StatusCode, Detail: detail}
	case http.StatusForbidden:
		reason := protocol.ReasonInvalid
		l := strings.ToLower(detail)
		switch {
		case strings.Contains(l, "revoked"):
			reason = protocol.ReasonRevoked
		case strings.Contains(l, "inactive"), strings.Contains(l, "deactivated"):
			reason = protocol.ReasonDeactivated
		case strings.Contains(l, "deleted"):
			reason = protocol.ReasonDeleted
		}
		return &LogoutError{Reason: reason, Status: resp.StatusCode, Detail: detail}
	case http.StatusTooManyRequests:
		d := 30 * time.Second
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			d = time.Duration(s) * time.Second
		}
		return &retryAfterError{d: d, err: uerr(ErrServerUnreachable, err,
			"The server is refusing connections from this address for a while (too many failed attempts)")}
	}
	msg := fmt.Sprintf("The server answered %s instead of opening the agent connection", resp.Status)
	if detail != "" {
		msg += " (" + detail + ")"
	}
	return uerr(ErrServerUnreachable, err, "%s", msg)
}

// printdockRefusal reports whether a 401/403 answer is printdock-server's own refusal of the secret:
//   - it answers the request sent to target itself (same scheme, host and path; redirects are never
//     followed), over TLS for wss:// — so a proxy cannot have made it up — or, for ws://, over a direct
//     connection (plain requests never use a proxy);
//   - its body is printdock's JSON error ({"error":{"code":…}}, Content-Type application/json) with a
//     code the agent endpoint uses for that status.
func printdockRefusal(target *url.URL, resp *http.Response, body []byte) bool {
	if target == nil || resp.Request == nil || resp.Request.URL == nil {
		return false
	}
	got := resp.Request.URL
	wantScheme := map[string]string{"wss": "https", "ws": "http"}[target.Scheme]
	if wantScheme == "" || !strings.EqualFold(got.Scheme, wantScheme) ||
		!strings.EqualFold(got.Host, target.Host) || got.Path != target.Path {
		return false
	}
	if wantScheme == "https" && (resp.TLS == nil || !resp.TLS.HandshakeComplete) {
		return false
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return false
	}
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err != nil {
		return false
	}
	codes := refusal401Codes
	if resp.StatusCode == http.StatusForbidden {
		codes = refusal403Codes
	}
	return slices.Contains(codes, eb.Error.Code)
}

// displayURL is the server's address as staff know it (https://host/…, not wss://).
func displayURL(u *url.URL) string {
	if u == nil {
		return "the configured address"
	}
	c := *u
	switch c.Scheme {
	case "wss":
		c.Scheme = "https"
	case "ws":
		c.Scheme = "http"
	}
	c.Path = strings.TrimSuffix(c.Path, protocol.Path)
	c.RawPath = ""
	return c.String()
}

func trimDialErr(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "failed to WebSocket dial: ")
	s = strings.TrimPrefix(s, "failed to send handshake request: ")
	return s
}

// dial opens the websocket with the secret. It does not send hello.
func (a *Agent) dial(ctx context.Context, cr creds) (*websocket.Conn, error) {
	if a.hcErr != nil {
		return nil, uerr(ErrServerUnreachable, a.hcErr, "The CA file cannot be used: %v", a.hcErr)
	}
	u, err := AgentURL(cr.server, a.cfg.Insecure)
	if err != nil {
		return nil, err
	}
	target, err := url.Parse(u)
	if err != nil {
		return nil, fmt.Errorf("agent: %w: %v", ErrBadURL, err)
	}
	h := http.Header{}
	h.Set("Authorization", "Bearer "+cr.secret)
	h.Set("User-Agent", "printdock-agent/"+a.cfg.Version)
	if cr.deviceID != "" {
		h.Set(protocol.DeviceHeader, cr.deviceID)
	}
	a.dials.Add(1)
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	conn, resp, err := websocket.Dial(dctx, u, &websocket.DialOptions{HTTPClient: a.hc, HTTPHeader: h})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, dialError(target, resp, err)
	}
	conn.SetReadLimit(protocol.MaxMessageSize)
	return conn, nil
}

func (a *Agent) hello() protocol.Hello {
	a.mu.Lock()
	id := a.instID
	a.mu.Unlock()
	return protocol.Hello{
		ProtocolVersion: protocol.Version,
		AgentVersion:    a.cfg.Version,
		Hostname:        a.hostname,
		OS:              osName(),
		InstallationID:  id,
	}
}

func writeMsg(ctx context.Context, c *websocket.Conn, m protocol.Message) error {
	b, err := protocol.Encode(m)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	if err := c.Write(wctx, websocket.MessageText, b); err != nil {
		return fmt.Errorf("agent: send %s: %w", m.MessageType(), err)
	}
	return nil
}

// reader reads messages into msgs until the connection fails, recording when anything arrived.
type reader struct {
	msgs     chan protocol.Message
	err      chan error
	lastSeen atomic.Int64 // unix nanoseconds
}

func (a *Agent) startReader(ctx context.Context, c *websocket.Conn, wg *sync.WaitGroup) *reader {
	r := &reader{msgs: make(chan protocol.Message, 16), err: make(chan error, 1)}
	r.lastSeen.Store(time.Now().UnixNano())
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			typ, data, err := c.Read(ctx)
			if err != nil {
				r.err <- err
				return
			}
			r.lastSeen.Store(time.Now().UnixNano())
			if typ != websocket.MessageText {
				a.log.Warn("agent: ignoring a binary websocket message")
				continue
			}
			m, err := protocol.Decode(data)
			if err != nil {
				a.log.Warn("agent: ignoring a message the agent does not understand", "error", err)
				_ = writeMsg(ctx, c, protocol.Error{Code: "bad_message", Message: err.Error()})
				continue
			}
			select {
			case r.msgs <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	return r
}

// closeError turns the error that ended a read into the session's result.
func closeError(err error, pendingLogout string) error {
	code := websocket.CloseStatus(err)
	switch {
	case pendingLogout != "":
		return &LogoutError{Reason: pendingLogout}
	case code == protocol.CloseLoggedOut:
		reason := protocol.ReasonInvalid
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			for _, r := range []string{protocol.ReasonRotated, protocol.ReasonRevoked, protocol.ReasonDeactivated, protocol.ReasonDeleted} {
				if strings.Contains(ce.Reason, r) {
					reason = r
				}
			}
		}
		return &LogoutError{Reason: reason}
	case code == protocol.CloseUnsupportedVersion:
		return uerr(ErrServerUnreachable, err, "The server does not speak this agent's protocol version %d: update printdock-agent", protocol.Version)
	case code == protocol.CloseProtocolError:
		return uerr(ErrServerUnreachable, err, "The server closed the connection: protocol error")
	case code == protocol.CloseHeartbeatTimeout:
		return uerr(ErrServerUnreachable, err, "The server closed the connection: heartbeat timeout")
	case code == protocol.CloseServerShutdown || code == websocket.StatusGoingAway:
		return uerr(ErrServerUnreachable, err, "The server is restarting or shutting down")
	case code == websocket.StatusMessageTooBig:
		return uerr(ErrServerUnreachable, err, "The server closed the connection: a message was too big")
	case code != -1:
		return uerr(ErrServerUnreachable, err, "The server closed the connection (code %d)", int(code))
	}
	return uerr(ErrServerUnreachable, err, "The connection to the server was lost: %v", err)
}

// session runs one connection: dial, hello, welcome, printers, then messages and heartbeats until the
// connection ends. It returns how long the session was connected (0 if never) and why it ended.
func (a *Agent) session(ctx context.Context, cr creds) (time.Duration, error) {
	conn, err := a.dial(ctx, cr)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer conn.CloseNow()
	rctx, cancelRead := context.WithCancel(ctx)
	defer cancelRead()

	if err := writeMsg(ctx, conn, a.hello()); err != nil {
		return 0, uerr(ErrServerUnreachable, err, "The connection to the server was lost while saying hello")
	}
	rd := a.startReader(rctx, conn, &wg)
	spr := a.jobSpooler()
	if spr != nil {
		defer spr.detach(conn)
	}

	var (
		connectedAt time.Time
		interval    = a.cfg.Heartbeat
		nonce       uint64
		pingSent    = map[uint64]time.Time{} // our pings not answered yet
		pending     string                   // reason of a logout message
	)
	if interval <= 0 {
		interval = defaultHeartbeat
	}
	connectedFor := func() time.Duration {
		if connectedAt.IsZero() {
			return 0
		}
		return time.Since(connectedAt)
	}
	lost := func(err error) error {
		return drain(ctx, rd, uerr(ErrServerUnreachable, err, "The connection to the server was lost"))
	}
	welcomeTimer := time.NewTimer(welcomeTimeout)
	defer welcomeTimer.Stop()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	printersChanged := a.printers.subscribe()
	defer a.printers.unsubscribe(printersChanged)

	for {
		select {
		case <-ctx.Done():
			cancelRead()
			closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
			go func() { <-closeCtx.Done(); conn.CloseNow() }()
			_ = conn.Close(websocket.StatusGoingAway, "agent stopping")
			cancel()
			return connectedFor(), ctx.Err()

		case err := <-rd.err:
			return connectedFor(), closeError(err, pending)

		case <-welcomeTimer.C:
			if connectedAt.IsZero() {
				_ = conn.Close(protocol.CloseProtocolError, "no welcome")
				return 0, uerr(ErrServerUnreachable, nil, "The server did not answer the agent's hello")
			}

		case m := <-rd.msgs:
			switch m := m.(type) {
			case protocol.Welcome:
				if !connectedAt.IsZero() {
					continue
				}
				connectedAt = time.Now()
				if a.cfg.Heartbeat <= 0 && m.HeartbeatSeconds > 0 {
					interval = time.Duration(m.HeartbeatSeconds) * time.Second
					ticker.Reset(interval)
				}
				if !a.connected(cr.gen, m, interval) {
					return 0, ctx.Err()
				}
				if err := writeMsg(ctx, conn, protocol.Printers{Printers: a.printers.protocolList()}); err != nil {
					return connectedFor(), lost(err)
				}
				if spr != nil {
					spr.attach(ctx, conn) // statuses the server may have missed
				}
			case protocol.Ping:
				if err := writeMsg(ctx, conn, protocol.Pong{Nonce: m.Nonce}); err != nil {
					return connectedFor(), lost(err)
				}
			case protocol.Pong:
				// lastSeen was updated by the reader
				if at, ok := pingSent[m.Nonce]; ok {
					for n := range pingSent {
						if n <= m.Nonce {
							delete(pingSent, n)
						}
					}
					if spr != nil {
						spr.confirmed(at)
					}
				}
			case protocol.Logout:
				pending = m.Reason
				a.log.Info("agent: the server sent logout", "reason", m.Reason)
				return connectedFor(), &LogoutError{Reason: m.Reason}
			case protocol.Job:
				if connectedAt.IsZero() {
					continue
				}
				if spr != nil {
					spr.accept(ctx, m)
				} else {
					a.startJob(m, conn)
				}
			case protocol.Error:
				a.log.Warn("agent: the server refused a message", "code", m.Code, "message", m.Message)
			default:
				a.log.Debug("agent: ignoring message", "type", m.MessageType())
			}

		case <-ticker.C:
			silent := time.Since(time.Unix(0, rd.lastSeen.Load()))
			if silent > time.Duration(deadAfter)*interval {
				a.log.Warn("agent: the server stopped answering; reconnecting", "silent_for", silent.Round(time.Millisecond))
				conn.CloseNow()
				return connectedFor(), uerr(ErrDeadLink, nil, "The server stopped answering (no message for %s)", silent.Round(time.Second))
			}
			nonce++
			if len(pingSent) < 16 {
				pingSent[nonce] = time.Now()
			}
			if err := writeMsg(ctx, conn, protocol.Ping{Nonce: nonce}); err != nil {
				return connectedFor(), lost(err)
			}

		case <-printersChanged:
			if connectedAt.IsZero() {
				continue // sent after welcome anyway
			}
			if err := writeMsg(ctx, conn, protocol.Printers{Printers: a.printers.protocolList()}); err != nil {
				return connectedFor(), lost(err)
			}
		}
	}
}

// drain is called after a write failed: the server may have logged the agent out at that very moment, so
// the messages and close code still in flight decide (a logout wins over the write error).
func drain(ctx context.Context, rd *reader, werr error) error {
	t := time.NewTimer(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case m := <-rd.msgs:
			if lo, ok := m.(protocol.Logout); ok {
				return &LogoutError{Reason: lo.Reason}
			}
		case err := <-rd.err:
			if cerr := closeError(err, ""); errors.Is(cerr, ErrLoggedOut) {
				return cerr
			}
			return werr
		case <-t.C:
			return werr
		case <-ctx.Done():
			return werr
		}
	}
}

// connected records a welcome; it returns false when the credentials changed meanwhile.
func (a *Agent) connected(gen uint64, w protocol.Welcome, hb time.Duration) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.gen != gen {
		return false
	}
	changed := a.p.ClientID != w.ClientID || a.p.KeyKind != w.KeyKind || a.p.KeyDesc != w.KeyDescription || a.p.Portal != w.Portal
	a.p.ClientID, a.p.KeyKind, a.p.KeyDesc, a.p.Portal = w.ClientID, w.KeyKind, w.KeyDescription, w.Portal
	if changed {
		a.savePersistedLocked()
	}
	a.rt.attempts = 0
	a.rt.heartbeat = hb
	a.setErrorLocked(nil)
	a.setStateLocked(localapi.StateConnected)
	a.log.Info("agent: connected", "server", a.serverURLLocked(), "client_id", w.ClientID, "key", w.KeyDescription, "heartbeat", hb)
	return true
}

func isNotFound(err error) bool { return errors.Is(err, keystore.ErrNotFound) }
