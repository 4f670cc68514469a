package keys

import (
	"context"

	"printdock/server/store"
)

// MaxAuditLimit caps AuditFilter.Limit; 0 means 100.
const MaxAuditLimit = 10000 // as GET /api/v1/audit documents (limit 1..10000)

// Audit returns the actor's portal's audit entries, newest first (admin). Failed authentications that
// matched no portal are stored with an empty portal and are not visible here.
func (s *Service) Audit(ctx context.Context, a Actor, f AuditFilter) ([]AuditEntry, error) {
	if err := requireAdmin(a); err != nil {
		return nil, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	if limit > MaxAuditLimit {
		limit = MaxAuditLimit
	}
	es, err := s.st.ListAudit(ctx, store.AuditFilter{
		PortalID: a.PortalID, Actor: f.Actor, Action: f.Action, Since: f.Since, Until: f.Until, Limit: limit,
	})
	if err != nil {
		return nil, mapStoreErr("audit", err)
	}
	out := make([]AuditEntry, 0, len(es))
	for _, e := range es {
		out = append(out, AuditEntry{ID: e.ID, PortalID: e.PortalID, At: e.At, Actor: e.Actor, Action: e.Action,
			Target: e.Target, RemoteAddr: e.RemoteAddr, Detail: e.Detail})
	}
	return out, nil
}
