package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"printdock/server/events"
	"printdock/server/httpx"
	"printdock/server/keys"
	"printdock/server/store"
)

// EventLog is what the event stream reads: events.Bus.
type EventLog interface {
	Changed() <-chan struct{}
	Read(ctx context.Context, f store.EventFilter) ([]events.Event, error)
	Last(ctx context.Context, portalID string) (int64, error)
}

var _ EventLog = (*events.Bus)(nil)

// HeartbeatEvery is how often an idle event stream sends a comment, so proxies keep it open.
var HeartbeatEvery = 15 * time.Second

// memberTypes are the event types every member of a portal may stream; administrators get every type.
var memberTypes = []string{events.JobStateChanged, events.PrinterStatusChanged}

// streamTypes returns the types the caller asked for (?types=a,b) and may see, or an error message.
func streamTypes(r *http.Request, act keys.Actor) ([]string, string) {
	allowed := events.Types
	if act.Role != keys.RoleAdmin {
		allowed = memberTypes
	}
	v := r.URL.Query().Get("types")
	if v == "" {
		return allowed, ""
	}
	var out []string
	for t := range strings.SplitSeq(v, ",") {
		t = strings.TrimSpace(t)
		switch {
		case !events.Known(t):
			return nil, fmt.Sprintf("unknown event type %q", t)
		case !slices.Contains(allowed, t):
			return nil, fmt.Sprintf("event type %q is for administrators", t)
		case !slices.Contains(out, t):
			out = append(out, t)
		}
	}
	return out, ""
}

// eventStream is GET /api/v1/events: Server-Sent Events of the caller's portal, from the durable log.
// ?types= (comma-separated) and ?printer= filter; Last-Event-ID resumes after that event (without it the
// stream starts with the next new event). Idle streams get a heartbeat comment.
func (a *API) eventStream(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	if a.events == nil {
		httpx.WriteError(w, http.StatusServiceUnavailable, httpx.CodeUnavailable, "the event stream is not available")
		return
	}
	types, msg := streamTypes(r, act)
	if msg != "" {
		httpx.WriteError(w, http.StatusBadRequest, httpx.CodeBadRequest, msg)
		return
	}
	ctx := r.Context()
	var after int64
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			httpx.WriteError(w, http.StatusBadRequest, httpx.CodeBadRequest, "Last-Event-ID must be an event id")
			return
		}
		after = n
	} else {
		n, err := a.events.Last(ctx, act.PortalID)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		after = n
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{}) // the server's ReadTimeout must not end a long stream
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 3000\n\n")
	if rc.Flush() != nil {
		return
	}
	beat := time.NewTicker(HeartbeatEvery)
	defer beat.Stop()
	f := store.EventFilter{PortalID: act.PortalID, Types: types, PrinterID: r.URL.Query().Get("printer"), Limit: 200}
	for {
		changed := a.events.Changed()
		f.After = after
		evs, err := a.events.Read(ctx, f)
		if err != nil {
			if ctx.Err() == nil {
				a.log.WarnContext(ctx, "event stream: read", "err", err)
			}
			return
		}
		for _, e := range evs {
			b, err := json.Marshal(e)
			if err != nil {
				return
			}
			fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.ID, e.Type, b)
			after = e.ID
		}
		if len(evs) > 0 {
			if rc.Flush() != nil {
				return
			}
			if len(evs) == f.Limit {
				continue
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-beat.C:
			fmt.Fprint(w, ": heartbeat\n\n")
			if rc.Flush() != nil {
				return
			}
		}
	}
}
