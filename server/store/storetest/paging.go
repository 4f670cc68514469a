package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"printdock/server/store"
)

// row is a listed row: its ID and its position in its list.
type row struct {
	id  string
	key store.Key
}

func rowsOf[T any](ts []T, err error, of func(T) row) ([]row, error) {
	out := make([]row, 0, len(ts))
	for _, v := range ts {
		out = append(out, of(v))
	}
	return out, err
}

// lister is one keyset-paginated list of the store: add inserts its i-th row (several rows share a time
// or a name, so the ID must break ties), list reads one page.
type lister struct {
	name  string
	setup func(t *testing.T, s store.Store)
	add   func(t *testing.T, s store.Store, i int)
	list  func(ctx context.Context, s store.Store, p store.Page) ([]row, error)
}

// tie is the time of the i-th row: three rows per second, so that pages cut through equal times.
func tie(i int) time.Time {
	return t0.Add(time.Duration(i%7/3) * time.Second).Add(time.Duration(i/7) * time.Minute)
}

var listers = []lister{
	{name: "users", setup: func(t *testing.T, s store.Store) { portal(t, s, "p1") },
		add: func(t *testing.T, s store.Store, i int) { user(t, s, "p1", fmt.Sprintf("u%03d", (i*37)%1000), "user") },
		list: func(ctx context.Context, s store.Store, p store.Page) ([]row, error) {
			us, err := s.ListUsers(ctx, "p1", p)
			return rowsOf(us, err, func(u store.User) row { return row{u.ID, store.NameKey(u.Email, u.ID)} })
		}},
	{name: "credentials", setup: func(t *testing.T, s store.Store) { portal(t, s, "p1") },
		add: func(t *testing.T, s store.Store, i int) {
			c := cred("p1", fmt.Sprintf("k%03d", (i*37)%1000), store.CredPrintClient)
			c.CreatedAt = tie(i)
			must(t, s.CreateCredential(ctxOf(t), c))
		},
		list: func(ctx context.Context, s store.Store, p store.Page) ([]row, error) {
			cs, err := s.ListCredentials(ctx, "p1", p, store.CredPrintClient)
			return rowsOf(cs, err, func(c store.Credential) row { return row{c.ID, store.TimeKey(c.CreatedAt, c.ID)} })
		}},
	{name: "clients", setup: func(t *testing.T, s store.Store) { portal(t, s, "p1") },
		add: func(t *testing.T, s store.Store, i int) {
			connect(t, s, "p1", fmt.Sprintf("c%03d", (i*37)%1000), tie(i))
		},
		list: func(ctx context.Context, s store.Store, p store.Page) ([]row, error) {
			cs, err := s.ListClients(ctx, "p1", p)
			return rowsOf(cs, err, func(c store.Client) row { return row{c.ID, store.TimeKey(c.FirstSeenAt, c.ID)} })
		}},
	{name: "printers", setup: func(t *testing.T, s store.Store) { portal(t, s, "p1"); connect(t, s, "p1", "c1", t0) },
		add: func(t *testing.T, s store.Store, i int) {
			id := fmt.Sprintf("pr%03d", (i*37)%1000)
			p := store.Printer{ID: id, PortalID: "p1", ClientID: "c1", URI: "usb://" + id,
				Name: fmt.Sprintf("Zebra %d", i%5), UpdatedAt: t0}
			must(t, s.UpsertPrinter(ctxOf(t), p))
		},
		list: func(ctx context.Context, s store.Store, p store.Page) ([]row, error) {
			ps, err := s.ListPrinters(ctx, store.PrinterFilter{PortalID: "p1", Limit: p.Limit, After: p.After})
			return rowsOf(ps, err, func(p store.Printer) row { return row{p.ID, store.NameKey(p.Name, p.ID)} })
		}},
	{name: "jobs", setup: func(t *testing.T, s store.Store) { printers(t, s, "p1 c1 prA usb://a") },
		add: func(t *testing.T, s store.Store, i int) {
			p := store.Printer{ID: "prA", PortalID: "p1", ClientID: "c1"}
			must(t, s.CreateJob(ctxOf(t), job(p, fmt.Sprintf("j%03d", (i*37)%1000), tie(i))))
		},
		list: func(ctx context.Context, s store.Store, p store.Page) ([]row, error) {
			js, err := s.ListJobs(ctx, store.JobFilter{PortalID: "p1", Limit: p.Limit, After: p.After})
			return rowsOf(js, err, func(j store.Job) row { return row{j.ID, store.TimeKey(j.CreatedAt, j.ID)} })
		}},
	{name: "job events", setup: func(t *testing.T, s store.Store) {
		must(t, s.CreateJob(ctxOf(t), job(printers(t, s, "p1 c1 prA usb://a")["prA"], "j1", t0)))
	},
		add: func(t *testing.T, s store.Store, i int) {
			_, err := s.AppendJobEvent(ctxOf(t), store.JobEvent{JobID: "j1", At: tie(i), From: store.JobQueued,
				To: store.JobSent, Actor: fmt.Sprintf("e%03d", i)})
			must(t, err)
		},
		list: func(ctx context.Context, s store.Store, p store.Page) ([]row, error) {
			es, err := s.ListJobEvents(ctx, "j1", p)
			return rowsOf(es, err, func(e store.JobEvent) row { return row{e.Actor, store.Key{Seq: e.ID}} })
		}},
	{name: "audit", setup: func(t *testing.T, s store.Store) {},
		add: func(t *testing.T, s store.Store, i int) {
			_, err := s.AppendAudit(ctxOf(t), store.AuditEntry{PortalID: "p1", At: tie(i), Actor: "a",
				Action: "key.rotate", Target: fmt.Sprintf("e%03d", (i*37)%1000)})
			must(t, err)
		},
		list: func(ctx context.Context, s store.Store, p store.Page) ([]row, error) {
			es, err := s.ListAudit(ctx, store.AuditFilter{PortalID: "p1", Limit: p.Limit, After: p.After})
			return rowsOf(es, err, func(e store.AuditEntry) row { return row{e.Target, store.SeqKey(e.At, e.ID)} })
		}},
	{name: "webhooks", setup: func(t *testing.T, s store.Store) { portal(t, s, "p1") },
		add: func(t *testing.T, s store.Store, i int) { webhook(t, s, fmt.Sprintf("wh%03d", (i*37)%1000), tie(i)) },
		list: func(ctx context.Context, s store.Store, p store.Page) ([]row, error) {
			ws, err := s.ListWebhooks(ctx, "p1", p)
			return rowsOf(ws, err, func(w store.Webhook) row { return row{w.ID, store.TimeKey(w.CreatedAt, w.ID)} })
		}},
	{name: "deliveries", setup: func(t *testing.T, s store.Store) { portal(t, s, "p1"); webhook(t, s, "wh", t0) },
		add: func(t *testing.T, s store.Store, i int) {
			_, err := s.AppendEvent(ctxOf(t), store.Event{PortalID: "p1", Type: "job.state_changed", At: tie(i),
				Subject: fmt.Sprintf("e%03d", i), Data: "{}"})
			must(t, err)
		},
		list: func(ctx context.Context, s store.Store, p store.Page) ([]row, error) {
			ds, err := s.ListDeliveries(ctx, "wh", p)
			return rowsOf(ds, err, func(d store.WebhookDelivery) row { return row{d.Subject, store.Key{Seq: d.ID}} })
		}},
}

// webhook creates an enabled webhook of portal p1 that takes every event.
func webhook(t *testing.T, s store.Store, id string, at time.Time) {
	must(t, s.CreateWebhook(ctxOf(t), store.Webhook{ID: id, PortalID: "p1", URL: "https://example.com/" + id, Enabled: true,
		Secret: []byte{1}, CreatedAt: at, CreatedBy: "a", UpdatedAt: at}))
}

// testPaging walks every paginated list page by page, with and without rows inserted between pages: each
// row present from the start comes exactly once, in the order of the whole list, and no row twice.
func testPaging(t *testing.T, open func(t *testing.T) store.Store) {
	const n = 23
	for _, l := range listers {
		for _, tc := range []struct {
			limit  int
			insert bool
		}{{1, false}, {4, false}, {4, true}, {n, false}, {n + 5, true}} {
			t.Run(fmt.Sprintf("%s/limit=%d/insert=%v", l.name, tc.limit, tc.insert), func(t *testing.T) {
				s := open(t)
				ctx := ctxOf(t)
				l.setup(t, s)
				for i := range n {
					l.add(t, s, i)
				}
				all, err := l.list(ctx, s, store.Page{Limit: 1000})
				if err != nil || len(all) != n {
					t.Fatalf("whole list: %d rows, %v", len(all), err)
				}
				var got []string
				seen := map[string]bool{}
				after, extra := store.Key{}, n
				for pages := 0; ; pages++ {
					if pages > 2*n+2 {
						t.Fatal("pagination does not end")
					}
					rows, err := l.list(ctx, s, store.Page{Limit: tc.limit + 1, After: after})
					must(t, err)
					var next store.Key
					rows, next = store.NextPage(rows, tc.limit, func(r row) store.Key { return r.key })
					for _, r := range rows {
						if seen[r.id] {
							t.Fatalf("%s listed twice", r.id)
						}
						seen[r.id] = true
						got = append(got, r.id)
					}
					if next.IsZero() {
						break
					}
					// The cursor a client holds is the encoded key.
					if after, err = store.ParseCursor(next.Cursor()); err != nil || after != next {
						t.Fatalf("cursor round trip: %+v, %v; want %+v", after, err, next)
					}
					if tc.insert {
						l.add(t, s, extra)
						extra++
					}
				}
				var want []string
				for _, r := range all {
					want = append(want, r.id)
				}
				if orig := slices.DeleteFunc(slices.Clone(got), func(id string) bool { return !slices.Contains(want, id) }); !slices.Equal(orig, want) {
					t.Errorf("walked %v;\nwant %v", orig, want)
				}
			})
		}
	}
}

// testJobFilters checks the filters integrators use on ListJobs.
func testJobFilters(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	prs := printers(t, s, "p1 c1 prA usb://a", "p1 c1 prB usb://b")
	for i, spec := range []struct{ printer, key string }{{"prA", "k1"}, {"prB", "k2"}, {"prA", ""}, {"prB", ""}} {
		j := job(prs[spec.printer], fmt.Sprintf("j%d", i), t0.Add(time.Duration(i)*time.Minute))
		j.IdempotencyKey = spec.key
		must(t, s.CreateJob(ctx, j))
	}
	must(t, s.UpdateJob(ctx, store.JobUpdate{ID: "j2", From: store.JobQueued, To: store.JobCancelled, At: t0}))
	for _, tc := range []struct {
		name string
		f    store.JobFilter
		want []string
	}{
		{"all", store.JobFilter{}, []string{"j3", "j2", "j1", "j0"}},
		{"idempotency key", store.JobFilter{IdempotencyKey: "k2"}, []string{"j1"}},
		{"unknown key", store.JobFilter{IdempotencyKey: "nope"}, nil},
		{"created after", store.JobFilter{CreatedAfter: t0.Add(time.Minute)}, []string{"j3", "j2"}},
		{"printer and state", store.JobFilter{PrinterID: "prA", States: []store.JobState{store.JobQueued}}, []string{"j0"}},
		{"after", store.JobFilter{After: store.TimeKey(t0.Add(2*time.Minute), "j2"), Limit: 1}, []string{"j1"}},
		{"after, oldest first", store.JobFilter{After: store.TimeKey(t0.Add(time.Minute), "j1"), OldestFirst: true},
			[]string{"j2", "j3"}},
	} {
		tc.f.PortalID = "p1"
		got, err := s.ListJobs(ctx, tc.f)
		if err != nil || !slices.Equal(jobIDs(got), tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.name, jobIDs(got), err, tc.want)
		}
	}
}
