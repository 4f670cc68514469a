package sqlite

import (
	"context"
	"strings"

	"printdock/server/store"
)

// Rows appended at commit. Every job change writes a job_events row and most an events row (whose trigger
// queues the webhook deliveries); a group of InTx calls (writer.go) holds many. Inside a write
// transaction they are kept (pending) and written just before COMMIT, each table's rows in a few
// multi-row INSERTs, in the order they were appended: the same rows, IDs in the same order, committed
// together, for a fraction of the statements. So that nothing in the transaction misses them, they are
// written first whenever a statement names those tables or deletes (a cascade could reach them):
// mustFlush. AppendEvent and AppendJobEvent then return 0, not the row's ID (callers do not use it in a
// transaction). If writing them fails, the group runs again without keeping rows, so the error reaches
// the call that appended the bad row alone.

// pendingChunks are the row counts of the multi-row INSERTs: a fixed few, so that their statements are
// prepared once each (rows are written in the largest chunks that fit, then smaller ones).
var pendingChunks = []int{64, 32, 16, 8, 4, 2, 1}

type pending struct {
	jobEvents []store.JobEvent
	events    []store.Event
	err       error // a flush before a statement failed: the group runs again without pending rows
}

// mustFlush reports whether query may read or remove rows still pending.
func mustFlush(query string) bool {
	return strings.Contains(query, "events") || strings.Contains(query, "webhook_deliveries") ||
		strings.Contains(query, "DELETE")
}

func (p *pending) empty() bool { return len(p.jobEvents) == 0 && len(p.events) == 0 }

// flush writes the pending rows with w (the transaction's statements, which do not flush).
func (p *pending) flush(ctx context.Context, w execer) error {
	for rows := p.jobEvents; len(rows) > 0; {
		n := chunk(len(rows))
		a := make([]any, 0, 6*n)
		for _, e := range rows[:n] {
			a = append(a, e.JobID, us(e.At), string(e.From), string(e.To), e.Reason, e.Actor)
		}
		if _, err := w.ExecContext(ctx, jobEventsInsert[n], a...); err != nil {
			return mapErr("append job events", err)
		}
		rows = rows[n:]
	}
	p.jobEvents = p.jobEvents[:0]
	for rows := p.events; len(rows) > 0; {
		n := chunk(len(rows))
		a := make([]any, 0, 6*n)
		for _, e := range rows[:n] {
			a = append(a, e.PortalID, e.Type, us(e.At), e.Subject, e.PrinterID, e.Data)
		}
		if _, err := w.ExecContext(ctx, eventsInsert[n], a...); err != nil {
			return mapErr("append events", err)
		}
		rows = rows[n:]
	}
	p.events = p.events[:0]
	return nil
}

// chunk is the largest of pendingChunks not above n (n > 0).
func chunk(n int) int {
	for _, c := range pendingChunks {
		if c <= n {
			return c
		}
	}
	return 1
}

// The multi-row INSERTs by row count (pendingChunks).
var jobEventsInsert, eventsInsert = insertsOf(`INSERT INTO job_events (job_id, at, from_state, to_state, reason, actor) VALUES `),
	insertsOf(`INSERT INTO events (portal_id, type, at, subject, printer_id, data) VALUES `)

func insertsOf(prefix string) map[int]string {
	m := make(map[int]string, len(pendingChunks))
	for _, n := range pendingChunks {
		m[n] = insertRows(prefix, 6, n)
	}
	return m
}

// insertRows is prefix followed by n tuples of cols placeholders.
func insertRows(prefix string, cols, n int) string {
	tuple := "(" + strings.Repeat("?, ", cols-1) + "?)"
	var b strings.Builder
	b.Grow(len(prefix) + n*(len(tuple)+2))
	b.WriteString(prefix)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tuple)
	}
	return b.String()
}

// AppendJobEvent keeps e for the commit (see above); it returns 0.
func (t *txStore) AppendJobEvent(ctx context.Context, e store.JobEvent) (int64, error) {
	if t.p == nil {
		return t.q.AppendJobEvent(ctx, e)
	}
	t.p.jobEvents = append(t.p.jobEvents, e)
	return 0, nil
}

// AppendEvent keeps e for the commit (see above); it returns 0.
func (t *txStore) AppendEvent(ctx context.Context, e store.Event) (int64, error) {
	if t.p == nil {
		return t.q.AppendEvent(ctx, e)
	}
	t.p.events = append(t.p.events, e)
	return 0, nil
}
