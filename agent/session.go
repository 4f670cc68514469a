package agent

import (
	"context"
	"errors"
	"net/http"
	"time"

	"printdock/agent/link"
	"printdock/agent/localapi"
	"printdock/keystore"
	"printdock/protocol"
)

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
		cr := a.creds.snapshot()
		if cr.Secret == "" || cr.ServerURL == "" {
			a.setConn(func(f *connFields) { f.setState(idleState(cr)) })
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
		a.mu.Lock()
		a.sessCancel = cancel
		a.mu.Unlock()
		if a.creds.gen() != cr.Gen {
			cancel() // a login or logout came between the snapshot and sessCancel
		}
		a.setConn(func(f *connFields) {
			f.attempts = attempt
			f.setState(localapi.StateConnecting)
		})

		connected, err := a.session(sctx, cr)
		cancel()

		a.mu.Lock()
		a.sessCancel = nil
		a.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		if a.creds.gen() != cr.Gen { // login or logout while connected: start over with the new credentials
			attempt = 0
			continue
		}
		var lo *LogoutError
		if errors.As(err, &lo) {
			a.loggedOut(cr.Gen, lo)
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
		if a.creds.gen() == cr.Gen {
			a.setConn(func(f *connFields) {
				f.attempts = attempt
				f.nextRetry = time.Now().Add(delay)
				f.setError(err)
				f.setState(localapi.StateConnecting)
			})
		}
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
// No lock is held across the keystore delete; the generation decides whether a login came meanwhile.
func (a *Agent) loggedOut(gen uint64, lo *LogoutError) {
	if a.creds.gen() != gen {
		return // a new login replaced the secret meanwhile
	}
	if err := a.creds.deleteSecret(context.Background()); err != nil {
		a.log.Error("agent: cannot delete the secret after logout", "error", err)
	}
	now := time.Now().UTC()
	applied, serr := a.creds.update(func(f *credFields) bool {
		if f.gen != gen {
			return false
		}
		f.secret = ""
		f.gen++
		f.p.LogoutReason, f.p.LogoutMsg, f.p.LogoutAt, f.p.ClientID = lo.Reason, lo.Message, &now, ""
		return true
	})
	if !applied {
		// A login stored a new secret while the old one was being deleted: store it again.
		if c := a.creds.snapshot(); c.Secret != "" && a.creds.ks != nil {
			_ = a.creds.ks.Set(context.Background(), c.Secret)
		}
		return
	}
	msg := logoutMessage(lo.Reason)
	if lo.Message != "" {
		msg = "The server signed this agent out: " + lo.Message + "."
	}
	if lo.Detail != "" && lo.Status != 0 {
		msg += " (server: " + lo.Detail + ")"
	}
	a.setConn(func(f *connFields) {
		f.attempts, f.heartbeat = 0, 0
		f.setError(errors.New(msg))
		if serr != nil {
			f.setError(serr)
		}
		f.setState(localapi.StateLoggedOut)
	})
	a.log.Warn("agent: logged out by the server; the secret was deleted", "reason", lo.Reason, "http_status", lo.Status)
}

// linkConfig is what the link needs to connect to server with secret.
func (a *Agent) linkConfig(server, secret, deviceID string) (link.Config, error) {
	if a.hcErr != nil {
		return link.Config{}, uerr(ErrServerUnreachable, a.hcErr, "The CA file cannot be used: %v", a.hcErr)
	}
	u, err := AgentURL(server, a.cfg.Insecure)
	if err != nil {
		return link.Config{}, err
	}
	h := http.Header{}
	h.Set("Authorization", "Bearer "+secret)
	h.Set("User-Agent", "printdock-agent/"+a.cfg.Version)
	if deviceID != "" {
		h.Set(protocol.DeviceHeader, deviceID)
	}
	return link.Config{URL: u, Header: h, HTTPClient: a.hc, Hello: a.hello(), Heartbeat: a.cfg.Heartbeat, Log: a.log}, nil
}

func (a *Agent) hello() protocol.Hello {
	return protocol.Hello{
		ProtocolVersion: protocol.Version,
		AgentVersion:    a.cfg.Version,
		Hostname:        a.hostname,
		OS:              osName(),
		InstallationID:  a.creds.snapshot().InstID,
		Features:        []string{protocol.FeatureCancel},
	}
}

// session runs one connection (package link) with the credentials cr. It returns how long the session
// was connected (0 if never) and why it ended, in the agent's words.
func (a *Agent) session(ctx context.Context, cr credSnap) (time.Duration, error) {
	cfg, err := a.linkConfig(cr.ServerURL, cr.Secret, cr.P.DeviceID)
	if err != nil {
		return 0, err
	}
	a.dials.Add(1)
	h := &sessionHandler{a: a, gen: cr.Gen, spr: a.jobSpooler()}
	d, err := link.Run(ctx, cfg, h)
	if h.spr != nil && h.conn != nil {
		h.spr.detach(h.conn)
	}
	return d, linkError(err)
}

// sessionHandler is the agent's side of one session (link.Handler).
type sessionHandler struct {
	a    *Agent
	gen  uint64
	spr  *spooler
	conn *link.Conn // set at welcome
}

func (h *sessionHandler) Welcomed(ctx context.Context, c *link.Conn, w protocol.Welcome, hb time.Duration) bool {
	a := h.a
	if !a.connected(h.gen, w, hb) {
		return false
	}
	h.conn = c
	c.Post(ctx, protocol.Printers{Printers: a.printers.protocolList()})
	if h.spr != nil {
		h.spr.attach(ctx, c, w.Has(protocol.FeatureJobStatuses)) // statuses the server may have missed
	}
	changed := a.printers.subscribe()
	c.Go(func(ctx context.Context) {
		defer a.printers.unsubscribe(changed)
		for {
			select {
			case <-ctx.Done():
				return
			case <-changed:
				c.Post(ctx, protocol.Printers{Printers: a.printers.protocolList()})
			}
		}
	})
	return true
}

func (h *sessionHandler) Message(ctx context.Context, _ *link.Conn, m protocol.Message) {
	switch m := m.(type) {
	case protocol.Job:
		if h.spr != nil {
			h.spr.accept(ctx, m)
		}
	case protocol.Cancel:
		if h.spr != nil {
			h.spr.cancel(ctx, m.JobID)
		}
	default:
		h.a.log.Debug("agent: ignoring message", "type", m.MessageType())
	}
}

func (h *sessionHandler) Confirmed(t time.Time) {
	if h.spr != nil {
		h.spr.confirmed(t)
	}
}

// connected records a welcome; it returns false when the credentials changed meanwhile.
func (a *Agent) connected(gen uint64, w protocol.Welcome, hb time.Duration) bool {
	stale := false
	_, serr := a.creds.update(func(f *credFields) bool {
		if f.gen != gen {
			stale = true
			return false
		}
		changed := f.p.ClientID != w.ClientID || f.p.KeyKind != w.KeyKind || f.p.KeyDesc != w.KeyDescription || f.p.Portal != w.Portal
		f.p.ClientID, f.p.KeyKind, f.p.KeyDesc, f.p.Portal = w.ClientID, w.KeyKind, w.KeyDescription, w.Portal
		return changed
	})
	if stale {
		return false
	}
	a.printers.alertAfter.Store(int64(time.Duration(w.PrinterAlertSeconds) * time.Second))
	a.setConn(func(f *connFields) {
		f.attempts, f.heartbeat = 0, hb
		f.setError(serr)
		f.setState(localapi.StateConnected)
	})
	a.log.Info("agent: connected", "server", a.creds.snapshot().ServerURL, "client_id", w.ClientID, "key", w.KeyDescription, "heartbeat", hb)
	return true
}

func isNotFound(err error) bool { return errors.Is(err, keystore.ErrNotFound) }
