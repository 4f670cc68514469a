package agent

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/coder/websocket"

	"printdock/agent/localapi"
	"printdock/protocol"
)

// Login signs the agent in: it checks the secret's prefix and checksum locally (a truncated or mistyped
// paste fails here, before any network call), verifies it with the server (a websocket session up to
// welcome), and only then stores it in the keystore and remembers serverURL and deviceID in the state
// directory. A running agent then connects with it; Login waits (Config.LoginWait at most) until that
// session is connected or has failed, and returns the Status. serverURL "" reuses the current server.
// deviceID is needed with the portal's shared secret (pds_) and ignored otherwise.
//
// On any error nothing is stored and the previous login, if any, stays in place.
func (a *Agent) Login(ctx context.Context, serverURL, secret, deviceID string) (localapi.Status, error) {
	secret = protocol.NormalizeSecret(secret)
	deviceID = strings.TrimSpace(deviceID)
	kind, err := protocol.ParseSecret(secret)
	if err != nil {
		return a.Status(), uerr(ErrInvalidSecret, err, "%s. Nothing was stored.", sentence(err.Error()))
	}
	switch kind {
	case protocol.KindPrintClient, protocol.KindUser:
		deviceID = ""
	case protocol.KindShared:
		if deviceID == "" {
			return a.Status(), uerr(ErrDeviceIDRequired, nil, "This is the portal's shared secret: it needs the device ID too (--device-id). Nothing was stored.")
		}
		if len(deviceID) > 256 || strings.ContainsAny(deviceID, "\r\n\x00") {
			return a.Status(), uerr(ErrDeviceIDRequired, nil, "The device ID is not valid. Nothing was stored.")
		}
	default:
		return a.Status(), uerr(ErrInvalidSecret, nil, "This secret (%s…) is for integrations, not for an agent: use a print client secret (pdc_), a personal API key (pdu_) or the shared secret (pds_) with a device ID. Nothing was stored.", kind)
	}
	serverURL = strings.TrimSpace(serverURL)
	if serverURL == "" {
		a.mu.Lock()
		serverURL = a.serverURLLocked()
		a.mu.Unlock()
	}
	if _, err := AgentURL(serverURL, a.cfg.Insecure); err != nil {
		return a.Status(), plainURLError(err)
	}
	if a.ks == nil {
		return a.Status(), uerr(ErrNotLoggedIn, a.ksErr, "The keystore cannot be used, so the secret cannot be stored: %v", a.ksErr)
	}
	id, err := installationID(a.cfg.StateDir, true)
	if err != nil {
		return a.Status(), uerr(err, err, "The state directory %s cannot be written: %v", a.cfg.StateDir, err)
	}
	a.mu.Lock()
	a.instID = id
	a.mu.Unlock()

	w, err := a.Verify(ctx, serverURL, secret, deviceID)
	if err != nil {
		return a.Status(), err
	}
	if err := a.ks.Set(ctx, secret); err != nil {
		return a.Status(), uerr(err, err, "The server accepted the secret, but it could not be stored in the %s keystore: %v", a.ks.Backend(), err)
	}

	now := time.Now().UTC()
	a.mu.Lock()
	a.gen++
	if a.running {
		a.secret = secret
	}
	a.p = persisted{
		ServerURL:  serverURL,
		DeviceID:   deviceID,
		KeyKind:    w.KeyKind,
		KeyDesc:    w.KeyDescription,
		KeyPrefix:  protocol.SecretPrefix(secret),
		Portal:     w.Portal,
		ClientID:   w.ClientID,
		LoggedInAt: &now,
	}
	a.pErr = nil
	a.savePersistedLocked()
	a.rt.attempts = 0
	a.setErrorLocked(nil)
	if a.sessCancel != nil {
		a.sessCancel()
	}
	running := a.running
	var ch <-chan localapi.Status
	var unsub func()
	if running {
		ch, unsub = a.subscribeLocked()
		a.setStateLocked(localapi.StateConnecting)
	}
	a.mu.Unlock()
	a.log.Info("agent: logged in", "server", serverURL, "key", w.KeyDescription, "key_prefix", protocol.SecretPrefix(secret))
	if !running {
		return a.Status(), nil
	}
	defer unsub()
	select {
	case a.kick <- struct{}{}:
	default:
	}
	t := time.NewTimer(a.cfg.LoginWait)
	defer t.Stop()
	for {
		select {
		case st, ok := <-ch:
			if !ok || st.State != localapi.StateConnecting || st.Attempts > 0 {
				return a.Status(), nil
			}
		case <-t.C:
			return a.Status(), nil
		case <-ctx.Done():
			return a.Status(), nil
		}
	}
}

func (a *Agent) subscribeLocked() (<-chan localapi.Status, func()) {
	ch := make(chan localapi.Status, 1)
	a.subSeq++
	id := a.subSeq
	a.subs[id] = ch
	return ch, func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		if c, ok := a.subs[id]; ok {
			delete(a.subs, id)
			close(c)
		}
	}
}

// Verify checks secret with the server without storing anything: it opens the agent websocket, sends
// hello and waits for welcome. A refused secret is an error wrapping ErrUnauthorized (401) or
// ErrForbidden (403); a network problem wraps ErrServerUnreachable.
func (a *Agent) Verify(ctx context.Context, serverURL, secret, deviceID string) (protocol.Welcome, error) {
	conn, err := a.dial(ctx, creds{secret: secret, server: serverURL, deviceID: deviceID})
	if err != nil {
		return protocol.Welcome{}, loginError(err)
	}
	defer conn.CloseNow()
	if err := writeMsg(ctx, conn, a.hello()); err != nil {
		return protocol.Welcome{}, uerr(ErrServerUnreachable, err, "The connection to the server was lost during sign-in. Nothing was stored.")
	}
	rctx, cancel := context.WithTimeout(ctx, welcomeTimeout)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	rd := a.startReader(rctx, conn, &wg)
	for {
		select {
		case <-rctx.Done():
			conn.CloseNow()
			return protocol.Welcome{}, uerr(ErrServerUnreachable, rctx.Err(), "The server did not confirm the sign-in in time. Nothing was stored.")
		case err := <-rd.err:
			return protocol.Welcome{}, loginError(closeError(err, ""))
		case m := <-rd.msgs:
			switch m := m.(type) {
			case protocol.Welcome:
				closeCtx, cc := context.WithTimeout(context.Background(), time.Second)
				go func() { <-closeCtx.Done(); conn.CloseNow() }()
				_ = conn.Close(websocket.StatusNormalClosure, "login verified")
				cc()
				cancel()
				return m, nil
			case protocol.Logout:
				return protocol.Welcome{}, loginError(&LogoutError{Reason: m.Reason})
			case protocol.Ping:
				_ = writeMsg(rctx, conn, protocol.Pong{Nonce: m.Nonce})
			}
		}
	}
}

// loginError turns a failed verification into a plain-language error that says nothing was stored.
func loginError(err error) error {
	var lo *LogoutError
	if errors.As(err, &lo) {
		detail := ""
		if lo.Detail != "" {
			detail = " (server: " + lo.Detail + ")"
		}
		if lo.Status == 403 || lo.Reason == protocol.ReasonRevoked || lo.Reason == protocol.ReasonDeactivated {
			return uerr(ErrForbidden, err, "The server knows this secret but does not accept it: the key is %s%s. Nothing was stored.", reasonWords(lo.Reason), detail)
		}
		return uerr(ErrUnauthorized, err, "The server refused this secret: it is wrong, or it was rotated, revoked or deleted%s. Nothing was stored.", detail)
	}
	var ue *userError
	if errors.As(err, &ue) && !strings.Contains(ue.msg, "Nothing was stored") {
		return &userError{msg: strings.TrimSuffix(ue.msg, ".") + ". Nothing was stored.", kind: ue.kind, cause: ue.cause}
	}
	return err
}

func reasonWords(r string) string {
	switch r {
	case protocol.ReasonRevoked:
		return "revoked"
	case protocol.ReasonDeactivated:
		return "inactive"
	case protocol.ReasonDeleted:
		return "deleted"
	case protocol.ReasonRotated:
		return "rotated"
	}
	return "inactive or revoked"
}

func plainURLError(err error) error {
	switch {
	case errors.Is(err, ErrInsecureURL):
		return uerr(ErrInsecureURL, err, "Refusing an unencrypted connection (ws:// or http://) to a server that is not on this machine: use https://, or pass --insecure if you really mean it. Nothing was stored.")
	default:
		return uerr(ErrBadURL, err, "The server address cannot be used: %v. Nothing was stored.", strings.TrimPrefix(err.Error(), "agent: "))
	}
}

// Logout deletes the stored secret and disconnects. The agent stays not_logged_in until the next Login.
func (a *Agent) Logout(ctx context.Context) (localapi.Status, error) {
	a.mu.Lock()
	a.gen++
	a.secret = ""
	if a.sessCancel != nil {
		a.sessCancel()
	}
	a.mu.Unlock()
	var derr error
	if a.ks != nil {
		derr = a.ks.Delete(ctx)
	} else {
		derr = a.ksErr
	}
	a.mu.Lock()
	a.p = persisted{ServerURL: a.p.ServerURL}
	a.savePersistedLocked()
	a.rt.attempts = 0
	a.setErrorLocked(nil)
	if derr != nil {
		a.setErrorLocked(derr)
	}
	a.setStateLocked(localapi.StateNotLoggedIn)
	a.mu.Unlock()
	if derr != nil {
		return a.Status(), uerr(derr, derr, "The secret could not be deleted from the keystore: %v", derr)
	}
	a.log.Info("agent: logged out; the secret was deleted")
	return a.Status(), nil
}

// sentence capitalises s's first letter.
func sentence(s string) string {
	for i, r := range s {
		return string(unicode.ToUpper(r)) + s[i+len(string(r)):]
	}
	return s
}
