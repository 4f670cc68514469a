package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"printdock/client"
	"printdock/internal/deploy"
)

// cluster is one printdock-server, its agents (one process and one tcp:// simulator each) and a
// submitter.
type cluster struct {
	e      env
	spec   deploy.ServerSpec
	server *proc
	key    string
	api    *client.Client
	fleet  *fleet
	agents []*proc
	aspecs []agentSpec
	sub    *submitter
	all    []int // every printer index
}

// clusterOpts shapes a cluster.
type clusterOpts struct {
	agents    int
	database  string // "" SQLite in dataDir
	dataDir   string // "" e.dir/server
	heartbeat time.Duration
	agentDir  func(i int) string   // "" e.dir/agent-i
	ip        string               // the server's and the simulators' address ("" 127.0.0.1); not loopback: plain HTTP allowed
	prefix    func(i int) []string // agent i's command prefix (ip netns exec NS), nil none
	logLevel  string               // the server's ("" warn)
}

func newCluster(ctx context.Context, e env, o clusterOpts) (*cluster, error) {
	if o.ip == "" {
		o.ip = "127.0.0.1"
	}
	insecure := o.ip != "127.0.0.1"
	port, err := freePort(o.ip)
	if err != nil {
		return nil, err
	}
	if o.dataDir == "" {
		o.dataDir = filepath.Join(e.dir, "server")
	}
	if o.heartbeat == 0 {
		o.heartbeat = 2 * time.Second
	}
	c := &cluster{e: e, spec: deploy.ServerSpec{DataDir: o.dataDir, Database: o.database, Listen: net.JoinHostPort(o.ip, strconv.Itoa(port)), Heartbeat: o.heartbeat,
		LogLevel: o.logLevel}}
	if insecure {
		c.spec.Extra = []string{"--insecure-http"}
	}
	if c.key, err = initStore(ctx, e.bins, c.spec); err != nil {
		return nil, err
	}
	if c.server, err = startServer(ctx, e.bins, c.spec, filepath.Join(e.dir, "server.log")); err != nil {
		return nil, err
	}
	base := "http://" + c.spec.Listen
	if c.api, err = newAPI(base, c.key); err != nil {
		c.close()
		return nil, err
	}
	if c.fleet, err = newFleet(ctx, o.agents, o.ip); err != nil {
		c.close()
		return nil, err
	}
	for i := range o.agents {
		dir := filepath.Join(e.dir, fmt.Sprintf("agent-%d", i))
		if o.agentDir != nil {
			dir = o.agentDir(i)
		}
		a := agentSpec{stateDir: dir, server: base, printers: []string{c.fleet.sims[i].URI()}, insecure: insecure}
		if o.prefix != nil {
			a.prefix = o.prefix(i)
		}
		if err := c.addAgent(ctx, a); err != nil {
			c.close()
			return nil, err
		}
		c.all = append(c.all, i)
	}
	if err := c.fleet.learnIDs(ctx, c.api, 60*time.Second); err != nil {
		c.close()
		return nil, err
	}
	c.sub = newSubmitter(base, c.key)
	return c, nil
}

func newAPI(base, key string) (*client.Client, error) {
	return client.New(base, key, client.WithHTTPClient(&http.Client{Timeout: 10 * time.Second}),
		client.WithRetry(client.RetryPolicy{Attempts: 1}))
}

// addAgent issues a print client secret and starts an agent with it.
func (c *cluster) addAgent(ctx context.Context, a agentSpec) error {
	k, err := c.api.CreateKey(ctx, client.NewKey{Description: "chaos " + filepath.Base(a.stateDir)})
	if err != nil {
		return fmt.Errorf("create a print client secret: %w", err)
	}
	p, err := startAgent(ctx, c.e.bins, a, k.Secret)
	if err != nil {
		return err
	}
	c.agents = append(c.agents, p)
	c.aspecs = append(c.aspecs, a)
	return nil
}

// restartServer starts the server again on the same address and store.
func (c *cluster) restartServer(ctx context.Context) error {
	p, err := startServer(ctx, c.e.bins, c.spec, filepath.Join(c.e.dir, "server.log"))
	if err != nil {
		return err
	}
	c.server = p
	return nil
}

func (c *cluster) close() {
	for _, a := range c.agents {
		a.Stop()
	}
	c.server.Stop()
	if c.fleet != nil {
		c.fleet.close()
	}
}

// online reports whether the server shows the printer idx online.
func (c *cluster) online(ctx context.Context, idx int) (bool, error) {
	p, err := c.api.GetPrinter(ctx, c.fleet.ids[idx])
	return p.Online, err
}

// probeAll submits one job of run to every printer and waits (up to d) until each printed once.
func (c *cluster) probeAll(ctx context.Context, run string, d time.Duration) error {
	s := newSubmitter(c.sub.base, c.key)
	for _, i := range c.all {
		if sub := s.submit(ctx, run, i, c.fleet.ids[i]); sub.outcome != accepted {
			return fmt.Errorf("probe job to printer %d: HTTP %d %s", i, sub.status, sub.errCode)
		}
	}
	if t := s.settle(ctx, run, c.fleet, d); t.Lost > 0 || t.Duplicated > 0 {
		return fmt.Errorf("probe jobs: %d of %d not printed, %d printed twice", t.Lost, t.Accepted, t.Duplicated)
	}
	return nil
}
