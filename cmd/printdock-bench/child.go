package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"printdock/client"
	"printdock/protocol"
)

// child is a printdock-bench --light-child process running light agents.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	ready chan int
	mu    sync.Mutex
	got   map[string]time.Time // job title → when the agent received it (first)
	dups  map[string]int       // job title → how many times it arrived again
	outs  []time.Time          // logout messages' arrival
}

// startChild starts the light agents of cfg in a child process and waits until all are welcomed.
func startChild(ctx context.Context, cfg childConfig) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	c := &child{cmd: exec.CommandContext(ctx, exe, "--light-child"), ready: make(chan int, 1), got: map[string]time.Time{},
		dups: map[string]int{}}
	c.cmd.Stderr = os.Stderr
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	if err := json.NewEncoder(c.stdin).Encode(cfg); err != nil {
		c.stop()
		return nil, err
	}
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) < 2 {
				continue
			}
			ns, _ := strconv.ParseInt(f[len(f)-1], 10, 64)
			switch f[0] {
			case "ready":
				c.ready <- int(ns)
			case "logout":
				c.mu.Lock()
				c.outs = append(c.outs, time.Unix(0, ns))
				c.mu.Unlock()
			default:
				c.mu.Lock()
				if _, again := c.got[f[0]]; again {
					c.dups[f[0]]++
				} else {
					c.got[f[0]] = time.Unix(0, ns)
				}
				c.mu.Unlock()
			}
		}
	}()
	select {
	case <-c.ready:
		return c, nil
	case <-exited:
		c.stop()
		return nil, fmt.Errorf("the agents' process ended before all %d agents were welcomed", len(cfg.Secrets))
	case <-time.After(5 * time.Minute):
		c.stop()
		return nil, fmt.Errorf("the light agents were not all welcomed within 5 minutes")
	}
}

func (c *child) stop() {
	c.stdin.Close()
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

func (c *child) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.got)
}

func (c *child) logouts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.outs)
}

func (c *child) lastLogout() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var last time.Time
	for _, t := range c.outs {
		if t.After(last) {
			last = t
		}
	}
	return last
}

func (c *child) firstLogout() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var first time.Time
	for _, t := range c.outs {
		if first.IsZero() || t.Before(first) {
			first = t
		}
	}
	return first
}

// received returns when the job titled title reached its light agent.
func (c *child) received(title string) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.got[title]
	return t, ok
}

// printed returns when the job titled (marked) title first arrived and how many times it did.
func (c *child) printed(title string) (time.Time, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.got[title]
	if !ok {
		return time.Time{}, 0
	}
	return t, 1 + c.dups[title]
}

// secrets creates n print client secrets.
func secrets(ctx context.Context, api *client.Client, n int, what string) ([]string, error) {
	out := make([]string, 0, n)
	for i := range n {
		k, err := api.CreateKey(ctx, client.NewKey{Description: fmt.Sprintf("bench %s %d", what, i)})
		if err != nil {
			return nil, fmt.Errorf("create key %d: %w", i, err)
		}
		out = append(out, k.Secret)
	}
	return out, nil
}

func agentURL(base string) string { return "ws" + strings.TrimPrefix(base, "http") + protocol.Path }
