// Command printdock-agent runs the printdock agent (as an OS service or in the foreground) and controls
// it: login, logout, status, printers, test-print. When the agent runs, the commands talk to it over its
// local API (agent/localapi); when it does not, login, logout, status, printers and test-print work
// directly on the state directory, the keystore and the printers. See docs/agent.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/kardianos/service"

	"printdock/agent"
)

func main() {
	os.Exit(run(os.Args[1:], env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}))
}

// env is the process's I/O, replaceable in tests.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
	// exitNotLoggedIn: status found no stored secret, or the server logged the agent out.
	exitNotLoggedIn = 3
)

// usageError is a command-line mistake (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// exitCodeError ends a command with a code and no message (its output says it all).
type exitCodeError int

func (e exitCodeError) Error() string { return fmt.Sprintf("exit %d", int(e)) }

func run(args []string, e env) int {
	var g globals
	top := flag.NewFlagSet("printdock-agent", flag.ContinueOnError)
	top.SetOutput(io.Discard)
	g.register(top)
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(e.stdout, usage())
			return exitOK
		}
		fmt.Fprintf(e.stderr, "printdock-agent: %v\n\n%s", err, usage())
		return exitUsage
	}
	if top.NArg() == 0 {
		fmt.Fprint(e.stderr, usage())
		return exitUsage
	}
	name, rest := top.Arg(0), top.Args()[1:]
	if name == "help" || name == "-h" || name == "--help" {
		if c := lookup(top.Arg(1)); c != nil {
			fmt.Fprint(e.stdout, c.commandHelp())
		} else {
			fmt.Fprint(e.stdout, usage())
		}
		return exitOK
	}
	cmd := lookup(name)
	if cmd == nil {
		fmt.Fprintf(e.stderr, "printdock-agent: unknown command %q\n\n%s", name, usage())
		return exitUsage
	}
	c := &call{g: &g, e: e}
	fs := cmd.flagSet(&g, &c.o)
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(e.stdout, cmd.commandHelp())
			return exitOK
		}
		fmt.Fprintf(e.stderr, "printdock-agent %s: %v (see printdock-agent %s -h)\n", name, err, name)
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "printdock-agent %s: unexpected argument %q (secrets are never accepted as arguments: they are read from stdin)\n", name, fs.Arg(0))
		return exitUsage
	}
	err := error(nil)
	if cmd.check != nil {
		err = cmd.check(&c.o)
	}
	if err == nil {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err = cmd.run(ctx, c)
		stop()
	}
	var code exitCodeError
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &code):
		return int(code)
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "printdock-agent %s: %v\n", name, err)
		return exitUsage
	}
	fmt.Fprintf(e.stderr, "printdock-agent %s: %v\n", name, err)
	return exitError
}

// cmdRun runs the agent until a signal (foreground) or until the service manager stops it.
func cmdRun(ctx context.Context, cl *call) error {
	g := cl.g
	c, err := g.config()
	if err != nil {
		return err
	}
	c.LogFile = true
	if !service.Interactive() {
		// The service's important lines also go to the Windows event log (syslog elsewhere).
		if ev, err := agent.ServiceEventLog(); err == nil {
			c.EventLog = ev
		}
	}
	a, err := agent.New(c)
	if err != nil {
		return err
	}
	if service.Interactive() {
		if err := a.Start(ctx); err != nil {
			return err
		}
		return a.Wait()
	}
	s, err := agent.NewService(a, agent.ServiceOptions{Args: g.serviceArgs()}, func(err error) {
		a.Logger().Error("agent failed; exiting so that the service manager restarts it", "error", err)
		os.Exit(exitError)
	})
	if err != nil {
		return err
	}
	return s.Run()
}

// serviceCmd installs, removes, starts, stops or restarts the OS service.
func serviceCmd(action string) func(context.Context, *call) error {
	return func(_ context.Context, c *call) error {
		s, err := agent.NewService(nil, agent.ServiceOptions{Args: c.g.serviceArgs()}, nil)
		if err != nil {
			return err
		}
		if err := service.Control(s, action); err != nil {
			return fmt.Errorf("%s the service: %w", action, err)
		}
		done := map[string]string{"install": "installed", "uninstall": "removed", "start": "started", "stop": "stopped", "restart": "restarted"}
		if c.o.asJSON {
			return printJSON(c.e.stdout, map[string]string{"service": agent.ServiceName, "action": action, "platform": s.Platform()})
		}
		fmt.Fprintf(c.e.stdout, "Service %s %s (%s).\n", agent.ServiceName, done[action], s.Platform())
		return nil
	}
}
