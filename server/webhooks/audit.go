package webhooks

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"printdock/server/keys"
	"printdock/server/store"
)

// Audited actions (the audit log, GET /api/v1/audit): who changed which webhook. An entry names the
// webhook and its URL without query (which may carry a receiver's token), never the signing secret.
const (
	ActionCreate = "webhook.create"
	ActionUpdate = "webhook.update"
	ActionDelete = "webhook.delete"
	ActionResend = "webhook.delivery_resend"
)

// inTx runs change and its audit entry in one transaction: the change is not made unless it is audited.
func (s *Service) inTx(ctx context.Context, a keys.Actor, action, target, detail string, change func(q store.Store) error) error {
	return s.st.InTx(ctx, func(q store.Store) error {
		if err := change(q); err != nil {
			return err
		}
		_, err := q.AppendAudit(ctx, store.AuditEntry{PortalID: a.PortalID, At: s.now(), Actor: actorName(a),
			Action: action, Target: target, RemoteAddr: a.RemoteAddr, Detail: detail})
		if err != nil {
			return fmt.Errorf("webhooks: audit: %w", err)
		}
		return nil
	})
}

// auditURL is u without its query, user information and fragment, for the audit log.
func auditURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	out := p.Scheme + "://" + p.Host + p.EscapedPath()
	if p.RawQuery != "" {
		out += "?…"
	}
	return out
}

// auditDetail describes w for the audit log: its URL (see auditURL), events and enabled flag.
func auditDetail(w store.Webhook) string {
	evs := strings.Join(w.Events, ",")
	if evs == "" {
		evs = "*"
	}
	return fmt.Sprintf("url=%s events=%s enabled=%t", auditURL(w.URL), evs, w.Enabled)
}
