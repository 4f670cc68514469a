package sqlq

import (
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"printdock/server/store"
)

// dollar is PostgreSQL's placeholder style.
func dollar(args *[]any) Arg {
	return func(v any) string {
		*args = append(*args, v)
		return "$" + strconv.Itoa(len(*args))
	}
}

func TestJobs(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	yes := true
	tests := []struct {
		name     string
		f        store.JobFilter
		want     string
		wantArgs []any
	}{
		{"portal", store.JobFilter{PortalID: "p1"},
			` WHERE j.portal_id = $1 ORDER BY j.created_at DESC, j.id DESC LIMIT $2`, []any{"p1", DefaultLimit}},
		{"everything", store.JobFilter{AllPortals: true, Limit: 5},
			` ORDER BY j.created_at DESC, j.id DESC LIMIT $1`, []any{5}},
		{"all filters", store.JobFilter{PortalID: "p1", PrinterID: "pr", ClientID: "c", States: []store.JobState{store.JobQueued, store.JobSent},
			ExpiresBy: at, Received: &yes, OldestFirst: true},
			` WHERE j.portal_id = $1 AND j.printer_id = $2 AND j.client_id = $3 AND ` + ClientLive + ` AND j.state IN ($4, $5)` +
				` AND j.expires_at <= $6` +
				` AND j.received_at IS NOT NULL ORDER BY j.expires_at, j.created_at, j.id LIMIT $7`,
			[]any{"p1", "pr", "c", "queued", "sent", at, DefaultLimit}},
		{"client, finished states", store.JobFilter{AllPortals: true, ClientID: "c", States: []store.JobState{store.JobSent, store.JobDone}},
			` WHERE j.client_id = $1 AND j.state IN ($2, $3) ORDER BY j.created_at DESC, j.id DESC LIMIT $4`,
			[]any{"c", "sent", "done", DefaultLimit}},
		{"client, every state", store.JobFilter{AllPortals: true, ClientID: "c"},
			` WHERE j.client_id = $1 ORDER BY j.created_at DESC, j.id DESC LIMIT $2`, []any{"c", DefaultLimit}},
		{"oldest first", store.JobFilter{AllPortals: true, OldestFirst: true, Received: new(bool)},
			` WHERE j.received_at IS NULL ORDER BY j.created_at, j.id LIMIT $1`, []any{DefaultLimit}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var args []any
			if got := Jobs(tc.f, dollar(&args)); got != tc.want || !slices.Equal(args, tc.wantArgs) {
				t.Errorf("Jobs = %q %v\nwant  %q %v", got, args, tc.want, tc.wantArgs)
			}
		})
	}
}

func TestAudit(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var args []any
	got := Audit(store.AuditFilter{PortalID: "p", Actor: "a", Action: "x", Since: at, Until: at, Limit: 7}, dollar(&args))
	want := `SELECT ` + AuditCols + ` FROM audit_log WHERE portal_id = $1 AND actor = $2 AND action = $3 AND at >= $4` +
		` AND at < $5 ORDER BY at DESC, id DESC LIMIT $6`
	if got != want || !slices.Equal(args, []any{"p", "a", "x", at, at, 7}) {
		t.Errorf("Audit = %q %v", got, args)
	}
}

func TestJobUpdate(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		u    store.JobUpdate
		want string
	}{
		{store.JobUpdate{ID: "j", From: store.JobQueued, To: store.JobSent, At: at, Sent: true, Session: 3},
			`UPDATE jobs SET state = $1, reason = $2, updated_at = $3, sent_at = $4, attempts = attempts + 1, sent_session = $5 WHERE id = $6 AND state = $7`},
		{store.JobUpdate{ID: "j", From: store.JobSent, To: store.JobPrinting, At: at, Received: true},
			`UPDATE jobs SET state = $1, reason = $2, updated_at = $3, received_at = COALESCE(received_at, $4), printing_at = COALESCE(printing_at, $5) WHERE id = $6 AND state = $7`},
		{store.JobUpdate{ID: "j", From: store.JobPrinting, To: store.JobDone, At: at},
			`UPDATE jobs SET state = $1, reason = $2, updated_at = $3, finished_at = $4 WHERE id = $5 AND state = $6`},
	}
	for _, tc := range tests {
		var args []any
		if got := JobUpdate(tc.u, dollar(&args)); got != tc.want {
			t.Errorf("JobUpdate(%+v) = %q\nwant %q", tc.u, got, tc.want)
		}
	}
}

func TestOptimistic(t *testing.T) {
	if err := Optimistic("op", 1, nil); err != nil {
		t.Errorf("one row: %v", err)
	}
	gone := func() (string, error) { return "", store.ErrNotFound }
	if err := Optimistic("op", 0, gone); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("gone: %v", err)
	}
	moved := func() (string, error) { return "state is done", nil }
	if err := Optimistic("op", 0, moved); !errors.Is(err, store.ErrConflict) || err.Error() != "op: state is done: store: conflict" {
		t.Errorf("moved: %v", err)
	}
}
