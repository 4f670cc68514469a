package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"printdock/agent"
	"printdock/internal/testenv"
	"printdock/printer/sim"
	"printdock/server/jobs"
	"printdock/server/servertest"
)

// The crash tests run printdock-agent as a real process (this test binary re-executed as the command)
// and kill it with SIGKILL, never a clean stop.

const childEnv = "PRINTDOCK_AGENT_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(run(os.Args[1:], env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}))
	}
	os.Exit(m.Run())
}

// agentProc is a running printdock-agent process.
type agentProc struct {
	cmd  *exec.Cmd
	out  *testenv.SyncBuffer
	done chan struct{}
}

func startAgentProc(t *testing.T, args ...string) *agentProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], append(args, "run")...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out := &testenv.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &agentProc{cmd: cmd, out: out, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.kill(t)
		for _, l := range servertest.ScanText("agent process output", out.String()) {
			t.Errorf("secret leak: %s", l)
		}
		if t.Failed() {
			t.Logf("agent process output:\n%s", out.String())
		}
	})
	return p
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *agentProc) kill(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
		return
	default:
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("kill: %v", err)
	}
	<-p.done
}

// gateProxy forwards raw TCP connections to a printer. While closed, it holds a connection that carried
// a label (^XA) when the client finishes sending: the client (netraw) then waits for the printer to
// close, i.e. it is in the middle of its write, until the gate opens and the proxy hands the job on.
type gateProxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	closed bool
	open   chan struct{}
	held   chan struct{} // receives when a label connection is held
}

func newGateProxy(t *testing.T, target string) *gateProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &gateProxy{ln: ln, target: target, open: make(chan struct{}), held: make(chan struct{}, 16)}
	close(g.open)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go g.handle(c.(*net.TCPConn))
		}
	}()
	return g
}

func (g *gateProxy) URI() string { return "tcp://" + g.ln.Addr().String() }

// close makes the proxy hold the next label connections until release.
func (g *gateProxy) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed, g.open = true, make(chan struct{})
}

func (g *gateProxy) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		g.closed = false
		close(g.open)
	}
}

func (g *gateProxy) handle(c *net.TCPConn) {
	defer c.Close()
	d, err := net.Dial("tcp", g.target)
	if err != nil {
		return
	}
	up := d.(*net.TCPConn)
	defer up.Close()
	back := make(chan struct{})
	go func() { _, _ = io.Copy(c, up); close(back) }() // ~HS replies, and the printer's close
	var seen []byte
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if len(seen) < 8<<10 {
				seen = append(seen, buf[:n]...)
			}
			if _, werr := up.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			break // EOF (the job is complete) or the client died
		}
	}
	if bytes.Contains(seen, []byte("^XA")) {
		g.mu.Lock()
		open := g.open
		g.mu.Unlock()
		select {
		case <-open:
		default:
			g.held <- struct{}{}
			<-open
		}
	}
	_ = up.CloseWrite()
	<-back
}

func (g *gateProxy) waitHeld(t *testing.T) {
	t.Helper()
	select {
	case <-g.held:
	case <-time.After(20 * time.Second):
		t.Fatal("no label reached the proxy")
	}
}

type killRig struct {
	s     *servertest.Server
	sim   *sim.Server
	proxy *gateProxy
	dir   string
	args  []string
	pid   string // the server's printer ID
}

func newKillRig(t *testing.T) *killRig {
	t.Helper()
	r := &killRig{s: servertest.New(t, servertest.Options{}), dir: shortDir(t)}
	simS, err := sim.Listen(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { simS.Close() })
	r.sim = simS
	r.proxy = newGateProxy(t, simS.Addr())
	r.args = []string{"--state-dir", r.dir, "--keystore", "file", "--printer", r.proxy.URI()}
	k := r.s.CreatePrintClient(t, "kill dock")
	if res := runCLI(t, k.Secret+"\n", append(r.args, "login", "--server", r.s.URL)...); res.code != exitOK {
		t.Fatalf("login: %+v", res)
	}
	return r
}

// startAgent starts the agent process and waits until the server lists its printer online.
func (r *killRig) startAgent(t *testing.T) *agentProc {
	t.Helper()
	p := startAgentProc(t, r.args...)
	servertest.WaitFor(t, "the printer online", func() bool {
		for _, x := range r.s.Printers(t) {
			if x.URI == r.proxy.URI() && x.Online {
				r.pid = x.ID
				return true
			}
		}
		return false
	})
	return p
}

func (r *killRig) waitJob(t *testing.T, id, what string, cond func(jobs.Job) bool) jobs.Job {
	t.Helper()
	var j jobs.Job
	deadline := time.Now().Add(30 * time.Second)
	for {
		j = r.s.GetJob(t, id)
		if cond(j) {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for job %s %s: %+v", id, what, j)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitPrinted(t *testing.T, p *sim.Printer, n int) []sim.Job {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	js, err := p.WaitJobs(ctx, n)
	if err != nil {
		t.Fatalf("waiting for %d printed jobs (have %d): %v", n, len(p.Jobs()), err)
	}
	return js
}

func killLabel(s string) []byte {
	return []byte("^XA\n^PW400\n^LL200\n^CF0,40\n^FO20,20^FD" + s + "^FS\n^XZ\n")
}

// Killed after the job was spooled and acknowledged, before it was written (the printer was paused):
// after the restart the job prints exactly once and is reported done.
func TestAgentKilledAfterReceiptPrintsOnce(t *testing.T) {
	r := newKillRig(t)
	proc := r.startAgent(t)
	p := r.sim.Printer()
	p.SetPaused(true)
	content := killLabel("after receipt")
	j := r.s.SubmitJob(t, r.pid, content, servertest.JobOptions{Title: "kill", Copies: 2})
	r.waitJob(t, j.ID, "waiting for the paused printer", func(j jobs.Job) bool { return j.Reason == "printer paused" })
	proc.kill(t)
	p.SetPaused(false)
	if n := len(p.Jobs()) + p.Pending(); n != 0 {
		t.Fatalf("%d jobs at the printer before the restart", n)
	}
	r.startAgent(t)
	done := r.waitJob(t, j.ID, "done", func(j jobs.Job) bool { return j.State == jobs.Done })
	if done.Attempts != 1 {
		t.Fatalf("the server delivered the job %d times", done.Attempts)
	}
	waitPrinted(t, p, 2)
	// A later job proves nothing more is coming.
	k := r.s.SubmitJob(t, r.pid, killLabel("later"), servertest.JobOptions{})
	r.waitJob(t, k.ID, "done", func(j jobs.Job) bool { return j.State == jobs.Done })
	got := waitPrinted(t, p, 3)
	if len(got) != 3 || !bytes.Equal(got[0].Data, content) || !bytes.Equal(got[1].Data, content) {
		t.Fatalf("printer jobs: %d", len(got))
	}
}

// Killed in the middle of writing the job (the bytes went out, the printer had not confirmed them): the
// label prints exactly once, and after the restart the agent does not print it again but reports it
// failed "interrupted: may have printed; check the printer" (the default policy; docs/spool.md).
func TestAgentKilledMidJobPrintsOnce(t *testing.T) {
	r := newKillRig(t)
	proc := r.startAgent(t)
	p := r.sim.Printer()
	p.SetSpeed(2) // slow mode: the label takes half a second to come out
	content := killLabel("mid job")
	r.proxy.close()
	j := r.s.SubmitJob(t, r.pid, content, servertest.JobOptions{Title: "kill"})
	r.proxy.waitHeld(t)
	proc.kill(t) // the agent is inside its write: the spool says printing, in flight
	r.waitJob(t, j.ID, "printing", func(j jobs.Job) bool { return j.State == jobs.Printing })
	r.proxy.release() // the printer gets the job after all
	waitPrinted(t, p, 1)
	r.startAgent(t)
	f := r.waitJob(t, j.ID, "failed", func(j jobs.Job) bool { return j.State == jobs.Failed })
	if f.Reason != agent.ReasonInterrupted {
		t.Fatalf("reason %q", f.Reason)
	}
	k := r.s.SubmitJob(t, r.pid, killLabel("later"), servertest.JobOptions{})
	r.waitJob(t, k.ID, "done", func(j jobs.Job) bool { return j.State == jobs.Done })
	got := waitPrinted(t, p, 2)
	if len(got) != 2 || !bytes.Equal(got[0].Data, content) || strings.Contains(string(got[1].Data), "mid job") {
		t.Fatalf("printer jobs: %+v", got)
	}
}
