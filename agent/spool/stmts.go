package spool

import (
	"context"
	"database/sql"
	"fmt"
)

// stmts are the spool's statements, prepared once for its life (compiling SQL cost as much CPU as a
// commit's sync).
type stmts struct {
	insert, redeliver, get, exists              *sql.Stmt
	startCopy, copyWritten, notWritten, waiting *sql.Stmt
	finish, report                              *sql.Stmt
}

// updateSQL is a change of an open job (the set clause), returning it without content.
func updateSQL(set string) string {
	return `UPDATE jobs SET ` + set + ` WHERE id = ? AND state IN ('received', 'printing') RETURNING ` + cols
}

func (s *Spool) prepare(ctx context.Context) error {
	for _, p := range []struct {
		st **sql.Stmt
		q  string
	}{
		{&s.st.insert, `INSERT INTO jobs (id, printer_id, title, content, copies, expires_at, state,
			received_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'received', ?, ?)
			ON CONFLICT (id) DO NOTHING RETURNING ` + cols},
		{&s.st.redeliver, `UPDATE jobs SET deliveries = deliveries + 1 WHERE id = ? RETURNING ` + cols},
		{&s.st.get, `SELECT ` + cols + `, content FROM jobs WHERE id = ?`},
		{&s.st.exists, `SELECT 1 FROM jobs WHERE id = ?`},
		{&s.st.startCopy, updateSQL(`state = 'printing', in_flight = 1, waiting = 0, reason = '',
			attempts = attempts + 1, updated_at = ?`)},
		{&s.st.copyWritten, updateSQL(`copies_done = copies_done + 1, in_flight = 0,
			state = CASE WHEN copies_done + 1 >= copies THEN 'done' ELSE state END,
			finished_at = CASE WHEN copies_done + 1 >= copies THEN ? ELSE 0 END, updated_at = ?`)},
		{&s.st.notWritten, updateSQL(`in_flight = 0, updated_at = ?`)},
		{&s.st.waiting, updateSQL(`waiting = 1, reason = ?, updated_at = ?`)},
		{&s.st.finish, updateSQL(`state = ?, reason = ?, waiting = 0, in_flight = 0, finished_at = ?, updated_at = ?`)},
		{&s.st.report, `UPDATE jobs SET reported = ?, reported_at = ? WHERE id = ? AND reported_at <= ?`},
	} {
		st, err := s.db.PrepareContext(ctx, p.q)
		if err != nil {
			return fmt.Errorf("spool: open: prepare: %w", err)
		}
		*p.st = st
	}
	return nil
}

func (s *Spool) closeStmts() {
	for _, st := range []*sql.Stmt{s.st.insert, s.st.redeliver, s.st.get, s.st.exists, s.st.startCopy,
		s.st.copyWritten, s.st.notWritten, s.st.waiting, s.st.finish, s.st.report} {
		if st != nil {
			st.Close()
		}
	}
}
