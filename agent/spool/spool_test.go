package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func openTemp(t *testing.T) (*Spool, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestAddDedupesAndSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	s, dir := openTemp(t)
	n := NewJob{ID: "job_1", PrinterID: "sim://a", Title: "t", Content: []byte("^XA^FDx^FS^XZ"), Copies: 2, ExpiresAt: t0.Add(time.Hour)}
	j, isNew, err := s.Add(ctx, n, t0)
	if err != nil || !isNew || j.State != Received || j.Copies != 2 || !j.ZPL || j.Deliveries != 1 || string(j.Content) != string(n.Content) {
		t.Fatalf("add: %+v new=%v err=%v", j, isNew, err)
	}
	j, isNew, err = s.Add(ctx, n, t0.Add(time.Second))
	if err != nil || isNew || j.Deliveries != 2 || !j.ReceivedAt.Equal(t0) {
		t.Fatalf("redelivery: %+v new=%v err=%v", j, isNew, err)
	}
	if _, err := s.StartCopy(ctx, "job_1", t0); err != nil {
		t.Fatal(err)
	}
	// Reopen: the step is on disk.
	s.Close()
	s2, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	open, err := s2.OpenJobs(ctx)
	if err != nil || len(open) != 1 || !open[0].InFlight || open[0].State != Printing || open[0].Attempts != 1 || open[0].Content == nil {
		t.Fatalf("after reopen: %+v %v", open, err)
	}
	if filepath.Base(s2.Path()) != FileName {
		t.Fatal(s2.Path())
	}
}

func TestLifeCycle(t *testing.T) {
	ctx := context.Background()
	type step struct {
		name string
		do   func(s *Spool) (Job, error)
		want func(j Job) bool
		err  error
	}
	id := "j"
	steps := []step{
		{"wait", func(s *Spool) (Job, error) { return s.Wait(ctx, id, "printer out of media", t0) },
			func(j Job) bool {
				return j.Waiting && j.State == Received && j.Key() == "received|1|printer out of media"
			}, nil},
		{"start copy 1", func(s *Spool) (Job, error) { return s.StartCopy(ctx, id, t0) },
			func(j Job) bool { return j.State == Printing && j.InFlight && !j.Waiting && j.Reason == "" }, nil},
		{"not written", func(s *Spool) (Job, error) { return s.NotWritten(ctx, id, t0) },
			func(j Job) bool { return !j.InFlight && j.CopiesDone == 0 && j.State == Printing }, nil},
		{"start again", func(s *Spool) (Job, error) { return s.StartCopy(ctx, id, t0) },
			func(j Job) bool { return j.InFlight && j.Attempts == 2 }, nil},
		{"copy 1 written", func(s *Spool) (Job, error) { return s.CopyWritten(ctx, id, t0) },
			func(j Job) bool {
				return !j.InFlight && j.CopiesDone == 1 && j.State == Printing && j.FinishedAt.IsZero()
			}, nil},
		{"start copy 2", func(s *Spool) (Job, error) { return s.StartCopy(ctx, id, t0) },
			func(j Job) bool { return j.InFlight && j.CopiesDone == 1 }, nil},
		{"copy 2 written: done", func(s *Spool) (Job, error) { return s.CopyWritten(ctx, id, t0.Add(time.Minute)) },
			func(j Job) bool {
				return j.State == Done && j.CopiesDone == 2 && !j.Open() && j.FinishedAt.Equal(t0.Add(time.Minute))
			}, nil},
		{"finished: no more changes", func(s *Spool) (Job, error) { return s.Wait(ctx, id, "x", t0) }, nil, ErrFinished},
		{"unknown job", func(s *Spool) (Job, error) { return s.StartCopy(ctx, "nope", t0) }, nil, ErrNotFound},
	}
	s, _ := openTemp(t)
	if _, _, err := s.Add(ctx, NewJob{ID: id, PrinterID: "p", Content: []byte("x"), Copies: 2}, t0); err != nil {
		t.Fatal(err)
	}
	for _, st := range steps {
		j, err := st.do(s)
		if st.err != nil {
			if !errors.Is(err, st.err) {
				t.Fatalf("%s: err %v, want %v", st.name, err, st.err)
			}
			continue
		}
		if err != nil || !st.want(j) {
			t.Fatalf("%s: %+v %v", st.name, j, err)
		}
	}
}

func TestFinishAndExpiry(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	j, _, _ := s.Add(ctx, NewJob{ID: "e", PrinterID: "p", Content: []byte("EPL"), ExpiresAt: t0}, t0.Add(-time.Hour))
	if j.ZPL || j.Copies != 1 || !j.Expired(t0) || j.Expired(t0.Add(-time.Nanosecond)) {
		t.Fatalf("%+v", j)
	}
	j, err := s.Finish(ctx, "e", Failed, "expired", t0)
	if err != nil || j.State != Failed || j.Reason != "expired" || j.Key() != "failed|0|expired" {
		t.Fatalf("%+v %v", j, err)
	}
	if _, err := s.Finish(ctx, "e", Received, "", t0); err == nil {
		t.Fatal("finish to received accepted")
	}
	// A cancelled job is finished: it can no longer start a copy, and it is purged like the others.
	s.Add(ctx, NewJob{ID: "c", PrinterID: "p", Content: []byte("x")}, t0)
	if j, err := s.Finish(ctx, "c", Cancelled, "cancelled by the server", t0); err != nil || j.Open() || j.FinishedAt.IsZero() {
		t.Fatalf("cancel: %+v %v", j, err)
	}
	if _, err := s.StartCopy(ctx, "c", t0); !errors.Is(err, ErrFinished) {
		t.Fatalf("start copy of a cancelled job: %v", err)
	}
	if open, err := s.OpenJobs(ctx); err != nil || len(open) != 0 {
		t.Fatalf("open jobs: %d %v", len(open), err)
	}
}

func TestReportedAndUnreported(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	for _, id := range []string{"a", "b", "c"} {
		if _, _, err := s.Add(ctx, NewJob{ID: id, PrinterID: "p", Content: []byte("x")}, t0); err != nil {
			t.Fatal(err)
		}
	}
	a, _ := s.Get(ctx, "a")
	b, _ := s.Get(ctx, "b")
	if err := s.MarkReported(ctx, []Report{{ID: "a", Key: a.Key(), At: t0}, {ID: "b", Key: b.Key(), At: t0.Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	ids := func(since time.Time) []string {
		js, err := s.Unreported(ctx, since)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, j := range js {
			out = append(out, j.ID)
		}
		return out
	}
	if got := ids(time.Time{}); len(got) != 1 || got[0] != "c" {
		t.Fatalf("unreported: %v", got)
	}
	// b was sent late in a connection that ended: it may be lost, send it again.
	if got := ids(t0.Add(30 * time.Minute)); len(got) != 2 || got[0] != "b" || got[1] != "c" {
		t.Fatalf("unreported since: %v", got)
	}
	// A change makes a reported job unreported again; an older report never overwrites a newer one.
	if _, err := s.StartCopy(ctx, "a", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkReported(ctx, []Report{{ID: "b", Key: "stale", At: t0}}); err != nil {
		t.Fatal(err)
	}
	if got := ids(time.Time{}); len(got) != 2 || got[0] != "a" || got[1] != "c" {
		t.Fatalf("unreported after changes: %v", got)
	}
	// The spool still syncs every change after a MarkReported (the pragma is restored).
	var sync int
	if err := s.db.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync); err != nil || sync != 2 {
		t.Fatalf("synchronous = %d (%v), want 2 (FULL)", sync, err)
	}
	var mode string
	if err := s.db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q (%v)", mode, err)
	}
}

func TestPurgeAndList(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	for i, id := range []string{"old1", "old2", "new1", "new2", "open"} {
		at := t0.Add(time.Duration(i) * time.Hour)
		if _, _, err := s.Add(ctx, NewJob{ID: id, PrinterID: "p", Content: []byte("^XA^XZ")}, at); err != nil {
			t.Fatal(err)
		}
		if id != "open" {
			if _, err := s.Finish(ctx, id, Done, "", at); err != nil {
				t.Fatal(err)
			}
		}
	}
	n, err := s.Purge(ctx, t0.Add(90*time.Minute), 0) // old1, old2 finished before
	if err != nil || n != 2 {
		t.Fatalf("purge by age: %d %v", n, err)
	}
	n, err = s.Purge(ctx, t0, 1) // keep the newest finished job only
	if err != nil || n != 1 {
		t.Fatalf("purge by count: %d %v", n, err)
	}
	js, err := s.List(ctx, 10)
	if err != nil || len(js) != 2 || js[0].ID != "open" || js[1].ID != "new2" || js[0].Content != nil || js[0].Size != 6 {
		t.Fatalf("list: %+v %v", js, err)
	}
	open, fin, err := s.Counts(ctx)
	if err != nil || open != 1 || fin != 1 {
		t.Fatalf("counts %d %d %v", open, fin, err)
	}
}

// A spool file the agent cannot use is refused at open, with the reason, instead of a spool whose every
// later step fails.
func TestOpenRefusesUnusableFile(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
		want  string
	}{
		{"written by a newer agent", func(t *testing.T, path string) {
			s, err := OpenFile(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.db.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, schemaVersion+1)); err != nil {
				t.Fatal(err)
			}
			s.Close()
		}, "newer agent"},
		{"not a database", func(t *testing.T, path string) {
			if err := os.WriteFile(path, bytes.Repeat([]byte("not a spool "), 512), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "spool: open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "spool.db")
			tt.setup(t, path)
			s, err := OpenFile(ctx, path)
			if err == nil {
				s.Close()
				t.Fatal("OpenFile succeeded on an unusable spool file")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("OpenFile: %v, want it to say %q", err, tt.want)
			}
		})
	}
}
