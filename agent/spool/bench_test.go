package spool

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// BenchmarkJobSteps measures the synced steps of one job (Add, StartCopy, CopyWritten) the old way — each
// statement compiled and committed (synced) on its own — and through the spool: prepared statements and
// group commit, one job at a time ("serial"), a printer's queue where each job's last CopyWritten shares
// the next job's StartCopy commit ("queue"), and several printers at once ("printers-8"). It reports
// commits/job (syncs of the WAL) and the process's CPU time per job. go test -run '^$' -bench JobSteps ./agent/spool/
func BenchmarkJobSteps(b *testing.B) {
	content := []byte("^XA^FO50,50^A0N,40,40^FDbenchmark label^FS^BY2^FO50,120^BCN,100,Y,N,N^FD1234567890^FS^XZ")
	now := time.Now().UTC()
	newJob := func(i int) NewJob {
		return NewJob{ID: fmt.Sprintf("job-%d", i), PrinterID: "sim://p", Title: "t", Content: content, Copies: 1}
	}
	open := func(b *testing.B) *Spool {
		s, err := Open(context.Background(), b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}
	var cpu0 time.Duration
	start := func(b *testing.B) { b.ResetTimer(); cpu0 = processCPU() }
	cpuMetric := func(b *testing.B) {
		b.ReportMetric(float64(processCPU()-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/job")
	}
	report := func(b *testing.B, s *Spool, jobs int) {
		cpuMetric(b)
		c, _ := s.Commits()
		b.ReportMetric(float64(c)/float64(jobs), "commits/job")
	}
	b.Run("old", func(b *testing.B) {
		s := open(b)
		start(b)
		ctx := context.Background()
		for i := range b.N {
			n := newJob(i)
			// As before group commit: each step a statement of its own (autocommit: one sync each),
			// compiled each time.
			steps := []struct {
				q    string
				args []any
			}{
				{`INSERT INTO jobs (id, printer_id, title, content, copies, expires_at, state, received_at, updated_at)
					VALUES (?, ?, ?, ?, ?, ?, 'received', ?, ?) ON CONFLICT (id) DO NOTHING RETURNING ` + cols + `, content`,
					[]any{n.ID, n.PrinterID, n.Title, n.Content, 1, 0, us(now), us(now)}},
				{updateSQL(`state = 'printing', in_flight = 1, waiting = 0, reason = '', attempts = attempts + 1, updated_at = ?`),
					[]any{us(now), n.ID}},
				{updateSQL(`copies_done = copies_done + 1, in_flight = 0,
					state = CASE WHEN copies_done + 1 >= copies THEN 'done' ELSE state END,
					finished_at = CASE WHEN copies_done + 1 >= copies THEN ? ELSE 0 END, updated_at = ?`),
					[]any{us(now), us(now), n.ID}},
			}
			for k, st := range steps {
				if _, err := scan(s.db.QueryRowContext(ctx, st.q, st.args...), k == 0); err != nil {
					b.Fatal(err)
				}
			}
		}
		cpuMetric(b)
		b.ReportMetric(3, "commits/job")
	})
	b.Run("serial", func(b *testing.B) {
		s := open(b)
		start(b)
		for i := range b.N {
			runJob(b, s, newJob(i), now)
		}
		report(b, s, b.N)
	})
	b.Run("queue", func(b *testing.B) {
		s := open(b)
		start(b)
		ctx := context.Background()
		var wg sync.WaitGroup
		for i := range b.N {
			n := newJob(i)
			if _, _, err := s.Add(ctx, n, now); err != nil {
				b.Fatal(err)
			}
			if _, err := s.StartCopy(ctx, n.ID, now); err != nil { // commits the previous job's CopyWritten too
				b.Fatal(err)
			}
			wg.Add(1)
			s.CopyWrittenLater(n.ID, now, func(_ Job, err error) {
				if err != nil {
					b.Error(err)
				}
				wg.Done()
			})
		}
		wg.Wait()
		report(b, s, b.N)
	})
	b.Run("printers-8", func(b *testing.B) {
		s := open(b)
		start(b)
		var wg sync.WaitGroup
		for p := range 8 {
			wg.Go(func() {
				for i := p; i < b.N; i += 8 {
					runJob(b, s, newJob(i), now)
				}
			})
		}
		wg.Wait()
		report(b, s, b.N)
	})
}

func runJob(b *testing.B, s *Spool, n NewJob, now time.Time) {
	ctx := context.Background()
	if _, _, err := s.Add(ctx, n, now); err != nil {
		b.Error(err)
		return
	}
	if _, err := s.StartCopy(ctx, n.ID, now); err != nil {
		b.Error(err)
		return
	}
	if j, err := s.CopyWritten(ctx, n.ID, now); err != nil || j.State != Done {
		b.Error(j.State, err)
	}
}
