package main

import (
	"context"
	"time"

	"printdock/agent"
	"printdock/agent/localapi"
)

// agentAPI is what the commands need from an agent: the running one over its local API (liveAgent) or,
// when none answers, one that is never started and works directly on the state directory, the keystore,
// the spool and the printers (offlineAgent). Each command has one code path over it.
type agentAPI interface {
	// Running reports whether a running agent answers (the local API).
	Running() bool
	Status(ctx context.Context) (localapi.Status, error)
	Login(ctx context.Context, req localapi.LoginRequest) (localapi.Status, error)
	Logout(ctx context.Context) (localapi.Status, error)
	Printers(ctx context.Context) ([]localapi.Printer, error)
	TestPrint(ctx context.Context, req localapi.TestPrintRequest) (localapi.TestPrintResult, error)
	Jobs(ctx context.Context) ([]localapi.Job, error)
	JobPreview(ctx context.Context, id string) (localapi.JobPreview, error)
	Logs(ctx context.Context, n int) ([]localapi.LogEntry, error)
}

// liveAgent is the running agent, through its local API client.
type liveAgent struct{ *localapi.Client }

func (liveAgent) Running() bool { return true }

// offlinePrintersTimeout bounds checking the printers once without a running agent.
const offlinePrintersTimeout = 20 * time.Second

// offlineAgent adapts an agent.Agent that is never started. It is built on first use, so that a command
// failing earlier (or `logs`, which needs a running agent) never opens the state directory.
type offlineAgent struct {
	g   *globals
	a   *agent.Agent
	err error
}

func (o *offlineAgent) agent() (*agent.Agent, error) {
	if o.a == nil && o.err == nil {
		o.a, o.err = o.g.offline()
	}
	return o.a, o.err
}

func (o *offlineAgent) Running() bool { return false }

func (o *offlineAgent) Status(context.Context) (localapi.Status, error) {
	a, err := o.agent()
	if err != nil {
		return localapi.Status{}, err
	}
	return a.Status(), nil
}

// Login signs in directly; without --server it uses the config file's server, else the stored one.
func (o *offlineAgent) Login(ctx context.Context, req localapi.LoginRequest) (localapi.Status, error) {
	if req.ServerURL == "" {
		if c, err := o.g.config(); err == nil {
			req.ServerURL = c.ServerURL
		}
	}
	a, err := o.agent()
	if err != nil {
		return localapi.Status{}, err
	}
	if req.ServerURL == "" && a.Status().ServerURL == "" {
		return localapi.Status{}, usageError{"--server URL is required"}
	}
	return a.Login(ctx, req.ServerURL, req.Secret, req.DeviceID)
}

func (o *offlineAgent) Logout(ctx context.Context) (localapi.Status, error) {
	a, err := o.agent()
	if err != nil {
		return localapi.Status{}, err
	}
	return a.Logout(ctx)
}

func (o *offlineAgent) Printers(ctx context.Context) ([]localapi.Printer, error) {
	a, err := o.agent()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, offlinePrintersTimeout)
	defer cancel()
	return a.Printers(ctx), nil
}

func (o *offlineAgent) TestPrint(ctx context.Context, req localapi.TestPrintRequest) (localapi.TestPrintResult, error) {
	a, err := o.agent()
	if err != nil {
		return localapi.TestPrintResult{}, err
	}
	return a.TestPrint(ctx, req.PrinterID)
}

func (o *offlineAgent) Jobs(context.Context) ([]localapi.Job, error) {
	a, err := o.agent()
	if err != nil {
		return nil, err
	}
	return a.Jobs(), nil
}

func (o *offlineAgent) JobPreview(ctx context.Context, id string) (localapi.JobPreview, error) {
	a, err := o.agent()
	if err != nil {
		return localapi.JobPreview{}, err
	}
	return a.JobPreview(ctx, id)
}

// Logs needs a running agent: the log lines live in its memory.
func (o *offlineAgent) Logs(context.Context, int) ([]localapi.LogEntry, error) {
	return nil, localapi.ErrAgentNotRunning
}

// api returns the running agent if one answers on the local API socket, else the offline adapter.
func (g *globals) api(ctx context.Context) agentAPI {
	if c, ok := g.client(ctx); ok {
		return liveAgent{c}
	}
	return &offlineAgent{g: g}
}
