package agent

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"

	"printdock/agent/link"
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
		serverURL = a.creds.snapshot().ServerURL
	}
	if _, err := AgentURL(serverURL, a.cfg.Insecure); err != nil {
		return a.Status(), plainURLError(err)
	}
	ks := a.creds.ks
	if ks == nil {
		return a.Status(), uerr(ErrNotLoggedIn, a.creds.ksErr, "The keystore cannot be used, so the secret cannot be stored: %v", a.creds.ksErr)
	}
	id, err := installationID(a.cfg.StateDir, true)
	if err != nil {
		return a.Status(), uerr(err, err, "The state directory %s cannot be written: %v", a.cfg.StateDir, err)
	}
	a.creds.setInstID(id)

	w, err := a.Verify(ctx, serverURL, secret, deviceID)
	if err != nil {
		return a.Status(), err
	}
	if err := ks.Set(ctx, secret); err != nil {
		return a.Status(), uerr(err, err, "The server accepted the secret, but it could not be stored in the %s keystore: %v", ks.Backend(), err)
	}

	now := time.Now().UTC()
	running := a.isRunning()
	a.creds.update(func(f *credFields) bool {
		f.gen++
		if running {
			f.secret = secret
		}
		f.p = persisted{
			ServerURL:  serverURL,
			DeviceID:   deviceID,
			KeyKind:    w.KeyKind,
			KeyDesc:    w.KeyDescription,
			KeyPrefix:  protocol.SecretPrefix(secret),
			Portal:     w.Portal,
			ClientID:   w.ClientID,
			LoggedInAt: &now,
		}
		f.pErr = nil
		return true
	})
	a.cancelSession()
	var ch <-chan localapi.Status
	var unsub func()
	if running {
		ch, unsub = a.pub.subscribe()
	}
	a.setConn(func(f *connFields) {
		f.attempts = 0
		f.setError(nil)
		if running {
			f.setState(localapi.StateConnecting)
		}
	})
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

// Verify checks secret with the server without storing anything: it opens the agent websocket, sends
// hello and waits for welcome. A refused secret is an error wrapping ErrUnauthorized (401) or
// ErrForbidden (403); a network problem wraps ErrServerUnreachable.
func (a *Agent) Verify(ctx context.Context, serverURL, secret, deviceID string) (protocol.Welcome, error) {
	cfg, err := a.linkConfig(serverURL, secret, deviceID)
	if err != nil {
		return protocol.Welcome{}, loginError(err)
	}
	a.dials.Add(1)
	w, err := link.Verify(ctx, cfg)
	var ce *link.CloseError
	switch {
	case err == nil:
		return w, nil
	case errors.As(err, &ce) && ce.Kind == link.CloseHelloFailed:
		return protocol.Welcome{}, uerr(ErrServerUnreachable, err, "The connection to the server was lost during sign-in. Nothing was stored.")
	case errors.As(err, &ce) && ce.Kind == link.CloseNoWelcome:
		return protocol.Welcome{}, uerr(ErrServerUnreachable, err, "The server did not confirm the sign-in in time. Nothing was stored.")
	}
	return protocol.Welcome{}, loginError(linkError(err))
}

// loginError turns a failed verification into a plain-language error that says nothing was stored.
func loginError(err error) error {
	var lo *LogoutError
	if errors.As(err, &lo) {
		detail := ""
		if lo.Detail != "" {
			detail = " (server: " + lo.Detail + ")"
		}
		if lo.Message != "" {
			return uerr(ErrForbidden, err, "The server refused this computer: %s. Nothing was stored.", lo.Message)
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
	case protocol.ReasonExpired:
		return "expired"
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
	a.creds.update(func(f *credFields) bool {
		f.gen++
		f.secret = ""
		return false
	})
	a.cancelSession()
	derr := a.creds.deleteSecret(ctx) // no lock held
	_, serr := a.creds.update(func(f *credFields) bool {
		f.p = persisted{ServerURL: f.p.ServerURL}
		return true
	})
	a.setConn(func(f *connFields) {
		f.attempts = 0
		f.setError(serr)
		if derr != nil {
			f.setError(derr)
		}
		f.setState(localapi.StateNotLoggedIn)
	})
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
