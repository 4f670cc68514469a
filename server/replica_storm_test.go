package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"printdock/internal/testenv"
	"printdock/protocol"
	"printdock/server"
	"printdock/server/jobs"
	"printdock/server/servertest"
)

// TestReplicaPostgresDeliveryStorm: three replicas on one PostgreSQL, two agents on each, and jobs
// submitted concurrently on every replica for agents on the others, so deliveries (mark sent) and
// acknowledgements (received, printing, done) of several replicas run at once. Before
// store.ErrSerialization, serialization failures (SQLSTATE 40001) surfaced in bursts as "deliver jobs" and
// "record job status" errors after the store's retries, and as 25P02 when a batch went on in an aborted
// transaction. Now every job prints and no replica logs a failed delivery or status.
func TestReplicaPostgresDeliveryStorm(t *testing.T) {
	logs := make([]*testenv.SyncBuffer, 3)
	withLog := func(i int) func(*server.Config) {
		logs[i] = &testenv.SyncBuffer{}
		return func(cfg *server.Config) {
			cfg.Log = slog.New(slog.NewTextHandler(logs[i], &slog.HandlerOptions{Level: slog.LevelInfo}))
		}
	}
	c := newCluster(t, withLog(0))
	reps := []*servertest.Server{c.A, c.replica(t, withLog(1)), c.replica(t, withLog(2))}
	defer func() { // also when a wait below fails
		for i, l := range logs {
			for _, line := range strings.Split(l.String(), "\n") {
				if strings.Contains(line, "level=ERROR") || strings.Contains(line, "40001") || strings.Contains(line, "25P02") {
					t.Errorf("replica %d: %s", i, line)
				}
			}
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	type target struct {
		rep       int
		printerID string
	}
	var targets []target
	var printed atomic.Int64
	seen := sync.Map{}
	var agents sync.WaitGroup
	for i := range 6 {
		r := reps[i%3]
		k := c.A.CreatePrintClient(t, fmt.Sprintf("storm %d", i))
		zd := servertest.SimPrinter(fmt.Sprintf("zd%d", i))
		a := r.Connect(t, k.Secret, servertest.DialOptions{Printers: []protocol.Printer{zd}})
		p := c.A.WaitPrinter(t, a, zd.ID, true)
		targets = append(targets, target{rep: i % 3, printerID: p.ID})
		agents.Add(1)
		go func() {
			defer agents.Done()
			_ = a.RunJobs(ctx, servertest.AckAll, func(j protocol.Job) {
				if _, dup := seen.LoadOrStore(j.JobID, true); !dup {
					printed.Add(1)
				}
			})
		}()
	}

	const perSubmitter, submitters = 40, 6
	var submitted atomic.Int64
	var ids sync.Map
	var wg sync.WaitGroup
	errs := make(chan error, submitters)
	for s := range submitters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range perSubmitter {
				tg := targets[(s+n)%len(targets)]
				via := reps[(tg.rep+1+n%2)%3] // never the agent's own replica
				j, code, err := via.TrySubmitJob(ctx, tg.printerID, []byte("^XA^FDstorm^FS^XZ"), servertest.JobOptions{})
				if err != nil || code != http.StatusCreated {
					errs <- fmt.Errorf("submit via replica: HTTP %d, %v", code, err)
					return
				}
				submitted.Add(1)
				ids.Store(j.ID, true)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	want := submitted.Load()
	servertest.WaitFor(t, fmt.Sprintf("%d jobs delivered", want), func() bool { return printed.Load() >= want })
	ids.Range(func(id, _ any) bool {
		servertest.WaitFor(t, fmt.Sprintf("job %s done", id), func() bool { return c.A.GetJob(t, id.(string)).State == jobs.Done })
		return true
	})
	cancel()
	agents.Wait()
}
