package agent

import (
	"context"
	"log/slog"
	"strings"
)

// EventLog receives the service's important log lines besides the log file: on Windows the
// Application event log through kardianos/service's Logger (whose method set this is), elsewhere
// the system log. Set Config.EventLog; nil means none.
type EventLog interface {
	Error(v ...any) error
	Warning(v ...any) error
	Info(v ...any) error
}

// eventMessages are the Info lines that also go to the event log; every warning and error does.
var eventMessages = map[string]bool{
	"agent: started": true, "agent: stopped": true, "agent: connected": true,
	"agent: logged in": true, "agent: logged out; the secret was deleted": true,
}

// toEventLog sends r (its message and attrs, formatted as in the ring) to ev when it is important.
func toEventLog(ev EventLog, r slog.Record, attrs string) {
	if ev == nil || r.Level < slog.LevelWarn && !eventMessages[r.Message] {
		return
	}
	line := strings.TrimSpace(r.Message + " " + strings.TrimSpace(attrs))
	switch {
	case r.Level >= slog.LevelError:
		_ = ev.Error(line)
	case r.Level >= slog.LevelWarn:
		_ = ev.Warning(line)
	default:
		_ = ev.Info(line)
	}
}

// eventHandler is the part of ringHandler's Handle that feeds the event log (ctx unused).
func (h *ringHandler) event(_ context.Context, r slog.Record, attrs string) {
	toEventLog(h.ev, r, attrs)
}
