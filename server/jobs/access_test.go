package jobs

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"printdock/server/keys"
	"printdock/server/store"
)

func TestCancel(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	client, prs := e.agent("p1", "key1", "inst1", "usb://a")
	mk := func() Job { return e.submit(e.alice, prs[0], SubmitRequest{Content: []byte("x")}) }
	queued, sent, received, printing, done := mk(), mk(), mk(), mk(), mk()
	for _, j := range []Job{sent, received, printing, done} {
		e.must(e.svc.MarkSent(ctx, j.ID))
	}
	e.must(e.ack(client, received.ID, "received", "", false))
	e.must(e.ack(client, printing.ID, "printing", "", false))
	e.must(e.ack(client, done.ID, "done", "", false))
	for _, tc := range []struct {
		name string
		id   string
		a    keys.Actor
		want error
		msg  string
	}{
		{"queued", queued.ID, e.alice, nil, ""},
		{"sent", sent.ID, e.oauth, ErrAlreadySent, "can no longer be cancelled"},
		{"sent and received", received.ID, e.admin, ErrAlreadySent, "can no longer be cancelled"},
		{"printing", printing.ID, e.alice, ErrAlreadyPrinting, "already printing"},
		{"done", done.ID, e.alice, ErrConflict, "already done"},
		{"twice", queued.ID, e.alice, ErrConflict, "already cancelled"},
		{"other portal", sent.ID, e.bob, ErrNotFound, "not found"},
		{"unknown", "job_nope", e.alice, ErrNotFound, "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before State
			if tc.id != "job_nope" {
				before = e.state(tc.id)
			}
			j, err := e.svc.Cancel(t.Context(), tc.a, tc.id)
			if tc.want == nil {
				if err != nil || j.State != Cancelled || !strings.Contains(j.Reason, "cancelled by "+tc.a.Email) || j.FinishedAt == nil {
					t.Fatalf("cancel = %+v, %v", j, err)
				}
				return
			}
			wantErr(t, tc.name, err, tc.want)
			if err != nil && !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("message %q does not say %q", err, tc.msg)
			}
			if tc.id != "job_nope" && e.state(tc.id) != before {
				t.Errorf("refused cancel changed the state")
			}
		})
	}
	if got := e.pending(client); len(got) != 0 {
		t.Errorf("cancelled jobs pending: %v", got)
	}
	wantErr(t, "mark sent of a cancelled job", e.svc.MarkSent(ctx, queued.ID), ErrConflict)
}

func TestPortalIsolation(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	_, prs := e.agent("p1", "key1", "inst1", "usb://a")
	_, prs2 := e.agent("p2", "key2", "inst2", "usb://a")
	j := e.submit(e.alice, prs[0], SubmitRequest{Content: []byte("x")})
	j2 := e.submit(e.bob, prs2[0], SubmitRequest{Content: []byte("y")})
	_, err := e.svc.Get(ctx, e.bob, j.ID)
	wantErr(t, "get", err, ErrNotFound)
	_, err = e.svc.Events(ctx, e.bob, j.ID, store.Page{})
	wantErr(t, "events", err, ErrNotFound)
	_, err = e.svc.Cancel(ctx, e.bob, j.ID)
	wantErr(t, "cancel", err, ErrNotFound)
	_, _, err = e.svc.Submit(ctx, e.bob, prs[0], SubmitRequest{Content: []byte("x")})
	wantErr(t, "submit", err, ErrNotFound)
	_, err = e.svc.GetPrinter(ctx, "p2", prs[0])
	wantErr(t, "get printer", err, ErrNotFound)
	for _, tc := range []struct {
		a    keys.Actor
		want string
	}{{e.alice, j.ID}, {e.bob, j2.ID}} {
		list, err := e.svc.List(ctx, tc.a, ListFilter{})
		if err != nil || len(list) != 1 || list[0].ID != tc.want {
			t.Errorf("list of %s = %+v, %v", tc.a.Email, list, err)
		}
		list, _ = e.svc.List(ctx, tc.a, ListFilter{PrinterID: prs[0]})
		if (tc.a.PortalID == "p1") != (len(list) == 1) {
			t.Errorf("list of %s by p1's printer = %d jobs", tc.a.Email, len(list))
		}
	}
	for portal, want := range map[string]string{"p1": prs[0], "p2": prs2[0]} {
		ps, err := e.svc.ListPrinters(ctx, portal, store.Page{})
		if err != nil || len(ps) != 1 || ps[0].ID != want {
			t.Errorf("printers of %s = %+v, %v", portal, ps, err)
		}
		cs, err := e.svc.ListClients(ctx, portal, store.Page{})
		if err != nil || len(cs) != 1 {
			t.Errorf("clients of %s = %+v, %v", portal, cs, err)
		}
	}
	if prs[0] == prs2[0] {
		t.Error("the same URI in two portals has one printer ID")
	}
}

func TestListFilter(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	_, prs := e.agent("p1", "key1", "inst1", "usb://a", "usb://b")
	var ids []string
	for i := range 4 {
		e.clock.Advance(time.Second)
		ids = append(ids, e.submit(e.alice, prs[i%2], SubmitRequest{Content: []byte("x")}).ID)
	}
	_, err := e.svc.Cancel(ctx, e.alice, ids[0])
	e.must(err)
	for _, tc := range []struct {
		name string
		f    ListFilter
		want []string
	}{
		{"all newest first", ListFilter{}, []string{ids[3], ids[2], ids[1], ids[0]}},
		{"printer", ListFilter{PrinterID: prs[0]}, []string{ids[2], ids[0]}},
		{"state", ListFilter{State: Cancelled}, []string{ids[0]}},
		{"printer and state", ListFilter{PrinterID: prs[0], State: Queued}, []string{ids[2]}},
		{"limit", ListFilter{Limit: 1}, []string{ids[3]}},
	} {
		list, err := e.svc.List(ctx, e.alice, tc.f)
		var got []string
		for _, j := range list {
			got = append(got, j.ID)
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	_, err = e.svc.List(ctx, e.alice, ListFilter{State: "weird"})
	wantErr(t, "unknown state", err, ErrInvalid)
	_, err = e.svc.List(ctx, actor("p1", "", "", keys.KindPrintClient), ListFilter{})
	wantErr(t, "print client lists jobs", err, ErrForbidden)
}

// TestContentDropped: once retention has dropped a finished job's content, Content says so.
func TestContentDropped(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	client, prs := e.agent("p1", "key1", "inst1", "usb://a")
	done := e.submit(e.alice, prs[0], SubmitRequest{Content: []byte("^XA^XZ")})
	kept := e.submit(e.alice, prs[0], SubmitRequest{Content: []byte("^XA^FDkept^XZ")})
	e.must(e.svc.MarkSent(ctx, done.ID))
	e.must(e.ack(client, done.ID, "done", "", false))
	if n, err := e.st.DropJobContent(ctx, e.clock.Now().Add(time.Hour), 10); err != nil || n != 1 {
		t.Fatalf("drop content = %d, %v", n, err)
	}
	if _, err := e.svc.Content(ctx, e.alice, done.ID); !errors.Is(err, ErrContentDropped) || !errors.Is(err, ErrNotFound) {
		t.Errorf("content of a dropped job: %v", err)
	}
	if b, err := e.svc.Content(ctx, e.alice, kept.ID); err != nil || string(b) != "^XA^FDkept^XZ" {
		t.Errorf("content of a queued job = %q, %v", b, err)
	}
}
