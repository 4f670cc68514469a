package gui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"printdock/agent/localapi"
)

// Plain-language texts. Everything staff read is built here so the wording stays consistent.

// stateTitle is the one-line connection state.
func stateTitle(st localapi.Status) string {
	switch st.State {
	case localapi.StateConnected:
		return "Connected"
	case localapi.StateConnecting:
		if st.Attempts > 0 || st.LastError != "" {
			return "Reconnecting"
		}
		return "Connecting"
	case localapi.StateLoggedOut:
		return "Signed out by the server"
	case localapi.StateNotLoggedIn:
		return "Not signed in"
	}
	if st.State == "" {
		return "Unknown"
	}
	return st.State
}

// keyKindText names a key kind.
func keyKindText(kind string) string {
	switch kind {
	case "print_client":
		return "print client secret"
	case "user":
		return "personal API key"
	case "shared":
		return "shared secret"
	}
	return kind
}

// logoutBanner says why the server signed this app out and what to do now.
func logoutBanner(st localapi.Status) string {
	at := ""
	if st.LogoutAt != nil {
		at = " at " + st.LogoutAt.Local().Format("15:04")
	}
	who := " by an administrator"
	what := "Your key"
	if st.KeyKind == "user" {
		what, who = "Your personal API key", ""
	}
	switch st.LogoutReason {
	case "rotated":
		if st.KeyKind == "user" {
			who = " (by you or an administrator)"
		}
		return fmt.Sprintf("%s was rotated%s%s — paste the new secret", what, who, at)
	case "revoked":
		return fmt.Sprintf("%s was revoked%s%s — ask for a new secret and paste it", what, who, at)
	case "deactivated":
		return fmt.Sprintf("%s was deactivated%s%s — ask an administrator to activate it again, or paste another secret", what, who, at)
	case "deleted":
		return fmt.Sprintf("%s was deleted%s%s — ask for a new secret and paste it", what, who, at)
	case "own_secret":
		return fmt.Sprintf("This device was given its own secret%s%s (same device ID) — paste the new secret", who, at)
	case "shared_secret":
		return fmt.Sprintf("This device was moved to the shared secret%s%s — paste the shared secret with this device ID", who, at)
	case "in_use":
		if st.LogoutMessage != "" {
			return fmt.Sprintf("The server refused this computer%s: %s", at, st.LogoutMessage)
		}
		return fmt.Sprintf("This secret is already used on another computer%s — ask your admin for a new one", at)
	case "expired":
		return fmt.Sprintf("%s expired%s — ask for a new secret and paste it", what, at)
	case "":
		return fmt.Sprintf("The server signed this computer out%s — paste a secret to sign in again", at)
	}
	return fmt.Sprintf("The server signed this computer out%s (%s) — paste a secret to sign in again", at, st.LogoutReason)
}

// printerStateText describes a printer's state for staff.
func printerStateText(state string) string {
	switch state {
	case "ready":
		return "Ready"
	case "busy":
		return "Printing"
	case "media_out":
		return "Out of labels (media out)"
	case "head_open":
		return "Print head open"
	case "paused":
		return "Paused"
	case "ribbon_out":
		return "Out of ribbon"
	case "error":
		return "Printer error"
	case "offline":
		return "Offline"
	case "unknown", "":
		return "Status unknown"
	}
	return strings.ReplaceAll(state, "_", " ")
}

// printerAdvice says what to do about a printer state, "" when nothing is needed.
func printerAdvice(state string) string {
	switch state {
	case "media_out":
		return "Load a new roll of labels."
	case "head_open":
		return "Close the print head until it clicks."
	case "paused":
		return "Press the pause button on the printer."
	case "ribbon_out":
		return "Load a new ribbon."
	case "offline":
		return "Check that the printer is switched on and its cable is plugged in."
	case "unknown":
		return "Check the printer: it may be out of labels or its head may be open."
	}
	return ""
}

// jobStateText describes a job state.
func jobStateText(state string) string {
	switch state {
	case "received":
		return "Received"
	case "printing":
		return "Printing"
	case "done":
		return "Printed"
	case "failed":
		return "Failed"
	case "waiting":
		return "Waiting for the printer"
	case "cancelled":
		return "Discarded"
	}
	return state
}

// printerCapsText describes what the agent knows of a printer's language and status channel, e.g.
// "EPL · 203 dpi · status: not asked (mode none)"; "" when it knows nothing to say.
func printerCapsText(p localapi.Printer) string {
	var parts []string
	switch p.Language {
	case "", "unknown":
		if p.StatusMode != "" {
			parts = append(parts, "Language not known yet")
		}
	default:
		parts = append(parts, strings.ToUpper(p.Language))
	}
	if p.DPI > 0 {
		parts = append(parts, fmt.Sprintf("%d dpi", p.DPI))
	}
	switch p.StatusMode {
	case "none":
		parts = append(parts, "status: not asked (mode none)")
	case "zpl":
		parts = append(parts, "status: ZPL ~HS (mode zpl)")
	case "auto":
		parts = append(parts, "status: automatic")
	}
	return strings.Join(parts, " · ")
}

// errorText turns an error from the agent into a sentence for staff with what to do.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	var ae *localapi.APIError
	msg := err.Error()
	if errors.As(err, &ae) && ae.Message != "" {
		msg = ae.Message
	}
	msg = strings.TrimRight(msg, ". ")
	switch localapi.ErrorCode(err) {
	case localapi.CodeAgentNotRunning:
		return "The printdock agent is not running. Start it in Settings, or ask IT to start the printdock service."
	case localapi.CodeUnauthorized:
		return msg + ". The server does not accept this secret: check that you copied the newest one from the portal, then paste it again."
	case localapi.CodeForbidden:
		return msg + ". This key is inactive or revoked: ask an administrator to activate it or to give you a new secret."
	case localapi.CodeServerUnreachable:
		return msg + ". Check the server address and this computer's network connection, then try again."
	case localapi.CodeInsecureURL:
		return msg + ". Use the https:// address of the server."
	case localapi.CodeDeviceIDRequired:
		return msg + ". Enter the device ID the administrator gave you."
	case localapi.CodeInvalidSecret:
		return msg + "."
	case localapi.CodePrinterNotFound:
		return msg + ". The printer may have been unplugged: check its cable and power."
	case localapi.CodeNotLoggedIn:
		return msg + ". Sign in first."
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "The printdock agent did not answer in time. Check that the printdock service is running (Settings), then try again."
	}
	return msg + "."
}

// agentDownText explains that the app cannot reach the agent; detail is the client's reason.
func agentDownText(detail string) string {
	t := "The printdock agent is not answering, so labels cannot print. Start the printdock service (see Settings), or ask IT."
	if detail != "" {
		t += "\nDetail: " + detail
	}
	return t
}

// ago formats how long ago t was, coarsely.
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
}

// in formats how long until t, in seconds or minutes.
func in(now, t time.Time) string {
	d := t.Sub(now).Round(time.Second)
	switch {
	case d <= 0:
		return "now"
	case d < time.Minute:
		return fmt.Sprintf("in %d s", int(d/time.Second))
	}
	return fmt.Sprintf("in %d min %d s", int(d/time.Minute), int(d%time.Minute/time.Second))
}

// clock formats a time of day, with the date when it is not today.
func clock(now, t time.Time) string {
	t, now = t.Local(), now.Local()
	if t.YearDay() == now.YearDay() && t.Year() == now.Year() {
		return t.Format("15:04")
	}
	return t.Format("2 Jan 15:04")
}
