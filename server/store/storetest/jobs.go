package storetest

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"printdock/server/store"
)

func connect(t *testing.T, s store.Store, portalID, id string, at time.Time) store.Client {
	t.Helper()
	c, err := s.ConnectClient(ctxOf(t), store.Client{ID: id, PortalID: portalID, CredentialID: "key-" + id,
		InstallationID: "inst-" + id, Hostname: "host-" + id, AgentVersion: "1.0", OS: "linux", LastSeenAt: at})
	must(t, err)
	return c
}

func printer(t *testing.T, s store.Store, portalID, clientID, id, uri string) store.Printer {
	t.Helper()
	p := store.Printer{ID: id, PortalID: portalID, ClientID: clientID, URI: uri, Name: "Printer " + id, Make: "Zebra",
		Model: "ZD421", Status: "ready", Present: true, FirstSeenAt: t0, UpdatedAt: t0, StatusSince: t0}
	must(t, s.UpsertPrinter(ctxOf(t), p))
	return p
}

// printers creates the portals, clients (connected at t0) and printers that specs name, each
// "portal client printerID uri", creating every portal and client once, and returns the printers by ID.
func printers(t *testing.T, s store.Store, specs ...string) map[string]store.Printer {
	t.Helper()
	made := map[string]bool{}
	out := map[string]store.Printer{}
	for _, spec := range specs {
		f := strings.Fields(spec)
		if !made[f[0]] {
			portal(t, s, f[0])
			made[f[0]] = true
		}
		if !made[f[0]+" "+f[1]] {
			connect(t, s, f[0], f[1], t0)
			made[f[0]+" "+f[1]] = true
		}
		out[f[2]] = printer(t, s, f[0], f[1], f[2], f[3])
	}
	return out
}

func job(p store.Printer, id string, created time.Time) store.Job {
	return store.Job{ID: id, PortalID: p.PortalID, PrinterID: p.ID, ClientID: p.ClientID, Title: "label " + id,
		Content: []byte("^XA^FD" + id + "^FS^XZ"), Copies: 1, Fingerprint: "fp-" + id, CreatedBy: "alice@example.com",
		State: store.JobQueued, Reason: "", CreatedAt: created, UpdatedAt: created, ExpiresAt: created.Add(24 * time.Hour)}
}

func jobIDs(js []store.Job) []string {
	var out []string
	for _, j := range js {
		out = append(out, j.ID)
	}
	return out
}

func testClients(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	portal(t, s, "p1")
	portal(t, s, "p2")
	c := connect(t, s, "p1", "c1", t0)
	if c.Sessions != 1 || c.SessionSeq != 1 || !c.FirstSeenAt.Equal(t0) || !c.LastSeenAt.Equal(t0) ||
		c.Hostname != "host-c1" || c.CredentialID != "key-c1" || c.InstallationID != "inst-c1" || c.PortalID != "p1" {
		t.Errorf("first connect = %+v", c)
	}
	later := t0.Add(time.Hour)
	c2, err := s.ConnectClient(ctx, store.Client{ID: "c1", PortalID: "p1", CredentialID: "key-other",
		InstallationID: "inst-c1", Hostname: "renamed", AgentVersion: "1.1", OS: "windows", LastSeenAt: later,
		Features: "cancel"})
	must(t, err)
	if c2.Sessions != 2 || c2.SessionSeq != 2 || !c2.FirstSeenAt.Equal(t0) || !c2.LastSeenAt.Equal(later) ||
		c2.Hostname != "renamed" || c2.AgentVersion != "1.1" || c2.OS != "windows" || c2.CredentialID != "key-other" ||
		c2.Features != "cancel" || c.Features != "" {
		t.Errorf("second connect = %+v", c2)
	}
	if got, err := s.GetClient(ctx, "c1"); err != nil || got != c2 {
		t.Errorf("get = %+v, %v; want %+v", got, err, c2)
	}
	must(t, s.DisconnectClient(ctx, "c1", later.Add(time.Minute)))
	must(t, s.DisconnectClient(ctx, "c1", later.Add(2*time.Minute)))
	must(t, s.DisconnectClient(ctx, "c1", later.Add(3*time.Minute))) // never below zero
	got, _ := s.GetClient(ctx, "c1")
	if got.Sessions != 0 || got.SessionSeq != 2 || !got.LastSeenAt.Equal(later.Add(3*time.Minute)) {
		t.Errorf("after disconnects = %+v", got)
	}
	if n, err := s.ClientSession(ctx, "c1"); n != 2 || err != nil {
		t.Errorf("client session = %d, %v; want 2 (the newest session's number)", n, err)
	}
	wantErr(t, "disconnect unknown", s.DisconnectClient(ctx, "nope", t0), store.ErrNotFound)
	_, err = s.GetClient(ctx, "nope")
	wantErr(t, "get unknown", err, store.ErrNotFound)
	_, err = s.ClientSession(ctx, "nope")
	wantErr(t, "session of unknown", err, store.ErrNotFound)
	if _, err := s.ConnectClient(ctx, store.Client{ID: "cx", PortalID: "no-such-portal", LastSeenAt: t0}); err == nil {
		t.Error("client in an unknown portal accepted")
	}

	connect(t, s, "p1", "c0", t0.Add(-time.Hour))
	connect(t, s, "p2", "c3", t0)
	list, err := s.ListClients(ctx, "p1", store.Page{})
	if err != nil || len(list) != 2 || list[0].ID != "c0" || list[1].ID != "c1" {
		t.Errorf("list p1 = %+v, %v", list, err)
	}
	for _, tc := range []struct {
		portal, cred string
		want         int
	}{{"p1", "key-other", 1}, {"p1", "key-c0", 1}, {"p2", "key-c0", 0}, {"p2", "key-c3", 1}, {"p1", "nope", 0}} {
		if n, err := s.CountClients(ctx, tc.portal, tc.cred); err != nil || n != tc.want {
			t.Errorf("count clients %s %s = %d, %v; want %d", tc.portal, tc.cred, n, err, tc.want)
		}
	}
	// One secret per installation: another live installation of the credential, never the asker's own,
	// an offline one or another portal's.
	for _, tc := range []struct{ portal, cred, inst, want string }{
		{"p1", "key-c0", "inst-new", "c0"}, {"p1", "key-c0", "inst-c0", ""}, {"p1", "key-other", "inst-new", ""},
		{"p2", "key-c0", "inst-new", ""}, {"p2", "key-c3", "inst-new", "c3"},
	} {
		c, err := s.OtherLiveInstallation(ctx, tc.portal, tc.cred, tc.inst)
		if tc.want == "" {
			wantErr(t, "other live installation "+tc.portal+" "+tc.cred+" "+tc.inst, err, store.ErrNotFound)
		} else if err != nil || c.ID != tc.want || c.Hostname != "host-"+tc.want {
			t.Errorf("other live installation %s %s %s = %+v, %v; want %s", tc.portal, tc.cred, tc.inst, c, err, tc.want)
		}
	}
	if n, err := s.ResetClientSessions(ctx); err != nil || n != 2 {
		t.Errorf("reset = %d, %v; want the 2 online clients", n, err)
	}
	for _, id := range []string{"c0", "c1", "c3"} {
		if c, _ := s.GetClient(ctx, id); c.Sessions != 0 {
			t.Errorf("%s sessions after reset = %d", id, c.Sessions)
		}
	}
	// The reset is the online clients' disconnect as noticed (printer alerts count from it); the offline
	// ones keep theirs.
	if c, _ := s.GetClient(ctx, "c0"); !c.LastSeenAt.After(t0) {
		t.Errorf("c0 last seen after reset = %v, want later than its connect %v", c.LastSeenAt, t0.Add(-time.Hour))
	}
	if c, _ := s.GetClient(ctx, "c1"); !c.LastSeenAt.Equal(later.Add(3 * time.Minute)) {
		t.Errorf("c1 (offline) last seen after reset = %v", c.LastSeenAt)
	}
}

func testPrinters(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	pa := printers(t, s, "p1 c1 prA usb://0a5f:0181/A", "p1 c2 prB usb://0a5f:0181/B",
		"p2 c3 prC tcp://10.0.0.9:9100")["prA"]

	got, err := s.GetPrinter(ctx, "prA")
	pa.ClientOnline, pa.ClientSeenAt = true, t0
	if err != nil || got != pa {
		t.Errorf("get = %+v, %v; want %+v", got, err, pa)
	}
	upd := pa
	upd.Name, upd.Status, upd.Reason, upd.Present, upd.UpdatedAt = "Desk", "media_out", "load labels", false, t0.Add(time.Hour)
	upd.Language, upd.DPI, upd.StatusMode = "epl", 203, "none"
	upd.FirstSeenAt = t0.Add(time.Hour) // ignored on update
	must(t, s.UpsertPrinter(ctx, upd))
	got, _ = s.GetPrinter(ctx, "prA")
	if got.Name != "Desk" || got.Status != "media_out" || got.Reason != "load labels" || got.Present ||
		!got.UpdatedAt.Equal(t0.Add(time.Hour)) || !got.FirstSeenAt.Equal(t0) || got.Language != "epl" ||
		got.DPI != 203 || got.StatusMode != "none" || !got.StatusSince.Equal(t0.Add(time.Hour)) {
		t.Errorf("after update = %+v", got)
	}
	same := upd // the same status later: status_since stays
	same.UpdatedAt, same.Reason = t0.Add(2*time.Hour), "still no labels"
	must(t, s.UpsertPrinter(ctx, same))
	if got, _ = s.GetPrinter(ctx, "prA"); !got.StatusSince.Equal(t0.Add(time.Hour)) || !got.UpdatedAt.Equal(same.UpdatedAt) {
		t.Errorf("same status later: status since %v, updated %v; want %v", got.StatusSince, got.UpdatedAt, t0.Add(time.Hour))
	}
	dup := pa
	dup.ID = "prA2"
	wantErr(t, "same client and uri under another id", s.UpsertPrinter(ctx, dup), store.ErrConflict)
	_, err = s.GetPrinter(ctx, "nope")
	wantErr(t, "get unknown", err, store.ErrNotFound)
	if err := s.UpsertPrinter(ctx, store.Printer{ID: "prX", PortalID: "p1", ClientID: "no-such-client", URI: "x"}); err == nil {
		t.Error("printer of an unknown client accepted")
	}

	must(t, s.DisconnectClient(ctx, "c2", t0.Add(3*time.Hour)))
	list, err := s.ListPrinters(ctx, store.PrinterFilter{PortalID: "p1"})
	if err != nil || len(list) != 2 || list[0].ID != "prA" || list[1].ID != "prB" {
		t.Fatalf("list p1 = %+v, %v", list, err)
	}
	if !list[0].ClientOnline || list[1].ClientOnline {
		t.Errorf("client online = %v, %v; want true, false", list[0].ClientOnline, list[1].ClientOnline)
	}
	// Printer alerts count a printer of an offline client from its client's disconnect.
	if !list[0].ClientSeenAt.Equal(t0) || !list[1].ClientSeenAt.Equal(t0.Add(3*time.Hour)) {
		t.Errorf("client seen at = %v, %v; want %v, %v", list[0].ClientSeenAt, list[1].ClientSeenAt, t0, t0.Add(3*time.Hour))
	}
	list, err = s.ListPrinters(ctx, store.PrinterFilter{PortalID: "p1", ClientID: "c2"})
	if err != nil || len(list) != 1 || list[0].ID != "prB" {
		t.Errorf("list c2 = %+v, %v", list, err)
	}
	list, err = s.ListPrinters(ctx, store.PrinterFilter{PortalID: "p2"})
	if err != nil || len(list) != 1 || list[0].ID != "prC" {
		t.Errorf("list p2 = %+v, %v", list, err)
	}
	for portal, want := range map[string]int{"p1": 2, "p2": 1, "p3": 0} {
		if n, err := s.CountPrinters(ctx, portal); err != nil || n != want {
			t.Errorf("count printers %s = %d, %v; want %d", portal, n, err, want)
		}
	}
}

func testJobs(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	prs := printers(t, s, "p1 c1 prA usb://a", "p1 c1 prB usb://b", "p2 c2 prC usb://c")
	pa, pb, pc := prs["prA"], prs["prB"], prs["prC"]

	j1 := job(pa, "j1", t0)
	j1.IdempotencyKey = "order-1"
	j1.Copies = 3
	must(t, s.CreateJob(ctx, j1))
	wantErr(t, "duplicate id", s.CreateJob(ctx, job(pb, "j1", t0)), store.ErrConflict)
	dupKey := job(pb, "j2", t0)
	dupKey.IdempotencyKey = "order-1"
	wantErr(t, "duplicate idempotency key", s.CreateJob(ctx, dupKey), store.ErrConflict)
	otherPortal := job(pc, "j3", t0)
	otherPortal.IdempotencyKey = "order-1"
	must(t, s.CreateJob(ctx, otherPortal)) // keys are per portal
	for i, id := range []string{"j4", "j5"} {
		must(t, s.CreateJob(ctx, job(pb, id, t0.Add(time.Duration(i+1)*time.Minute)))) // no key, twice
	}
	bad := job(pa, "j6", t0)
	bad.Copies = 0
	if err := s.CreateJob(ctx, bad); err == nil {
		t.Error("job with 0 copies accepted")
	}
	if err := s.CreateJob(ctx, job(store.Printer{ID: "nope", PortalID: "p1", ClientID: "c1"}, "j7", t0)); err == nil {
		t.Error("job for an unknown printer accepted")
	}

	got, err := s.GetJob(ctx, "j1")
	want := j1
	want.Content, want.Size, want.PrinterURI = nil, int64(len(j1.Content)), "usb://a"
	if err != nil || !jobEqual(got, want) {
		t.Errorf("get = %+v, %v;\nwant %+v", got, err, want)
	}
	if b, err := s.JobContent(ctx, "j1"); err != nil || !bytes.Equal(b, j1.Content) {
		t.Errorf("content = %q, %v", b, err)
	}
	_, err = s.JobContent(ctx, "nope")
	wantErr(t, "content of unknown", err, store.ErrNotFound)
	_, err = s.JobPreview(ctx, "j1")
	wantErr(t, "preview of a raw job", err, store.ErrNotFound)
	_, err = s.GetJob(ctx, "nope")
	wantErr(t, "get unknown", err, store.ErrNotFound)
	got, err = s.GetJobByIdempotencyKey(ctx, "p1", "order-1")
	if err != nil || got.ID != "j1" {
		t.Errorf("by key = %+v, %v", got, err)
	}
	got, err = s.GetJobByIdempotencyKey(ctx, "p2", "order-1")
	if err != nil || got.ID != "j3" {
		t.Errorf("by key in p2 = %+v, %v", got, err)
	}
	_, err = s.GetJobByIdempotencyKey(ctx, "p1", "order-2")
	wantErr(t, "unknown key", err, store.ErrNotFound)

	// Sizes: the largest job content fits.
	big := job(pa, "jbig", t0.Add(-time.Hour))
	big.Content = bytes.Repeat([]byte{0, 0xff, '^'}, 2<<20)
	must(t, s.CreateJob(ctx, big))
	if b, err := s.JobContent(ctx, "jbig"); err != nil || !bytes.Equal(b, big.Content) {
		t.Errorf("big content round trip: %d bytes, %v", len(b), err)
	}

	no, yes := false, true
	must(t, s.UpdateJob(ctx, store.JobUpdate{ID: "j5", From: store.JobQueued, To: store.JobSent, At: t0.Add(time.Hour), Received: true}))
	for _, tc := range []struct {
		name string
		f    store.JobFilter
		want []string
	}{
		{"portal newest first", store.JobFilter{PortalID: "p1"}, []string{"j5", "j4", "j1", "jbig"}},
		{"oldest first", store.JobFilter{PortalID: "p1", OldestFirst: true}, []string{"jbig", "j1", "j4", "j5"}},
		{"printer", store.JobFilter{PortalID: "p1", PrinterID: "prB"}, []string{"j5", "j4"}},
		{"state", store.JobFilter{PortalID: "p1", States: []store.JobState{store.JobSent}}, []string{"j5"}},
		{"states", store.JobFilter{PortalID: "p1", States: []store.JobState{store.JobSent, store.JobQueued}, Limit: 2}, []string{"j5", "j4"}},
		{"other portal's printer", store.JobFilter{PortalID: "p2", PrinterID: "prA"}, nil},
		{"client", store.JobFilter{PortalID: "p2", ClientID: "c2"}, []string{"j3"}},
		{"limit", store.JobFilter{PortalID: "p1", Limit: 1}, []string{"j5"}},
		{"expires by", store.JobFilter{AllPortals: true, ExpiresBy: t0.Add(24 * time.Hour), OldestFirst: true}, []string{"jbig", "j1", "j3"}},
		{"received", store.JobFilter{PortalID: "p1", Received: &yes}, []string{"j5"}},
		{"not received", store.JobFilter{PortalID: "p1", Received: &no, PrinterID: "prB"}, []string{"j4"}},
	} {
		got, err := s.ListJobs(ctx, tc.f)
		if err != nil || !slices.Equal(jobIDs(got), tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.name, jobIDs(got), err, tc.want)
		}
		for _, j := range got {
			if j.Content != nil {
				t.Errorf("%s: list returned content", tc.name)
			}
		}
	}
}

func testJobUpdates(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	pa := printers(t, s, "p1 c1 prA usb://a")["prA"]
	must(t, s.CreateJob(ctx, job(pa, "j1", t0)))

	wantErr(t, "wrong from", s.UpdateJob(ctx, store.JobUpdate{ID: "j1", From: store.JobSent, To: store.JobPrinting, At: t0}), store.ErrConflict)
	wantErr(t, "unknown", s.UpdateJob(ctx, store.JobUpdate{ID: "nope", From: store.JobQueued, To: store.JobSent, At: t0}), store.ErrNotFound)

	t1, t2, t3, t4, t5 := t0.Add(time.Second), t0.Add(2*time.Second), t0.Add(3*time.Second), t0.Add(4*time.Second), t0.Add(5*time.Second)
	must(t, s.UpdateJob(ctx, store.JobUpdate{ID: "j1", From: store.JobQueued, To: store.JobSent, At: t1, Sent: true, Session: 7}))
	got, _ := s.GetJob(ctx, "j1")
	if got.State != store.JobSent || got.Attempts != 1 || got.SentSession != 7 || !eqT(got.SentAt, t1) ||
		got.ReceivedAt != nil || !got.UpdatedAt.Equal(t1) {
		t.Errorf("after send = %+v", got)
	}
	must(t, s.UpdateJob(ctx, store.JobUpdate{ID: "j1", From: store.JobSent, To: store.JobSent, At: t2, Sent: true, Session: 8}))
	must(t, s.UpdateJob(ctx, store.JobUpdate{ID: "j1", From: store.JobSent, To: store.JobSent, At: t3, Received: true, Reason: "spooled"}))
	must(t, s.UpdateJob(ctx, store.JobUpdate{ID: "j1", From: store.JobSent, To: store.JobSent, At: t4, Received: true}))
	got, _ = s.GetJob(ctx, "j1")
	if got.Attempts != 2 || got.SentSession != 8 || !eqT(got.SentAt, t2) || !eqT(got.ReceivedAt, t3) || got.Reason != "" {
		t.Errorf("after resend and receipt = %+v (received_at keeps the first)", got)
	}
	must(t, s.UpdateJob(ctx, store.JobUpdate{ID: "j1", From: store.JobSent, To: store.JobPrinting, At: t4}))
	must(t, s.UpdateJob(ctx, store.JobUpdate{ID: "j1", From: store.JobPrinting, To: store.JobPrinting, At: t5}))
	got, _ = s.GetJob(ctx, "j1")
	if got.State != store.JobPrinting || !eqT(got.PrintingAt, t4) || got.FinishedAt != nil {
		t.Errorf("printing = %+v", got)
	}
	must(t, s.UpdateJob(ctx, store.JobUpdate{ID: "j1", From: store.JobPrinting, To: store.JobFailed, At: t5, Reason: "media out"}))
	got, _ = s.GetJob(ctx, "j1")
	if got.State != store.JobFailed || got.Reason != "media out" || !eqT(got.FinishedAt, t5) || !got.UpdatedAt.Equal(t5) {
		t.Errorf("failed = %+v", got)
	}
}

func testPendingJobs(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	prs := printers(t, s, "p1 c1 prA usb://a", "p1 c1 prB usb://b", "p1 c2 prC usb://c", "p1 c1 prGone usb://gone")
	pa, pb, pc, gone := prs["prA"], prs["prB"], prs["prC"], prs["prGone"]
	gone.Present = false
	must(t, s.UpsertPrinter(ctx, gone))
	for _, j := range []store.Job{job(gone, "absent", t0), job(pa, "queued", t0), job(pb, "sentOld", t0.Add(time.Second)),
		job(pa, "sentNow", t0.Add(2*time.Second)), job(pb, "received", t0.Add(3*time.Second)),
		job(pa, "done", t0.Add(4*time.Second)), job(pc, "other", t0.Add(5*time.Second)),
		job(pb, "queued2", t0.Add(6*time.Second))} {
		must(t, s.CreateJob(ctx, j))
	}
	send := func(id string, session int64) {
		must(t, s.UpdateJob(ctx, store.JobUpdate{ID: id, From: store.JobQueued, To: store.JobSent, At: t0, Sent: true, Session: session}))
	}
	send("sentOld", 1)
	send("sentNow", 2)
	send("received", 1)
	must(t, s.UpdateJob(ctx, store.JobUpdate{ID: "received", From: store.JobSent, To: store.JobSent, At: t0, Received: true}))
	send("done", 1)
	must(t, s.UpdateJob(ctx, store.JobUpdate{ID: "done", From: store.JobSent, To: store.JobDone, At: t0, Received: true}))

	got, err := s.PendingJobs(ctx, "c1", 2, 0)
	if err != nil || !slices.Equal(jobIDs(got), []string{"queued", "sentOld", "queued2"}) {
		t.Fatalf("pending in session 2 = %v, %v", jobIDs(got), err)
	}
	if !bytes.Equal(got[0].Content, []byte("^XA^FDqueued^FS^XZ")) || got[0].PrinterURI != "usb://a" || got[1].PrinterURI != "usb://b" {
		t.Errorf("pending job = %+v", got[0])
	}
	got, _ = s.PendingJobs(ctx, "c1", 3, 2)
	if !slices.Equal(jobIDs(got), []string{"queued", "sentOld"}) {
		t.Errorf("pending in session 3, limit 2 = %v", jobIDs(got))
	}
	got, _ = s.PendingJobs(ctx, "c1", 3, 10)
	if !slices.Equal(jobIDs(got), []string{"queued", "sentOld", "sentNow", "queued2"}) {
		t.Errorf("pending in session 3 = %v", jobIDs(got))
	}
	got, _ = s.PendingJobs(ctx, "c2", 1, 0)
	if !slices.Equal(jobIDs(got), []string{"other"}) {
		t.Errorf("pending for c2 = %v", jobIDs(got))
	}
	if got, err := s.PendingJobs(ctx, "nobody", 1, 0); err != nil || len(got) != 0 {
		t.Errorf("pending for unknown client = %v, %v", jobIDs(got), err)
	}

	// A cancel requested for a sent job: never pending again, listed by the CancelRequested filter.
	t1 := t0.Add(time.Minute)
	must(t, s.UpdateJob(ctx, store.JobUpdate{ID: "sentOld", From: store.JobSent, To: store.JobSent, At: t1, CancelBy: "ann"}))
	if j, _ := s.GetJob(ctx, "sentOld"); !eqT(j.CancelRequestedAt, t1) || j.CancelRequestedBy != "ann" || j.Attempts != 1 {
		t.Errorf("after the cancel request = %+v", j)
	}
	got, _ = s.PendingJobs(ctx, "c1", 3, 10)
	if !slices.Equal(jobIDs(got), []string{"queued", "sentNow", "queued2"}) {
		t.Errorf("pending after a cancel request = %v", jobIDs(got))
	}
	yes := true
	got, err = s.ListJobs(ctx, store.JobFilter{PortalID: "p1", ClientID: "c1", States: []store.JobState{store.JobSent},
		CancelRequested: &yes})
	if err != nil || !slices.Equal(jobIDs(got), []string{"sentOld"}) {
		t.Errorf("cancel requested = %v, %v", jobIDs(got), err)
	}
}

func testJobEvents(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	pa := printers(t, s, "p1 c1 prA usb://a")["prA"]
	must(t, s.CreateJob(ctx, job(pa, "j1", t0)))
	must(t, s.CreateJob(ctx, job(pa, "j2", t0)))
	evs := []store.JobEvent{
		{JobID: "j1", At: t0, From: "", To: store.JobQueued, Reason: "submitted", Actor: "alice@example.com"},
		{JobID: "j2", At: t0, From: "", To: store.JobQueued, Reason: "submitted", Actor: "bob@example.com"},
		{JobID: "j1", At: t0.Add(time.Second), From: store.JobQueued, To: store.JobSent, Reason: "delivered", Actor: "server"},
	}
	var last int64
	for _, e := range evs {
		id, err := s.AppendJobEvent(ctx, e)
		must(t, err)
		if id <= last {
			t.Errorf("event ids not increasing: %d after %d", id, last)
		}
		last = id
	}
	if _, err := s.AppendJobEvent(ctx, store.JobEvent{JobID: "nope", At: t0, To: store.JobQueued}); err == nil {
		t.Error("event of an unknown job accepted")
	}
	got, err := s.ListJobEvents(ctx, "j1", store.Page{})
	if err != nil || len(got) != 2 {
		t.Fatalf("events = %+v, %v", got, err)
	}
	for i, want := range []store.JobEvent{evs[0], evs[2]} {
		want.ID = got[i].ID
		if got[i] != want || got[i].At.Location() != time.UTC {
			t.Errorf("event %d = %+v, want %+v", i, got[i], want)
		}
	}
	if got, err := s.ListJobEvents(ctx, "nope", store.Page{}); err != nil || len(got) != 0 {
		t.Errorf("events of unknown job = %+v, %v", got, err)
	}
}

func eqT(p *time.Time, t time.Time) bool { return p != nil && p.Equal(t) }

func jobEqual(a, b store.Job) bool {
	for _, pair := range [][2]*time.Time{{a.SentAt, b.SentAt}, {a.ReceivedAt, b.ReceivedAt}, {a.PrintingAt, b.PrintingAt},
		{a.FinishedAt, b.FinishedAt}, {a.CancelRequestedAt, b.CancelRequestedAt}} {
		if (pair[0] == nil) != (pair[1] == nil) || pair[0] != nil && !pair[0].Equal(*pair[1]) {
			return false
		}
	}
	if !bytes.Equal(a.Content, b.Content) || !a.CreatedAt.Equal(b.CreatedAt) || !a.UpdatedAt.Equal(b.UpdatedAt) ||
		!a.ExpiresAt.Equal(b.ExpiresAt) {
		return false
	}
	return jobFieldsEqual(a, b)
}

// jobFieldsEqual compares the comparable fields (Job holds a slice, so == does not apply).
func jobFieldsEqual(a, b store.Job) bool {
	return a.ID == b.ID && a.PortalID == b.PortalID && a.PrinterID == b.PrinterID && a.ClientID == b.ClientID &&
		a.PrinterURI == b.PrinterURI && a.Title == b.Title && a.Size == b.Size && a.Copies == b.Copies &&
		a.IdempotencyKey == b.IdempotencyKey && a.Fingerprint == b.Fingerprint && a.CreatedBy == b.CreatedBy &&
		a.State == b.State && a.Reason == b.Reason && a.Attempts == b.Attempts && a.SentSession == b.SentSession &&
		a.CancelRequestedBy == b.CancelRequestedBy
}
