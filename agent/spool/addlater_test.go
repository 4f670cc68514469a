package spool

import (
	"context"
	"testing"
)

type added struct {
	j     Job
	isNew bool
	err   error
}

// AddLater's insert shares the commit of the job's StartCopy; the job it returns at once is the one
// stored, and Has and Get see it only after the commit.
func TestAddLaterSharesFirstStep(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	if has, err := s.Has(ctx, "a"); err != nil || has {
		t.Fatalf("Has before: %v %v", has, err)
	}
	c0, _ := s.Commits()
	got := make(chan added, 1)
	mem := s.AddLater(NewJob{ID: "a", PrinterID: "p", Title: "t", Content: []byte("^XA^XZ"), Copies: 2}, t0,
		func(j Job, isNew bool, err error) { got <- added{j, isNew, err} })
	if _, err := s.Get(ctx, "a"); err == nil {
		t.Fatal("the lazy insert is readable before its commit")
	}
	started, err := s.StartCopy(ctx, "a", t0)
	if err != nil || started.State != Printing || !started.InFlight {
		t.Fatalf("StartCopy: %+v %v", started, err)
	}
	a := <-got
	if a.err != nil || !a.isNew {
		t.Fatalf("AddLater answered %+v", a)
	}
	if c, _ := s.Commits(); c != c0+1 {
		t.Fatalf("%d commits for the insert and the first step, want 1", c-c0)
	}
	stored, err := s.Get(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	// The job AddLater returned is the one stored, as it was before StartCopy.
	a.j.Seq = 0
	stored.Seq, stored.State, stored.InFlight, stored.Attempts = 0, Received, false, 0
	if mem.Seq != 0 || mem.ID != stored.ID || mem.PrinterID != stored.PrinterID || mem.Title != stored.Title ||
		string(mem.Content) != string(stored.Content) || mem.Size != stored.Size || mem.ZPL != stored.ZPL ||
		mem.Copies != stored.Copies || !mem.ExpiresAt.Equal(stored.ExpiresAt) || mem.State != stored.State ||
		mem.Deliveries != stored.Deliveries || !mem.ReceivedAt.Equal(stored.ReceivedAt) || !mem.UpdatedAt.Equal(stored.UpdatedAt) {
		t.Fatalf("AddLater's job %+v, stored %+v", mem, stored)
	}
	if has, err := s.Has(ctx, "a"); err != nil || !has {
		t.Fatalf("Has after: %v %v", has, err)
	}
}

// Sync commits a lazy insert at once; a lazy insert of a spooled job is a redelivery; Close commits
// what is pending.
func TestAddLaterSyncAndRedelivery(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	got := make(chan added, 2)
	answer := func(j Job, isNew bool, err error) { got <- added{j, isNew, err} }
	s.AddLater(NewJob{ID: "a", PrinterID: "p", Content: []byte("x")}, t0, answer)
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "a"); err != nil {
		t.Fatalf("after Sync: %v", err)
	}
	if a := <-got; a.err != nil || !a.isNew {
		t.Fatalf("first: %+v", a)
	}
	s.AddLater(NewJob{ID: "a", PrinterID: "p", Content: []byte("x")}, t0, answer)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if a := <-got; a.err != nil || a.isNew || a.j.Deliveries != 2 {
		t.Fatalf("redelivery: %+v", a)
	}
}
