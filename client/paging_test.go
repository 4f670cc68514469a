package client_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"printdock/client"
	"printdock/server/servertest"
)

// TestAllJobs walks the job list page by page with the iterator, with and without filters, and stops
// early when the loop breaks.
func TestAllJobs(t *testing.T) {
	t.Parallel()
	s := servertest.New(t, servertest.Options{})
	c := newClient(t, s.URL, s.AdminKey)
	ctx := context.Background()
	k, err := c.CreateKey(ctx, client.NewKey{Description: "paging dock"})
	if err != nil {
		t.Fatal(err)
	}
	a := s.Connect(t, k.Secret, servertest.DialOptions{})
	if err := a.SendPrinters(ctx, servertest.SimPrinter("pages")); err != nil {
		t.Fatal(err)
	}
	p := s.WaitPrinter(t, a, "sim://pages", true)
	var made []string
	for i := range 5 {
		j, _, err := c.SubmitJob(ctx, p.ID, client.JobRequest{Content: []byte("^XA^XZ"), Title: fmt.Sprint(i),
			IdempotencyKey: fmt.Sprintf("order-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		made = append([]string{j.ID}, made...) // newest first
	}
	collect := func(f client.JobFilter, max int) ([]string, error) {
		var ids []string
		for j, err := range c.AllJobs(ctx, f) {
			if err != nil {
				return ids, err
			}
			if ids = append(ids, j.ID); len(ids) == max {
				break
			}
		}
		return ids, nil
	}
	for _, tc := range []struct {
		name string
		f    client.JobFilter
		max  int
		want []string
	}{
		{"one page", client.JobFilter{}, 0, made},
		{"pages of 2", client.JobFilter{Limit: 2}, 0, made},
		{"pages of 1", client.JobFilter{Limit: 1, Printer: p.ID}, 0, made},
		{"break after 3", client.JobFilter{Limit: 2}, 3, made[:3]},
		{"idempotency key", client.JobFilter{IdempotencyKey: "order-1", Limit: 1}, 0, made[3:4]},
		{"created after", client.JobFilter{CreatedAfter: s.GetJob(t, made[2]).CreatedAt, Limit: 1}, 0, made[:2]},
	} {
		got, err := collect(tc.f, tc.max)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	if _, err := collect(client.JobFilter{Limit: client.MaxPageLimit + 1}, 0); client.ErrorCode(err) != client.CodeBadRequest {
		t.Errorf("limit above the maximum: %v", err)
	}
	pg, err := c.ListJobs(ctx, client.JobFilter{Limit: 3})
	if err != nil || len(pg.Items) != 3 || pg.NextCursor == "" {
		t.Fatalf("first page: %+v, %v", pg, err)
	}
	pg, err = c.ListJobs(ctx, client.JobFilter{Limit: 3, After: pg.NextCursor})
	if err != nil || len(pg.Items) != 2 || pg.NextCursor != "" || pg.Items[1].ID != made[4] {
		t.Fatalf("last page: %+v, %v", pg, err)
	}
}
