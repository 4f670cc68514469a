package agent

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"printdock/agent/localapi"
)

// logRing keeps the agent's most recent log lines for GET /localapi/v0/logs.
type logRing struct {
	mu    sync.Mutex
	lines []localapi.LogEntry
	next  int
	full  bool
}

func newLogRing(n int) *logRing { return &logRing{lines: make([]localapi.LogEntry, n)} }

func (r *logRing) add(e localapi.LogEntry) {
	r.mu.Lock()
	r.lines[r.next] = e
	r.next = (r.next + 1) % len(r.lines)
	if r.next == 0 {
		r.full = true
	}
	r.mu.Unlock()
}

// last returns up to n entries, oldest first.
func (r *logRing) last(n int) []localapi.LogEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	var all []localapi.LogEntry
	if r.full {
		all = append(all, r.lines[r.next:]...)
	}
	all = append(all, r.lines[:r.next]...)
	if n < len(all) {
		all = all[len(all)-n:]
	}
	return all
}

// ringHandler is a slog.Handler that records into a logRing and passes every record on to next.
type ringHandler struct {
	next   slog.Handler
	ring   *logRing
	prefix string // pre-formatted attrs from WithAttrs
	group  string
	ev     EventLog // Config.EventLog (nil: none)
}

func (h *ringHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *ringHandler) Handle(ctx context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(h.prefix)
	r.Attrs(func(a slog.Attr) bool {
		writeAttr(&b, h.group, a)
		return true
	})
	h.ring.add(localapi.LogEntry{Time: r.Time, Level: r.Level.String(), Message: r.Message, Attrs: strings.TrimSpace(b.String())})
	h.event(ctx, r, b.String())
	return h.next.Handle(ctx, r)
}

func writeAttr(b *strings.Builder, group string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Value.Kind() == slog.KindGroup {
		g := a.Key
		if group != "" {
			g = group + "." + g
		}
		for _, ga := range a.Value.Group() {
			writeAttr(b, g, ga)
		}
		return
	}
	key := a.Key
	if group != "" {
		key = group + "." + key
	}
	fmt.Fprintf(b, " %s=%q", key, a.Value.String())
}

func (h *ringHandler) WithAttrs(as []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.prefix)
	for _, a := range as {
		writeAttr(&b, h.group, a)
	}
	return &ringHandler{next: h.next.WithAttrs(as), ring: h.ring, prefix: b.String(), group: h.group, ev: h.ev}
}

func (h *ringHandler) WithGroup(name string) slog.Handler {
	g := name
	if h.group != "" {
		g = h.group + "." + name
	}
	return &ringHandler{next: h.next.WithGroup(name), ring: h.ring, prefix: h.prefix, group: g, ev: h.ev}
}
