package sqlq

// Columns and joins the stores select, the same in both dialects.

// UserCols is the columns of users, in the order of store.User's fields.
const UserCols = `id, portal_id, email, role, password_hash, created_at`

// CredCols is the columns of credentials, in the order of store.Credential's fields.
const CredCols = `id, portal_id, kind, user_id, creator_id, description, prefix, secret_hash, shared_version,
	status, generation, created_at, created_by, last_accessed_at, activated_at, expires_at,
	previous_hash, previous_expires_at, previous_used_at, previous_used_from`

// SharedCols is the columns of shared_secrets, in the order of store.SharedSecret's fields.
const SharedCols = `portal_id, version, secret_hash, prefix, created_at, created_by`

// ClientCols is the columns of clients, in the order of store.Client's fields.
const ClientCols = `id, portal_id, credential_id, installation_id, hostname, agent_version, os, first_seen_at,
	last_seen_at, sessions, session_seq, features`

// PrinterCols is the columns of printers p (and whether their client c is online), in the order of
// store.Printer's fields.
const PrinterCols = `p.id, p.portal_id, p.client_id, p.uri, p.name, p.make, p.model, p.status, p.reason, p.present,
	p.first_seen_at, p.updated_at, p.language, p.dpi, p.status_mode, c.sessions > 0, p.status_since,
	c.last_seen_at, p.alert_raised_at`

// PrinterFrom joins printers p with their clients c.
const PrinterFrom = ` FROM printers p JOIN clients c ON c.id = p.client_id`

// JobCols is the columns of jobs j (and their printer p's URI), in the order of store.Job's fields,
// without content.
const JobCols = `j.id, j.portal_id, j.printer_id, j.client_id, p.uri, j.title, j.size, j.copies, j.idempotency_key,
	j.fingerprint, j.created_by, j.state, j.reason, j.attempts, j.sent_session, j.created_at, j.updated_at,
	j.expires_at, j.sent_at, j.received_at, j.printing_at, j.finished_at, j.cancel_requested_at, j.cancel_requested_by`

// JobFrom joins jobs j with their printers p.
const JobFrom = ` FROM jobs j JOIN printers p ON p.id = j.printer_id`

// NullStr is s, or NULL for "".
func NullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// NullInt is v, or NULL for 0.
func NullInt(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

// AlertCandidates returns the AlertCandidates query: printers whose alert is raised, that are not present,
// whose client is offline or whose status is one of states, by ID.
func AlertCandidates(states []string, arg Arg) string {
	q := `SELECT ` + PrinterCols + PrinterFrom + ` WHERE p.alert_raised_at IS NOT NULL OR NOT p.present OR c.sessions <= 0`
	if len(states) > 0 {
		q += ` OR p.status IN ` + In(arg, states)
	}
	return q + ` ORDER BY p.id`
}
