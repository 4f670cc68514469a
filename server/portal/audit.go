package portal

import (
	"net/http"
	"strings"
	"time"

	"printdock/server/keys"
	"printdock/server/store"
)

// --- audit ---

type auditData struct {
	Entries       []keys.AuditEntry
	Actor, Action string
	Since, Until  string
	HasFilter     bool
	Page          pager
	DateError     string
}

func (p *portal) auditPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	q := r.URL.Query()
	d := auditData{
		Actor:  strings.TrimSpace(q.Get("actor")),
		Action: strings.TrimSpace(q.Get("action")),
		Since:  q.Get("since"),
		Until:  q.Get("until"),
	}
	f := keys.AuditFilter{Actor: d.Actor, Action: d.Action}
	status := http.StatusOK
	if d.Since != "" {
		t, err := time.Parse(time.DateOnly, d.Since)
		if err != nil {
			d.DateError, status = "“From” is not a date (YYYY-MM-DD).", http.StatusBadRequest
		}
		f.Since = t
	}
	if d.Until != "" {
		t, err := time.Parse(time.DateOnly, d.Until)
		if err != nil {
			d.DateError, status = "“To” is not a date (YYYY-MM-DD).", http.StatusBadRequest
		}
		f.Until = t.AddDate(0, 0, 1) // the whole day
	}
	d.HasFilter = d.Actor != "" || d.Action != "" || d.Since != "" || d.Until != ""
	if status == http.StatusOK {
		entries, pg, ok := listPage(p, w, r, c, func(sp store.Page) ([]keys.AuditEntry, error) {
			f.Limit, f.After = sp.Limit, sp.After
			return p.svc.Audit(r.Context(), c.actor, f)
		}, keys.AuditEntry.Key)
		if !ok {
			return
		}
		d.Entries, d.Page = entries, pg
	}
	v := p.newView(c, "Audit log", "audit", d)
	v.Error = d.DateError
	p.render(w, r, status, "audit", v)
}
