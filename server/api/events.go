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
	"printdock/server/hub"
	"printdock/server/keys"
	"printdock/server/store"
)

// EventLog is what the event stream reads: events.Bus (the store for history, its live tail after).
type EventLog interface {
	Read(ctx context.Context, f store.EventFilter) ([]events.Event, error)
	Last(ctx context.Context, portalID string) (int64, error)
	Subscribe(ctx context.Context, portalID string, types []string, printerID string) (*events.Sub, error)
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
	open := a.streams.add(act.Principal)
	defer a.streams.remove(open)
	if v, ok := a.keys.(stillValid); ok { // a change between authentication and add
		if reason := hub.LogoutReason(v.StillValid(ctx, act.Principal)); reason != "" {
			httpx.WriteError(w, http.StatusUnauthorized, httpx.CodeUnauthenticated, "the key is no longer valid: "+reason)
			return
		}
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
	st := &sseStream{w: w, rc: rc, beat: beat.C, open: open,
		f: store.EventFilter{PortalID: act.PortalID, Types: types, PrinterID: r.URL.Query().Get("printer"), Limit: 200, After: after}}
	for {
		sub, err := a.events.Subscribe(ctx, act.PortalID, types, st.f.PrinterID)
		if err != nil {
			if ctx.Err() == nil {
				a.log.WarnContext(ctx, "event stream: subscribe", "err", err)
			}
			return
		}
		again := a.streamFrom(ctx, st, sub)
		sub.Close()
		if !again {
			return
		}
	}
}

// sseStream is one open event stream: where it writes and the last event it sent (f.After).
type sseStream struct {
	w    http.ResponseWriter
	rc   *http.ResponseController
	beat <-chan time.Time
	open *openStream // its stop ends the stream with a logout event
	f    store.EventFilter
}

// logout sends the last event of a stream whose key was revoked, rotated, deactivated or deleted
// (without an id: Last-Event-ID stays the last event sent).
func (st *sseStream) logout() {
	fmt.Fprintf(st.w, "event: logout\ndata: {\"reason\":%q}\n\n", st.open.reason)
	_ = st.rc.Flush()
}

// send writes e unless the stream has already sent it.
func (st *sseStream) send(e events.Event) error {
	if e.ID <= st.f.After {
		return nil
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(st.w, "id: %d\nevent: %s\ndata: %s\n\n", e.ID, e.Type, b); err != nil {
		return err
	}
	st.f.After = e.ID
	return nil
}

// streamFrom sends the log from the store after the stream's cursor, then the live events of sub. It
// returns true when sub lagged (the caller subscribes again and so re-reads the store from its cursor)
// and false when the stream is over.
func (a *API) streamFrom(ctx context.Context, st *sseStream, sub *events.Sub) bool {
	for {
		evs, err := a.events.Read(ctx, st.f)
		if err != nil {
			if ctx.Err() == nil {
				a.log.WarnContext(ctx, "event stream: read", "err", err)
			}
			return false
		}
		for _, e := range evs {
			if st.send(e) != nil {
				return false
			}
		}
		if len(evs) > 0 && st.rc.Flush() != nil {
			return false
		}
		if len(evs) < st.f.Limit {
			break
		}
	}
	for {
		select {
		case <-ctx.Done():
			return false
		case <-st.open.stop:
			st.logout()
			return false
		case <-sub.Lagged():
			a.log.DebugContext(ctx, "event stream fell behind; reading the store from its last event", "last_event_id", st.f.After)
			return true
		case e := <-sub.C:
			if st.send(e) != nil {
				return false
			}
			for more := true; more; {
				select {
				case e := <-sub.C:
					if st.send(e) != nil {
						return false
					}
				default:
					more = false
				}
			}
			if st.rc.Flush() != nil {
				return false
			}
		case <-st.beat:
			fmt.Fprint(st.w, ": heartbeat\n\n")
			if st.rc.Flush() != nil {
				return false
			}
		}
	}
}
