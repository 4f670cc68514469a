package agent

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"printdock/agent/link"
	"printdock/protocol"
)

// dialError classifies a failed dial of target (the websocket URL) and words it for staff; see
// link.ClassifyDial for which 401/403 answers log the agent out.
func dialError(target *url.URL, resp *http.Response, err error) error {
	var body []byte
	if resp != nil && resp.Body != nil {
		body, _ = io.ReadAll(io.LimitReader(resp.Body, 4096))
	}
	return linkError(link.ClassifyDial(target, resp, body, err))
}

// linkError turns the link's typed dial and close errors into the agent's plain-language errors (a
// *LogoutError for a refused secret or a logout, a *retryAfterError for a throttled dial); other
// errors pass through.
func linkError(err error) error {
	var de *link.DialError
	var ce *link.CloseError
	switch {
	case errors.As(err, &de):
		return dialWords(de)
	case errors.As(err, &ce):
		return closeWords(ce)
	}
	return err
}

func dialWords(e *link.DialError) error {
	switch e.Kind {
	case link.DialUnreachable:
		return uerr(ErrServerUnreachable, e.Err, "Cannot reach the server: %s", trimDialErr(e.Err))
	case link.DialNotPrintdock:
		return uerr(ErrServerUnreachable, ErrNotPrintdock,
			"The server at %s answered %d but not as a printdock server: check the server address and any proxy in between",
			displayURL(e.Target), e.Status)
	case link.DialRefused:
		return &LogoutError{Reason: e.Reason, Status: e.Status, Detail: e.Detail}
	case link.DialThrottled:
		return &retryAfterError{d: e.RetryAfter, err: uerr(ErrServerUnreachable, e.Err,
			"The server is refusing connections from this address for a while (too many failed attempts)")}
	}
	msg := fmt.Sprintf("The server answered %s instead of opening the agent connection", e.StatusText)
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	return uerr(ErrServerUnreachable, e.Err, "%s", msg)
}

// closeMessages words the kinds of ended connection that need nothing but a sentence.
var closeMessages = map[link.CloseKind]string{
	link.CloseProtocol:    "The server closed the connection: protocol error",
	link.CloseHeartbeat:   "The server closed the connection: heartbeat timeout",
	link.CloseShutdown:    "The server is restarting or shutting down",
	link.CloseTooBig:      "The server closed the connection: a message was too big",
	link.CloseNoWelcome:   "The server did not answer the agent's hello",
	link.CloseWriteFailed: "The connection to the server was lost",
	link.CloseHelloFailed: "The connection to the server was lost while saying hello",
}

func closeWords(e *link.CloseError) error {
	if msg, ok := closeMessages[e.Kind]; ok {
		return uerr(ErrServerUnreachable, e, "%s", msg)
	}
	switch e.Kind {
	case link.CloseLogout:
		return &LogoutError{Reason: e.Reason, Message: e.Message}
	case link.CloseUnsupported:
		return uerr(ErrServerUnreachable, e, "The server does not speak this agent's protocol version %d: update printdock-agent", protocol.Version)
	case link.CloseOther:
		return uerr(ErrServerUnreachable, e, "The server closed the connection (code %d)", int(e.Code))
	case link.CloseLimit:
		reason := e.Reason
		if reason == "" {
			reason = "a server limit is reached"
		}
		return uerr(ErrServerUnreachable, e, "The server refused to register this agent: %s", reason)
	case link.CloseDead:
		return uerr(ErrDeadLink, e, "The server stopped answering (no message for %s)", e.Silent.Round(time.Second))
	}
	return uerr(ErrServerUnreachable, e, "The connection to the server was lost: %v", e.Err)
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
	if err == nil {
		return "no answer"
	}
	s := err.Error()
	s = strings.TrimPrefix(s, "failed to WebSocket dial: ")
	s = strings.TrimPrefix(s, "failed to send handshake request: ")
	return s
}
