package agent

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"printdock/agent/localapi"
	"printdock/agent/spool"
	"printdock/internal/testenv"
	"printdock/printer/sim"
	"printdock/protocol"
	"printdock/server/jobs"
	"printdock/server/servertest"
)

// Jobs queued while the agent is away survive a server restart and print after it; a status the agent
// could not send while the server was down is sent after the reconnect.
func TestJobServerRestart(t *testing.T) {
	r := newJobRig(t, nil)
	dir := r.a.dir
	r.a.Stop()
	r.waitPrinter(t, false)
	var ids []string
	for i := range 3 {
		ids = append(ids, r.submit(t, label(fmt.Sprint("queued ", i)), servertest.JobOptions{}).ID)
	}
	r.ts.restart()
	a2 := r.newAgent(t, dir, nil)
	for _, id := range ids {
		r.waitJob(t, id, "done", stateIsJob(jobs.Done))
	}
	got := waitSimJobs(t, r.sim.Printer(), 3)
	for i := range 3 {
		if !bytes.Equal(got[i].Data, label(fmt.Sprint("queued ", i))) {
			t.Fatalf("job %d out of order or changed: %q", i, got[i].Data)
		}
	}

	// A job waits for the printer; the server goes down; the printer comes back and prints the job
	// while the server is away; the agent reports done after the restart.
	p := r.sim.Printer()
	p.SetPaused(true)
	j := r.submit(t, label("while down"), servertest.JobOptions{})
	r.waitJob(t, j.ID, "waiting", func(j jobs.Job) bool { return j.Reason == "printer paused" })
	r.ts.stop()
	waitStatus(t, a2.Agent, "disconnected", stateIs(localapi.StateConnecting))
	p.SetPaused(false)
	waitSimJobs(t, p, 4)
	testenv.WaitFor(t, "done in the spool", func() bool {
		sj, err := a2.spool.Get(context.Background(), j.ID)
		return err == nil && sj.State == spool.Done
	})
	r.ts.startAgain()
	r.waitJob(t, j.ID, "done after the restart", stateIsJob(jobs.Done))
	if n := len(p.Jobs()); n != 4 {
		t.Fatalf("printer has %d jobs, want 4", n)
	}
}

// scriptedServer is a websocket server that sends the jobs a test gives it and records the agent's job
// statuses per connection; it answers the agent's pings only when told to.
type scriptedServer struct {
	*httptest.Server
	answerPings atomic.Bool
	jobs        chan protocol.Message // jobs and cancels, sent on the live connection after the next message
	mu          sync.Mutex
	hello       protocol.Hello       // the last hello
	all         []protocol.JobStatus // every job status, all connections
	conns       []*websocket.Conn
	statuses    [][]string // per connection: "job_id state"
	pingedAfter []int      // per connection: statuses seen before the last answered ping
}

func newScriptedServer(t *testing.T) *scriptedServer {
	s := &scriptedServer{jobs: make(chan protocol.Message, 8)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := r.Context()
		_, hb, err := c.Read(ctx)
		if err != nil {
			return
		}
		s.mu.Lock()
		if h, err := protocol.Decode(hb); err == nil {
			s.hello, _ = h.(protocol.Hello)
		}
		idx := len(s.conns)
		s.conns = append(s.conns, c)
		s.statuses = append(s.statuses, nil)
		s.pingedAfter = append(s.pingedAfter, -1)
		s.mu.Unlock()
		send := func(m protocol.Message) error {
			b, _ := protocol.Encode(m)
			return c.Write(ctx, websocket.MessageText, b)
		}
		if send(protocol.Welcome{ProtocolVersion: protocol.Version, ClientID: "scripted", KeyKind: "print_client", HeartbeatSeconds: 60}) != nil {
			return
		}
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			m, err := protocol.Decode(b)
			if err != nil {
				continue
			}
			for more := true; more; { // queued jobs go out on the live connection
				select {
				case j := <-s.jobs:
					_ = send(j)
				default:
					more = false
				}
			}
			switch m := m.(type) {
			case protocol.JobStatus:
				s.mu.Lock()
				s.statuses[idx] = append(s.statuses[idx], m.JobID+" "+m.State)
				s.all = append(s.all, m)
				s.mu.Unlock()
			case protocol.Ping:
				if s.answerPings.Load() {
					s.mu.Lock()
					s.pingedAfter[idx] = len(s.statuses[idx])
					s.mu.Unlock()
					_ = send(protocol.Pong{Nonce: m.Nonce})
				}
			}
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *scriptedServer) seen(conn int, status string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return conn < len(s.statuses) && slices.Contains(s.statuses[conn], status)
}

// status returns the last status of job id with state, if the agent sent one.
func (s *scriptedServer) status(id, state string) (protocol.JobStatus, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.all) - 1; i >= 0; i-- {
		if s.all[i].JobID == id && s.all[i].State == state {
			return s.all[i], true
		}
	}
	return protocol.JobStatus{}, false
}

func (s *scriptedServer) numConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// A status written on a connection that then died is sent again on the next connection, unless a pong
// proved the server had processed it.
func TestJobStatusResentUnlessConfirmed(t *testing.T) {
	s := newScriptedServer(t)
	a := newTestAgent(t, func(c *Config) { c.Heartbeat = 100 * time.Millisecond })
	a.start(t)
	if _, err := a.Login(context.Background(), s.URL, mustSecret(t, protocol.KindPrintClient), ""); err != nil {
		t.Fatal(err)
	}
	pid := a.cfg.Printers[0]
	connWith := func(status string, after int) int {
		for i := after + 1; i < s.numConns(); i++ {
			if s.seen(i, status) {
				return i
			}
		}
		return -1
	}
	// Job 1 is printed and reported done, but the server answers no ping: the agent declares the link
	// dead, reconnects, and reports done again.
	s.jobs <- protocol.Job{JobID: "j1", PrinterID: pid, Content: label("1"), Copies: 1}
	connA := -1
	testenv.WaitFor(t, "j1 done", func() bool { connA = connWith("j1 done", -1); return connA >= 0 })
	testenv.WaitFor(t, "j1 done sent again on a later connection", func() bool { return connWith("j1 done", connA) >= 0 })
	// Now pings are answered: job 2 done, then a pong proves the server processed it; the connection
	// drops; on the next one neither status is sent again.
	s.answerPings.Store(true)
	s.jobs <- protocol.Job{JobID: "j2", PrinterID: pid, Content: label("2"), Copies: 1}
	connB := -1
	testenv.WaitFor(t, "j2 done and a pong after it", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		for i, st := range s.statuses {
			if k := slices.Index(st, "j2 done"); k >= 0 && s.pingedAfter[i] > k {
				connB = i
				return true
			}
		}
		return false
	})
	s.mu.Lock()
	s.conns[connB].CloseNow()
	s.mu.Unlock()
	s.jobs <- protocol.Job{JobID: "j3", PrinterID: pid, Content: label("3"), Copies: 1}
	connC := -1
	testenv.WaitFor(t, "j3 done on a later connection", func() bool { connC = connWith("j3 done", connB); return connC >= 0 })
	if s.seen(connC, "j2 done") || s.seen(connC, "j1 done") {
		s.mu.Lock()
		defer s.mu.Unlock()
		t.Fatalf("confirmed statuses sent again: %v", s.statuses[connC])
	}
	p, _ := sim.Lookup(strings.TrimPrefix(pid, "sim://"))
	if p == nil || len(p.Jobs()) != 3 {
		t.Fatal("the printer did not get exactly 3 jobs")
	}
}
