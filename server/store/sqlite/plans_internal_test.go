package sqlite

import (
	"path/filepath"
	"strings"
	"testing"

	"printdock/server/store"
	"printdock/server/store/internal/sqlq"
)

// TestClientJobsPlans: the queries of a client's live jobs (PendingJobs; CancelsFor's ListJobs) search
// the partial index jobs_client_live (migration 016). SQLite uses a partial index only when the query
// repeats its condition (sqlq.ClientLive); without it they would scan a portal's or every job.
func TestClientJobsPlans(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "printdock.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	yes := true
	var cancels args
	cancelsQuery := `SELECT ` + sqlq.JobCols + sqlq.JobFrom + sqlq.Jobs(store.JobFilter{AllPortals: true, ClientID: "c1",
		States: []store.JobState{store.JobSent}, CancelRequested: &yes, OldestFirst: true, Limit: 10}, cancels.add)
	for _, c := range []struct {
		name  string
		query string
		args  []any
	}{
		{"PendingJobs", pendingJobs, []any{"c1", 1, 50}},
		{"CancelsFor", cancelsQuery, cancels},
	} {
		rows, err := db.r.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+c.query, c.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if p := strings.Join(plan, "; "); !strings.Contains(p, "INDEX jobs_client_live") {
			t.Errorf("%s: plan %q does not search jobs_client_live", c.name, p)
		}
	}
}
