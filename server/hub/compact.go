package hub

import (
	"strings"

	"printdock/protocol"
)

// A session keeps its agent's hello and printers for its whole life. The JSON decoder made each of their
// strings a separate small allocation, among the many short-lived ones of the same sizes that a
// connection makes (store calls, timeouts, decoding): those it keeps pin partly empty heap spans, which
// an idle server holds in RSS. compactHello and compactPrinters copy the strings into one allocation per
// message instead (docs/benchmarks.md, idle agents).

// pack copies the strings each hands to its function into one allocation: each is called three times
// (to size, to copy, to point the strings at the copy).
func pack(each func(f func(*string))) {
	n := 0
	each(func(s *string) { n += len(*s) })
	if n == 0 {
		return
	}
	var b strings.Builder
	b.Grow(n)
	each(func(s *string) { b.WriteString(*s) })
	buf, off := b.String(), 0
	each(func(s *string) {
		l := len(*s)
		*s = buf[off : off+l]
		off += l
	})
}

// compactHello returns h with its strings in one allocation (and its features list copied).
func compactHello(h protocol.Hello) protocol.Hello {
	if h.Features != nil {
		h.Features = append([]string(nil), h.Features...)
	}
	pack(func(add func(*string)) {
		add(&h.AgentVersion)
		add(&h.Hostname)
		add(&h.OS)
		add(&h.InstallationID)
		for i := range h.Features {
			add(&h.Features[i])
		}
	})
	return h
}

// compactPrinters returns a copy of ps whose strings are in one allocation.
func compactPrinters(ps []protocol.Printer) []protocol.Printer {
	if len(ps) == 0 {
		return nil
	}
	out := append([]protocol.Printer(nil), ps...)
	pack(func(add func(*string)) {
		for i := range out {
			p := &out[i]
			for _, f := range []*string{&p.ID, &p.Name, &p.Make, &p.Model, &p.Status, &p.Reason, &p.Language, &p.StatusMode} {
				add(f)
			}
		}
	})
	return out
}
