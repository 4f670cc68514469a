//go:build unix

package jobs

import (
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"printdock/protocol"
	"printdock/server/keys"
	"printdock/server/store"
	"printdock/server/store/sqlite"
)

// BenchmarkJobPath runs a job's life on the server's store path (TestStatementsPerJob's steps: submit,
// handed to the agent's session, then a current agent's statuses, agentAcks: acks=rp,d is an AckAll of
// received and printing then one of done, acks=rpd one AckAll of the three) from `agents` goroutines at
// once, each the submitter and the session of its own agent, so that the SQLite writer groups their
// transactions as under load. deliver=claim is the path of a job submitted on the server its agent is
// connected to (claimed at submission, claim.go); deliver=mark, its baseline, the path of a job the
// session marks sent itself (Pushed, MarkPushedAll), as before claims and still for a job submitted on
// another replica. It reports the process's CPU milliseconds per job (user + system, every goroutine),
// and the store's statements and transactions per job.
func BenchmarkJobPath(b *testing.B) {
	for _, agents := range []int{1, 16} {
		for _, acks := range []struct{ name, pattern string }{{"rp,d", ackTwo}, {"rpd", ackOne}} {
			for _, claim := range []bool{true, false} {
				name := fmt.Sprintf("agents=%d/acks=%s/deliver=%s", agents, acks.name, map[bool]string{true: "claim", false: "mark"}[claim])
				b.Run(name, func(b *testing.B) { benchJobPath(b, agents, acks.pattern, claim) })
			}
		}
	}
}

func benchJobPath(b *testing.B, agents int, pattern string, claim bool) {
	ctx := b.Context()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "printdock.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.CreatePortal(ctx, store.Portal{ID: "p1", Name: "p1", CreatedAt: time.Now()}); err != nil {
		b.Fatal(err)
	}
	svc := New(Options{Store: st})
	alice := actor("p1", "alice@example.com", keys.RoleUser, keys.KindUser)
	type agent struct {
		client, printer string
		sub             *Subscription
	}
	as := make([]agent, agents)
	for i := range as {
		inst := fmt.Sprintf("inst%d", i)
		id, seq, err := svc.ClientConnected(ctx, "p1", "key"+inst, protocol.Hello{ProtocolVersion: 1, AgentVersion: "1",
			Hostname: inst, OS: "linux", InstallationID: inst})
		if err != nil {
			b.Fatal(err)
		}
		if err := svc.UpdatePrinters(ctx, id, []protocol.Printer{{ID: "usb://a", Name: "a", Status: "ready"}}); err != nil {
			b.Fatal(err)
		}
		if !claim {
			seq = 0 // a subscription without a session claims nothing
		}
		sub, stop := svc.SubscribeFunc(id, seq, func() {})
		defer stop()
		svc.Pushed(sub) // the first answer is full
		as[i] = agent{client: id, printer: PrinterID("p1", id, "usb://a"), sub: sub}
	}
	life := func(a agent) error {
		_, _, err := svc.Submit(ctx, alice, a.printer, SubmitRequest{Title: "bench", Content: []byte("^XA^FDhello^FS^XZ")})
		if err != nil {
			return err
		}
		js := svc.Claimed(a.sub)
		if !claim {
			var full bool
			if js, full = svc.Pushed(a.sub); full || len(js) != 1 {
				return fmt.Errorf("pushed %d jobs, full %v", len(js), full)
			}
			if _, err := svc.MarkPushedAll(ctx, []string{js[0].JobID}); err != nil {
				return err
			}
		}
		if len(js) != 1 {
			return fmt.Errorf("claimed %d jobs, want 1", len(js))
		}
		for _, sts := range agentAcks(js[0].JobID, pattern) {
			if _, err := svc.AckAll(ctx, a.client, sts); err != nil {
				return err
			}
		}
		return nil
	}
	before, cpu0 := st.Stats(), cpuTime()
	b.ResetTimer()
	var wg sync.WaitGroup
	errs := make(chan error, agents)
	per := (b.N + agents - 1) / agents
	for _, a := range as {
		wg.Go(func() {
			for range per {
				if err := life(a); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	n := float64(per * agents)
	after := st.Stats()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Millisecond)/n, "cpu-ms/job")
	b.ReportMetric(float64(after.Writes+after.Reads-before.Writes-before.Reads)/n, "stmts/job")
	b.ReportMetric(float64(after.Transactions-before.Transactions)/n, "tx/job")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
