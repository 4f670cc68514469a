package server_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"printdock/server/keys"
	"printdock/server/servertest"
)

// listPage is one page of any REST list; rows keep only what identifies them.
type listPage struct {
	Items      []json.RawMessage `json:"items"`
	NextCursor string            `json:"next_cursor"`
}

// rowID is the identity of a listed row: "id", as a string (audit IDs are numbers), or the whole row
// when it has no ID (job events).
func rowID(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var r struct {
		ID any `json:"id"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	if r.ID == nil {
		return string(raw)
	}
	return fmt.Sprint(r.ID)
}

// walk reads every page of path (which may hold a query) with limit, calling between(i) after page i, and
// returns the IDs in the order listed.
func walk(t *testing.T, s *servertest.Server, path string, limit int, between func(i int)) []string {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var ids []string
	after := ""
	for i := 0; ; i++ {
		if i > 500 {
			t.Fatalf("%s: pagination does not end", path)
		}
		q := fmt.Sprintf("%slimit=%d", sep, limit)
		if after != "" {
			q += "&after=" + url.QueryEscape(after)
		}
		var p listPage
		s.JSON(t, http.MethodGet, path+q, s.AdminKey, nil, http.StatusOK, &p)
		if len(p.Items) > limit || (p.NextCursor != "" && len(p.Items) != limit) {
			t.Fatalf("%s page %d: %d items, next %q", path, i, len(p.Items), p.NextCursor)
		}
		for _, raw := range p.Items {
			ids = append(ids, rowID(t, raw))
		}
		if p.NextCursor == "" {
			return ids
		}
		after = p.NextCursor
		if between != nil {
			between(i)
		}
	}
}

// TestPagingLists walks every administrative list page by page while rows are added between the first
// pages: every row present at the start comes exactly once and in the order of the whole list; no row
// comes twice.
func TestPagingLists(t *testing.T) {
	const n = 12
	lists := []struct {
		path  string
		add   func(t *testing.T, s *servertest.Server)
		setup func(t *testing.T, s *servertest.Server) string // the path, when the list needs a parent
	}{
		{"/api/v1/print-client-secrets", func(t *testing.T, s *servertest.Server) { s.CreatePrintClient(t, uniq("Desk ")) }, nil},
		{"/api/v1/shared-secret/devices", func(t *testing.T, s *servertest.Server) {
			s.CreateKey(t, s.AdminKey, map[string]any{"description": uniq("Shared "), "use_shared_secret": true})
		}, nil},
		{"/api/v1/users", func(t *testing.T, s *servertest.Server) {
			s.CreateUser(t, uniq("user")+"@example.com", keys.RoleUser)
		}, nil},
		{"/api/v1/oauth-clients", func(t *testing.T, s *servertest.Server) {
			s.JSON(t, http.MethodPost, "/api/v1/oauth-clients", s.AdminKey, map[string]any{"description": uniq("ERP ")},
				http.StatusCreated, nil)
		}, nil},
		{"/api/v1/audit?action=user.create", func(t *testing.T, s *servertest.Server) {
			s.CreateUser(t, uniq("audited")+"@example.com", keys.RoleUser)
		}, nil},
		{"/api/v1/webhooks", func(t *testing.T, s *servertest.Server) {
			createWebhook(t, s, "https://"+uniq("erp")+".example.invalid/hook")
		}, nil},
		{"/api/v1/webhooks/{id}/deliveries", func(t *testing.T, s *servertest.Server) {
			s.KeyAction(t, s.CreatePrintClient(t, uniq("Desk ")).ID, "rotate") // one key.rotated delivery
		}, func(t *testing.T, s *servertest.Server) string {
			return "/api/v1/webhooks/" + createWebhook(t, s, "https://erp.example.invalid/hook", "key.rotated").ID + "/deliveries"
		}},
	}
	for _, l := range lists {
		t.Run(l.path, func(t *testing.T) {
			s := servertest.New(t, servertest.Options{})
			path := l.path
			if l.setup != nil {
				path = l.setup(t, s)
			}
			for range n {
				l.add(t, s)
			}
			for _, limit := range []int{1, 5, n, 1000} {
				all := walk(t, s, path, 1000, nil)
				got := walk(t, s, path, limit, func(i int) {
					if i < 3 {
						l.add(t, s)
					}
				})
				if dup := len(got) - len(slices.Compact(slices.Sorted(slices.Values(got)))); dup != 0 {
					t.Fatalf("limit %d: %d rows listed twice: %v", limit, dup, got)
				}
				orig := slices.DeleteFunc(slices.Clone(got), func(id string) bool { return !slices.Contains(all, id) })
				if !slices.Equal(orig, all) {
					t.Fatalf("limit %d: walked %v;\nwant %v", limit, orig, all)
				}
			}
		})
	}
}

// TestPagingParameters: one rule for limit on every list, and cursors the server did not make are refused.
func TestPagingParameters(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	garbled := base64.RawURLEncoding.EncodeToString([]byte("not json"))
	for _, path := range []string{"/api/v1/print-client-secrets", "/api/v1/shared-secret/devices", "/api/v1/users",
		"/api/v1/oauth-clients", "/api/v1/audit", "/api/v1/clients", "/api/v1/printers", "/api/v1/jobs",
		"/api/v1/jobs/job_nope/events", "/api/v1/webhooks", "/api/v1/webhooks/wh_nope/deliveries"} {
		for _, tc := range []struct {
			query string
			want  int
			msg   string
		}{
			{"limit=0", 400, "limit must be an integer from 1 to 1000"},
			{"limit=1001", 400, "limit must be an integer from 1 to 1000"},
			{"limit=10000", 400, "limit must be an integer from 1 to 1000"},
			{"limit=ten", 400, "limit must be"},
			{"after=%25%25%25", 400, "after must be the next_cursor"},
			{"after=" + garbled, 400, "after must be the next_cursor"},
			{"after=e30", 400, "after must be the next_cursor"}, // {}
			{"limit=1000", 200, ""},
			{"limit=1", 200, ""},
		} {
			t.Run(path+"?"+tc.query, func(t *testing.T) {
				want := tc.want
				if want == 200 && strings.Contains(path, "_nope") {
					want = 404 // paging parameters are checked first; then the job is looked up
				}
				code, b := s.Do(t, http.MethodGet, path+"?"+tc.query, s.AdminKey, nil)
				if code != want {
					t.Fatalf("status %d, want %d: %.300s", code, want, b)
				}
				if want == 400 {
					if e := decodeError(t, tc.query, b); !strings.Contains(e.Error.Message, tc.msg) {
						t.Fatalf("message %q does not say %q", e.Error.Message, tc.msg)
					}
				}
			})
		}
	}
}

// TestPagingForeignCursor: a cursor works only on the list that made it.
func TestPagingForeignCursor(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	s.CreatePrintClient(t, "one")
	s.CreatePrintClient(t, "two")
	var p listPage
	s.JSON(t, http.MethodGet, "/api/v1/print-client-secrets?limit=1", s.AdminKey, nil, http.StatusOK, &p)
	if p.NextCursor == "" {
		t.Fatal("no next_cursor with two keys and limit=1")
	}
	after := "?after=" + url.QueryEscape(p.NextCursor)
	s.JSON(t, http.MethodGet, "/api/v1/print-client-secrets"+after, s.AdminKey, nil, http.StatusOK, &p)
	for _, path := range []string{"/api/v1/shared-secret/devices", "/api/v1/oauth-clients", "/api/v1/jobs", "/api/v1/clients"} {
		if code, b := s.Do(t, http.MethodGet, path+after, s.AdminKey, nil); code != http.StatusBadRequest {
			t.Errorf("%s with a cursor of print-client-secrets: %d %s", path, code, b)
		}
	}
}

// TestPagingJobs: the job list's filters, and its pages while jobs are submitted between them.
func TestPagingJobs(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	k := s.CreatePrintClient(t, "Packing")
	_, ids := connectWith(t, s, k.Secret, servertest.DialOptions{}, servertest.SimPrinter("a"), servertest.SimPrinter("b"))
	var made []string
	submit := func(i int) {
		j := s.SubmitJob(t, ids[i%2], label(fmt.Sprint(i)), servertest.JobOptions{Title: fmt.Sprint(i),
			IdempotencyKey: fmt.Sprintf("order-%d", i)})
		made = append(made, j.ID)
	}
	for i := range 9 {
		submit(i)
	}
	mid := s.GetJob(t, made[4]).CreatedAt
	newestFirst := slices.Clone(made)
	slices.Reverse(newestFirst)
	for _, tc := range []struct {
		name, query string
		want        []string
	}{
		{"all", "", newestFirst},
		{"printer", "?printer=" + ids[1], []string{made[7], made[5], made[3], made[1]}},
		{"idempotency key", "?idempotency_key=order-3", []string{made[3]}},
		{"unknown idempotency key", "?idempotency_key=order-99", nil},
		{"created after", "?created_after=" + url.QueryEscape(mid.Format(time.RFC3339Nano)), newestFirst[:4]},
		{"printer and created after", "?printer=" + ids[0] + "&created_after=" + url.QueryEscape(mid.Format(time.RFC3339Nano)),
			[]string{made[8], made[6]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, limit := range []int{1, 2, 100} {
				if got := walk(t, s, "/api/v1/jobs"+tc.query, limit, nil); !slices.Equal(got, tc.want) {
					t.Fatalf("limit %d: %v, want %v", limit, got, tc.want)
				}
			}
		})
	}
	evPath := "/api/v1/jobs/" + made[0] + "/events"
	if all, paged := walk(t, s, evPath, 1000, nil), walk(t, s, evPath, 1, nil); len(all) < 2 || !slices.Equal(paged, all) {
		t.Fatalf("events page by page: %v, want %v", paged, all)
	}
	before := slices.Clone(newestFirst)
	got := walk(t, s, "/api/v1/jobs", 2, func(i int) { submit(100 + i) })
	if !slices.Equal(got, before) {
		t.Fatalf("walk while submitting: %v, want the %d jobs there at the start: %v", got, len(before), before)
	}
	if code, b := s.Do(t, http.MethodGet, "/api/v1/jobs?created_after=yesterday", s.AdminKey, nil); code != 400 ||
		!strings.Contains(string(b), "created_after must be an RFC 3339 time") {
		t.Fatalf("bad created_after: %d %s", code, b)
	}
}
