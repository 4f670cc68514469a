package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"time"
)

// netns is a network namespace joined to the host by a veth pair: host side hostIP, namespace side nsIP.
type netns struct {
	name, hostIf, nsIf, hostIP, nsIP string
	how                              string // how the link was cut
}

func sh(argv ...string) error {
	if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, out)
	}
	return nil
}

func newNetns() (*netns, error) {
	id := fmt.Sprintf("%d%03d", os.Getpid()%1000, rand.IntN(1000))
	x := 1 + rand.IntN(250)
	n := &netns{name: "pdchaos" + id, hostIf: "pdh" + id, nsIf: "pdn" + id,
		hostIP: fmt.Sprintf("10.213.%d.1", x), nsIP: fmt.Sprintf("10.213.%d.2", x)}
	in := []string{"ip", "netns", "exec", n.name}
	for _, c := range [][]string{
		{"ip", "netns", "add", n.name},
		{"ip", "link", "add", n.hostIf, "type", "veth", "peer", "name", n.nsIf},
		{"ip", "link", "set", n.nsIf, "netns", n.name},
		{"ip", "addr", "add", n.hostIP + "/24", "dev", n.hostIf},
		{"ip", "link", "set", n.hostIf, "up"},
		append(in[:4:4], "ip", "addr", "add", n.nsIP+"/24", "dev", n.nsIf),
		append(in[:4:4], "ip", "link", "set", n.nsIf, "up"),
		append(in[:4:4], "ip", "link", "set", "lo", "up"),
	} {
		if err := sh(c...); err != nil {
			n.remove()
			return nil, err
		}
	}
	return n, nil
}

func (n *netns) exec() []string { return []string{"ip", "netns", "exec", n.name} }

// cut makes the link silent without a close: 100% loss both ways with tc netem, or, where the kernel
// has no netem (sch_netem), both ends of the veth set down (no FIN, no RST either way). It returns how.
func (n *netns) cut() (string, error) {
	if err := sh("tc", "qdisc", "add", "dev", n.hostIf, "root", "netem", "loss", "100%"); err == nil {
		n.how = "netem"
		return "tc netem loss 100%", sh(append(n.exec(), "tc", "qdisc", "add", "dev", n.nsIf, "root", "netem", "loss", "100%")...)
	}
	n.how = "down"
	if err := sh("ip", "link", "set", n.hostIf, "down"); err != nil {
		return "", err
	}
	return "veth down both ends (no sch_netem in this kernel)", sh(append(n.exec(), "ip", "link", "set", n.nsIf, "down")...)
}

func (n *netns) restore() error {
	var err1, err2 error
	if n.how == "netem" {
		err1 = sh("tc", "qdisc", "del", "dev", n.hostIf, "root")
		err2 = sh(append(n.exec(), "tc", "qdisc", "del", "dev", n.nsIf, "root")...)
	} else {
		err1 = sh("ip", "link", "set", n.hostIf, "up")
		err2 = sh(append(n.exec(), "ip", "link", "set", n.nsIf, "up")...)
	}
	if err1 != nil {
		return err1
	}
	return err2
}

func (n *netns) remove() {
	_ = exec.Command("ip", "link", "del", n.hostIf).Run()
	_ = exec.Command("ip", "netns", "del", n.name).Run()
}

// runLinkCut: agent 0 runs in its own network namespace; its link is cut by 100% loss both ways (no
// close). Jobs submitted during the cut wait; the agent and the server must both notice within three
// heartbeats; when the link returns the agent reconnects and every job prints exactly once.
func runLinkCut(ctx context.Context, e env, r *Result) error {
	ns, err := newNetns()
	if err != nil {
		return err
	}
	defer ns.remove()
	hb := 2 * time.Second
	if e.short {
		hb = time.Second
	}
	c, err := newCluster(ctx, e, clusterOpts{agents: 2, ip: ns.hostIP, heartbeat: hb, logLevel: "info", prefix: func(i int) []string {
		if i == 0 {
			return ns.exec()
		}
		return nil
	}})
	if err != nil {
		return err
	}
	defer c.close()
	c.sub.offer(ctx, "LC", c.fleet, c.all, 50, time.Second, nil)
	if t := c.sub.settle(ctx, "LC", c.fleet, 30*time.Second); t.Lost > 0 {
		return fmt.Errorf("before the cut: %d jobs not printed", t.Lost)
	}
	how, err := ns.cut()
	if err != nil {
		return err
	}
	cut := time.Now()
	restored := false
	defer func() {
		if !restored {
			_ = ns.restore()
		}
	}()
	// Jobs for both printers during the cut: the server may write the cut agent's into a dead socket.
	c.sub.offer(ctx, "LC", c.fleet, c.all, 20, time.Second, nil)
	// When each side noticed, from the logs' timestamps (polling would add its own delay).
	var agentGone, serverGone time.Time
	err = waitFor(ctx, 6*hb, "both sides to notice the dead link", func() bool {
		var ok1, ok2 bool
		agentGone, ok1 = logTime(c.agents[0].Log, "the server stopped answering", cut)
		serverGone, ok2 = logTime(c.server.Log, "agent disconnected", cut)
		return ok1 && ok2
	})
	// Bound: three heartbeats of silence, plus 250 ms for timers and the server's 100 ms close grace.
	bound := 3*hb + 250*time.Millisecond
	r.Recovery = append(r.Recovery, Measure{What: "agent notices", Took: agentGone.Sub(cut), Bound: bound},
		Measure{What: "server frees the session", Took: serverGone.Sub(cut), Bound: bound})
	if err != nil {
		return err
	}
	if err := ns.restore(); err != nil {
		return err
	}
	restored = true
	back := time.Now()
	if err := waitFor(ctx, 60*time.Second, "the agent to reconnect", func() bool {
		on, err := c.online(ctx, 0)
		return err == nil && on && agentState(ctx, e.bins, c.aspecs[0]) == "connected"
	}); err != nil {
		return err
	}
	r.Recovery = append(r.Recovery, Measure{What: "link back → reconnected", Took: time.Since(back)})
	r.Tally = c.sub.settle(ctx, "LC", c.fleet, 60*time.Second)
	r.Note = fmt.Sprintf("heartbeat %s; cut: %s", hb, how)
	return c.probeAll(ctx, "LCP", 30*time.Second)
}
