package spool

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"printdock/internal/testenv"
)

type answer struct {
	j   Job
	err error
}

func addJob(t *testing.T, s *Spool, id string) {
	t.Helper()
	if _, _, err := s.Add(context.Background(), NewJob{ID: id, PrinterID: "p", Content: []byte("^XA^XZ")}, t0); err != nil {
		t.Fatal(err)
	}
}

func addStarted(t *testing.T, s *Spool, ids ...string) {
	t.Helper()
	for _, id := range ids {
		addJob(t, s, id)
		if _, err := s.StartCopy(context.Background(), id, t0); err != nil {
			t.Fatal(err)
		}
	}
}

// A lazy CopyWritten is committed with the next change, in the same transaction, and answered after it.
func TestLazyChangeSharesTheNextCommit(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	addStarted(t, s, "a")
	addJob(t, s, "b")
	c0, _ := s.Commits()
	got := make(chan answer, 1)
	s.CopyWrittenLater("a", t0, func(j Job, err error) { got <- answer{j, err} })
	if _, err := s.StartCopy(ctx, "b", t0); err != nil {
		t.Fatal(err)
	}
	a := <-got
	if a.err != nil || a.j.State != Done || a.j.CopiesDone != 1 || a.j.InFlight {
		t.Fatalf("lazy copy written: %+v %v", a.j, a.err)
	}
	if c, _ := s.Commits(); c != c0+1 {
		t.Fatalf("%d commits for the lazy change and the next one, want 1", c-c0)
	}
}

// A lazy change with nothing after it is committed on its own (within lazyMax); on Close, at once.
func TestLazyChangeAlone(t *testing.T) {
	s, dir := openTemp(t)
	addStarted(t, s, "a", "b")
	got := make(chan answer, 2)
	s.CopyWrittenLater("a", t0, func(j Job, err error) { got <- answer{j, err} })
	testenv.WaitFor(t, "the lazy change committed", func() bool { return len(got) == 1 })
	if a := <-got; a.err != nil || a.j.State != Done {
		t.Fatalf("alone: %+v %v", a.j, a.err)
	}
	s.CopyWrittenLater("b", t0, func(j Job, err error) { got <- answer{j, err} })
	s.Close()
	if a := <-got; a.err != nil || a.j.State != Done {
		t.Fatalf("at close: %+v %v", a.j, a.err)
	}
	s.CopyWrittenLater("b", t0, func(j Job, err error) { got <- answer{j, err} })
	if a := <-got; !errors.Is(a.err, ErrClosed) {
		t.Fatalf("after close: %v, want ErrClosed", a.err)
	}
	s2, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if j, err := s2.Get(context.Background(), "b"); err != nil || j.State != Done {
		t.Fatalf("after reopen: %+v %v", j, err)
	}
}

// A change that fails rolls its batch back; the others are applied on their own and succeed.
func TestFailedChangeDoesNotFailItsBatch(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	addStarted(t, s, "a")
	addJob(t, s, "b")
	failed := make(chan error, 1)
	s.later(func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO no_such_table VALUES (1)`)
		return err
	}, false, func(err error) { failed <- err })
	if j, err := s.StartCopy(ctx, "b", t0); err != nil || !j.InFlight { // same batch as the failing change
		t.Fatalf("start copy: %+v %v", j, err)
	}
	if err := <-failed; err == nil {
		t.Fatal("the failing change reported no error")
	}
	if j, err := s.Get(ctx, "b"); err != nil || j.State != Printing {
		t.Fatalf("after the batch: %+v %v", j, err)
	}
}

// A change whose context ends before it is committed is dropped; a finished job answers ErrFinished.
func TestWriteAnswers(t *testing.T) {
	s, _ := openTemp(t)
	addStarted(t, s, "a")
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Finish(cctx, "a", Failed, "x", t0); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	ctx := context.Background()
	if _, err := s.CopyWritten(ctx, "a", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Finish(ctx, "a", Failed, "x", t0); !errors.Is(err, ErrFinished) {
		t.Fatalf("finished job: %v", err)
	}
	if _, err := s.Finish(ctx, "nope", Failed, "x", t0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown job: %v", err)
	}
}
