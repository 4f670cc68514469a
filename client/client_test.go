package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"printdock/client"
	"printdock/server/servertest"
)

func newClient(t *testing.T, base, token string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(base, token, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAgainstServer walks keys, printers, clients and jobs through a real server.
func TestAgainstServer(t *testing.T) {
	t.Parallel()
	s := servertest.New(t, servertest.Options{})
	c := newClient(t, s.URL, s.AdminKey)
	ctx := context.Background()

	k, err := c.CreateKey(ctx, client.NewKey{Description: "client dock"})
	if err != nil || k.Secret == "" || k.Status != "active" {
		t.Fatalf("create key: %+v %v", k, err)
	}
	ks, err := c.ListKeys(ctx)
	if err != nil || len(ks) != 1 || ks[0].ID != k.ID || ks[0].Secret != "" {
		t.Fatalf("list keys: %+v %v", ks, err)
	}
	if g, err := c.GetKey(ctx, k.ID); err != nil || g.Description != "client dock" {
		t.Fatalf("get key: %+v %v", g, err)
	}
	r, err := c.RotateKey(ctx, k.ID)
	if err != nil || r.Secret == "" || r.Secret == k.Secret {
		t.Fatalf("rotate: %v", err)
	}
	if d, err := c.DeactivateKey(ctx, k.ID); err != nil || d.Status != "inactive" {
		t.Fatalf("deactivate: %+v %v", d, err)
	}
	if d, err := c.ActivateKey(ctx, k.ID); err != nil || d.Status != "active" {
		t.Fatalf("activate: %+v %v", d, err)
	}

	a := s.Connect(t, r.Secret, servertest.DialOptions{})
	if err := a.SendPrinters(ctx, servertest.SimPrinter("client")); err != nil {
		t.Fatal(err)
	}
	p := s.WaitPrinter(t, a, "sim://client", true)
	ps, err := c.ListPrinters(ctx)
	if err != nil || len(ps) != 1 || ps[0].ID != p.ID || !ps[0].Online {
		t.Fatalf("printers: %+v %v", ps, err)
	}
	if g, err := c.GetPrinter(ctx, p.ID); err != nil || g.URI != "sim://client" {
		t.Fatalf("get printer: %+v %v", g, err)
	}
	cs, err := c.ListClients(ctx)
	if err != nil || len(cs) != 1 || cs[0].ID != a.Welcome.ClientID || !cs[0].Online || len(cs[0].Printers) != 1 {
		t.Fatalf("clients: %+v %v", cs, err)
	}

	req := client.JobRequest{Content: []byte("^XA^FDclient^FS^XZ"), Title: "Order 7", IdempotencyKey: "order-7"}
	j, created, err := c.SubmitJob(ctx, p.ID, req)
	if err != nil || !created || j.ID == "" || j.PrinterID != p.ID {
		t.Fatalf("submit: %+v %v %v", j, created, err)
	}
	again, created, err := c.SubmitJob(ctx, p.ID, req)
	if err != nil || created || again.ID != j.ID {
		t.Fatalf("submit again: %+v %v %v", again, created, err)
	}
	req.Title = "Another order"
	if _, _, err := c.SubmitJob(ctx, p.ID, req); !errors.Is(err, client.ErrConflict) {
		t.Fatalf("key reused for another job: %v", err)
	}
	if g, err := c.GetJob(ctx, j.ID); err != nil || g.Title != "Order 7" {
		t.Fatalf("get job: %+v %v", g, err)
	}
	pg, err := c.ListJobs(ctx, client.JobFilter{Printer: p.ID, Limit: 10})
	if err != nil || len(pg.Items) != 1 || pg.Items[0].ID != j.ID {
		t.Fatalf("list jobs: %+v %v", pg, err)
	}
	a.ExpectJob(t)
	cj, err := c.CancelJob(ctx, j.ID)
	if err == nil && cj.State != client.JobCancelled {
		t.Fatalf("cancel: %+v", cj)
	}
	if err != nil && !errors.Is(err, client.ErrConflict) {
		t.Fatalf("cancel: %v", err)
	}
	if evs, err := c.JobEvents(ctx, j.ID); err != nil || len(evs) < 2 {
		t.Fatalf("events: %+v %v", evs, err)
	}

	// Typed errors carry the server's code and message.
	_, err = c.GetJob(ctx, "job_nope")
	var ae *client.Error
	if !errors.As(err, &ae) || ae.Status != 404 || ae.Code != client.CodeNotFound || ae.Message == "" ||
		!errors.Is(err, client.ErrNotFound) || client.ErrorCode(err) != client.CodeNotFound {
		t.Fatalf("not found: %#v", err)
	}
	bad := newClient(t, s.URL, "pdu_wrong")
	if _, err := bad.ListPrinters(ctx); !errors.Is(err, client.ErrUnauthenticated) {
		t.Fatalf("bad token: %v", err)
	}
	if err := c.DeleteKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RevokeKey(ctx, k.ID); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("revoke a deleted key: %v", err)
	}
}

// flaky is a reverse proxy in front of a real server that answers the first fail requests of each
// method with status (and Retry-After) without passing them on.
type flaky struct {
	next       http.Handler
	status     int
	retryAfter string
	fail       atomic.Int64
	passed     atomic.Int64
	refused    atomic.Int64
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.fail.Add(-1) >= 0 {
		f.refused.Add(1)
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.status)
		_, _ = w.Write([]byte(`{"error":{"code":"unavailable","message":"try later"}}`))
		return
	}
	f.passed.Add(1)
	f.next.ServeHTTP(w, r)
}

func TestRetries(t *testing.T) {
	t.Parallel()
	s := servertest.New(t, servertest.Options{})
	u, _ := url.Parse(s.URL)
	f := &flaky{next: httputil.NewSingleHostReverseProxy(u)}
	proxy := httptest.NewServer(f)
	t.Cleanup(proxy.Close)
	fast := client.RetryPolicy{Attempts: 4, Backoff: time.Millisecond, MaxWait: 5 * time.Second}
	c := newClient(t, proxy.URL, s.AdminKey, client.WithRetry(fast))
	ctx := context.Background()

	k := s.CreatePrintClient(t, "retry dock")
	a := s.Connect(t, k.Secret, servertest.DialOptions{})
	if err := a.SendPrinters(ctx, servertest.SimPrinter("retry")); err != nil {
		t.Fatal(err)
	}
	p := s.WaitPrinter(t, a, "sim://retry", true)

	type call struct {
		name                 string
		status               int
		retryAfter           string
		fail                 int64
		do                   func() error
		wantErr              bool
		wantPassed, wantSent int64
	}
	submit := func(key string) func() error {
		return func() error {
			_, _, err := c.SubmitJob(ctx, p.ID, client.JobRequest{Content: []byte("^XA^XZ"), IdempotencyKey: key})
			return err
		}
	}
	list := func() error { _, err := c.ListPrinters(ctx); return err }
	for _, tc := range []call{
		{name: "GET retried on 503", status: 503, fail: 2, do: list, wantPassed: 1, wantSent: 3},
		{name: "GET retried on 429 after Retry-After", status: 429, retryAfter: "1", fail: 1, do: list, wantPassed: 1, wantSent: 2},
		{name: "GET gives up", status: 502, fail: 10, do: list, wantErr: true, wantPassed: 0, wantSent: 4},
		{name: "GET not retried on 404", status: 404, fail: 1, do: list, wantErr: true, wantPassed: 0, wantSent: 1},
		{name: "Retry-After beyond MaxWait ends the retries", status: 429, retryAfter: "60", fail: 1, do: list, wantErr: true, wantSent: 1},
		{name: "submit with a key retried", status: 500, fail: 2, do: submit("retry-1"), wantPassed: 1, wantSent: 3},
		{name: "submit without a key sent once", status: 503, fail: 1, do: submit(""), wantErr: true, wantPassed: 0, wantSent: 1},
		{name: "cancel sent once", status: 503, fail: 1, do: func() error { _, err := c.CancelJob(ctx, "job_x"); return err }, wantErr: true, wantSent: 1},
	} {
		f.status, f.retryAfter = tc.status, tc.retryAfter
		f.fail.Store(tc.fail)
		f.passed.Store(0)
		f.refused.Store(0)
		t0 := time.Now()
		err := tc.do()
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err %v", tc.name, err)
		}
		if sent := f.passed.Load() + f.refused.Load(); f.passed.Load() != tc.wantPassed || sent != tc.wantSent {
			t.Errorf("%s: passed %d of %d, want %d of %d", tc.name, f.passed.Load(), sent, tc.wantPassed, tc.wantSent)
		}
		if tc.retryAfter == "1" && time.Since(t0) < time.Second {
			t.Errorf("%s: Retry-After not honoured", tc.name)
		}
		var ae *client.Error
		if tc.wantErr && tc.status >= 429 && errors.As(err, &ae) && ae.Status != tc.status {
			t.Errorf("%s: %v", tc.name, err)
		}
	}

	// A connection error on a GET is retried; the proxy is gone for good, so it ends with the error.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	dc := newClient(t, dead.URL, s.AdminKey, client.WithRetry(fast))
	if _, err := dc.ListPrinters(ctx); err == nil {
		t.Fatal("no error from a closed server")
	}
}

func TestNewRefusesBadURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "ftp://x", "localhost:8080", "http://"} {
		if _, err := client.New(u, "x"); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
}

// A connection error on a GET is retried; an answer that is not JSON is not.
func TestRetryConnectionErrors(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			hj, _ := w.(http.Hijacker)
			c, _, _ := hj.Hijack()
			c.Close() // the connection drops without an answer
			return
		}
		w.Write([]byte(`{"items":[{"id":"prn_1"}]}`))
	}))
	t.Cleanup(hs.Close)
	c := newClient(t, hs.URL, "pdu_x", client.WithRetry(client.RetryPolicy{Attempts: 3, Backoff: time.Millisecond, MaxWait: time.Second}))
	ps, err := c.ListPrinters(context.Background())
	if err != nil || len(ps) != 1 || n.Load() != 2 {
		t.Fatalf("%v %v after %d requests", ps, err, n.Load())
	}
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Write([]byte(`not json`))
	}))
	t.Cleanup(bad.Close)
	n.Store(0)
	c = newClient(t, bad.URL, "pdu_x", client.WithRetry(client.RetryPolicy{Attempts: 3, Backoff: time.Millisecond, MaxWait: time.Second}))
	if _, err := c.ListPrinters(context.Background()); err == nil || n.Load() != 1 {
		t.Fatalf("%v after %d requests", err, n.Load())
	}
}
