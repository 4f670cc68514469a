package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/kardianos/service"

	"printdock/agent"
	"printdock/agent/localapi"
	"printdock/gui"
)

// backend is the agent's local API client plus gui.ServiceControl: installing and starting the
// printdock-agent OS service from the Settings screen, through the agent package's kardianos/service
// wrapper, for the installed printdock-agent binary.
type backend struct {
	*localapi.Client
	access gui.ServiceAccess
	// serviceStarted runs after the service was started from the app (stopping an agent that runs
	// inside the app, so that only one agent prints).
	serviceStarted func()
}

var _ gui.ServiceControl = (*backend)(nil)

func newBackend(c *localapi.Client) *backend {
	b := &backend{Client: c, access: gui.ServiceAccess{Allowed: hasServiceRights()}}
	b.access.Agent, b.access.FoundIn = findAgent(os.Executable, exec.LookPath)
	return b
}

func (b *backend) ServiceAccess() gui.ServiceAccess { return b.access }

// ServiceStatus asks the service manager about the printdock-agent service (no rights needed).
func (b *backend) ServiceStatus(ctx context.Context) (localapi.Service, error) {
	return runCtx(ctx, func() (localapi.Service, error) {
		return agent.ServiceState(agent.ServiceOptions{Executable: b.access.Agent}), nil
	})
}

// InstallService installs the service for the agent binary found by findAgent, with its defaults
// (no flags: the system state directory and /etc/printdock/agent.json).
func (b *backend) InstallService(ctx context.Context) error {
	return b.control(ctx, "install", service.Service.Install)
}

// StartService starts the installed service, then stops an agent running inside the app.
func (b *backend) StartService(ctx context.Context) error {
	if err := b.control(ctx, "start", service.Service.Start); err != nil {
		return err
	}
	if b.serviceStarted != nil {
		b.serviceStarted()
	}
	return nil
}

func (b *backend) control(ctx context.Context, verb string, fn func(service.Service) error) error {
	if b.access.Agent == "" {
		return errors.New("the printdock-agent program was not found next to this app or in PATH; install the printdock agent package first")
	}
	if !b.access.Allowed {
		return fmt.Errorf("%s the service: %w", verb, fs.ErrPermission)
	}
	_, err := runCtx(ctx, func() (struct{}, error) {
		s, err := agent.NewService(nil, agent.ServiceOptions{Executable: b.access.Agent}, nil)
		if err != nil {
			return struct{}{}, err
		}
		return struct{}{}, fn(s)
	})
	return plainServiceError(verb, err)
}

// plainServiceError rewords the service manager's common answers.
func plainServiceError(verb string, err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	switch {
	case errors.Is(err, fs.ErrPermission), strings.Contains(msg, "Access is denied"),
		strings.Contains(msg, "Interactive authentication required"):
		return fmt.Errorf("%s the service: %w", verb, fs.ErrPermission)
	case strings.Contains(msg, "already exists"):
		return fmt.Errorf("the service is already installed (%s)", msg)
	case errors.Is(err, service.ErrNotInstalled):
		return errors.New("the service is not installed yet: install it first")
	}
	return err
}

// runCtx runs fn (a call to the service manager that takes no context) and gives up waiting when ctx
// ends; fn still finishes on its own.
func runCtx[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := fn()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// findAgent finds the printdock-agent binary: next to this app first (packages install both in the
// same folder), else in PATH. It returns "", "" when there is none.
func findAgent(self func() (string, error), lookPath func(string) (string, error)) (path, foundIn string) {
	name := "printdock-agent"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if exe, err := self(); err == nil {
		if resolved, err := filepath.EvalSymlinks(exe); err == nil {
			exe = resolved
		}
		p := filepath.Join(filepath.Dir(exe), name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, "next to this app"
		}
	}
	if p, err := lookPath(name); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs, gui.FoundInPath
		}
	}
	return "", ""
}
