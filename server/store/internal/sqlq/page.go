package sqlq

import (
	"strings"

	"printdock/server/store"
)

// Keyset pagination: every paged list orders by its key columns and continues strictly after a key.

// after returns " AND (cols) > (vals)" (or "<" for a descending order) when k is set, "" otherwise.
func after(arg Arg, k store.Key, desc bool, cols string, vals ...any) string {
	if k.IsZero() {
		return ""
	}
	ps := make([]string, len(vals))
	for i, v := range vals {
		ps[i] = arg(v)
	}
	op := " > "
	if desc {
		op = " < "
	}
	return ` AND (` + cols + `)` + op + `(` + strings.Join(ps, ", ") + `)`
}

// pageLimit returns " LIMIT n" for a page with a limit, "" for every row.
func pageLimit(arg Arg, p store.Page) string {
	if p.Limit <= 0 {
		return ""
	}
	return ` LIMIT ` + arg(p.Limit)
}

// Users returns the ListUsers query: a portal's users by e-mail (key: NameKey(email, id)).
func Users(portalID string, p store.Page, arg Arg) string {
	return `SELECT ` + UserCols + ` FROM users WHERE portal_id = ` + arg(portalID) +
		after(arg, p.After, false, `email, id`, p.After.Str, p.After.ID) + ` ORDER BY email, id` + pageLimit(arg, p)
}

// Credentials returns the ListCredentials query: a portal's credentials of kinds (all when none), oldest
// first (key: TimeKey(created_at, id)).
func Credentials(portalID string, p store.Page, kinds []store.CredentialKind, arg Arg) string {
	sql := `SELECT ` + CredCols + ` FROM credentials WHERE portal_id = ` + arg(portalID)
	if len(kinds) > 0 {
		sql += ` AND kind IN ` + In(arg, Strings(kinds))
	}
	return sql + after(arg, p.After, false, `created_at, id`, p.After.At, p.After.ID) +
		` ORDER BY created_at, id` + pageLimit(arg, p)
}

// Clients returns the ListClients query: a portal's clients, first seen first (key: TimeKey(first_seen_at,
// id)).
func Clients(portalID string, p store.Page, arg Arg) string {
	return `SELECT ` + ClientCols + ` FROM clients WHERE portal_id = ` + arg(portalID) +
		after(arg, p.After, false, `first_seen_at, id`, p.After.At, p.After.ID) +
		` ORDER BY first_seen_at, id` + pageLimit(arg, p)
}

// JobEvents returns the ListJobEvents query: a job's events, oldest first (key: Key{Seq: id}).
func JobEvents(jobID string, p store.Page, arg Arg) string {
	return `SELECT id, job_id, at, from_state, to_state, reason, actor FROM job_events WHERE job_id = ` + arg(jobID) +
		after(arg, p.After, false, `id`, p.After.Seq) + ` ORDER BY id` + pageLimit(arg, p)
}

// Printers returns the ListPrinters query: printers by name (key: NameKey(name, id)).
func Printers(f store.PrinterFilter, arg Arg) string {
	sql := `SELECT ` + PrinterCols + PrinterFrom + ` WHERE p.portal_id = ` + arg(f.PortalID)
	if f.ClientID != "" {
		sql += ` AND p.client_id = ` + arg(f.ClientID)
	}
	return sql + after(arg, f.After, false, `p.name, p.id`, f.After.Str, f.After.ID) +
		` ORDER BY p.name, p.id` + pageLimit(arg, store.Page{Limit: f.Limit})
}

// Webhooks returns the ListWebhooks query: a portal's webhooks, oldest first (key: TimeKey(created_at,
// id)).
func Webhooks(portalID string, p store.Page, arg Arg) string {
	return `SELECT ` + WebhookCols + ` FROM webhooks WHERE portal_id = ` + arg(portalID) +
		after(arg, p.After, false, `created_at, id`, p.After.At, p.After.ID) + ` ORDER BY created_at, id` + pageLimit(arg, p)
}

// Deliveries returns the ListDeliveries query: a webhook's deliveries, newest first (key: Key{Seq: id});
// a page without a limit has DefaultLimit rows.
func Deliveries(webhookID string, p store.Page, arg Arg) string {
	if p.Limit <= 0 {
		p.Limit = DefaultLimit
	}
	return `SELECT ` + DeliveryCols + ` FROM webhook_deliveries WHERE webhook_id = ` + arg(webhookID) +
		after(arg, p.After, true, `id`, p.After.Seq) + ` ORDER BY id DESC` + pageLimit(arg, p)
}
