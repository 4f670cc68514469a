package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"printdock/agent"
	"printdock/agent/localapi"
	"printdock/cmd/internal/cli"
	"printdock/protocol"
)

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// cmdStatus prints the agent's state: from the running agent, else from the state directory.
// It exits exitNotLoggedIn when no secret is stored or the server logged the agent out.
func cmdStatus(ctx context.Context, c *call) error {
	g, e := c.g, c.e
	st, err := g.api(ctx).Status(ctx)
	if err != nil {
		return err
	}
	if err := printStatus(e.stdout, g, st, c.o.asJSON); err != nil {
		return err
	}
	if st.State == localapi.StateNotLoggedIn || st.State == localapi.StateLoggedOut {
		return exitCodeError(exitNotLoggedIn)
	}
	return nil
}

func printStatus(out io.Writer, g *globals, st localapi.Status, asJSON bool) error {
	svc := agent.ServiceState(agent.ServiceOptions{Args: g.serviceArgs()})
	st.Service.Platform = svc.Platform
	st.Service.Installed = svc.Installed || (st.Service.Installed && st.AgentRunning)
	st.Service.Running = svc.Running || (st.Service.Running && st.AgentRunning)
	if asJSON {
		return printJSON(out, st)
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "State:\t%s\n", stateWords(st))
	if st.ServerURL != "" {
		fmt.Fprintf(w, "Server:\t%s\n", st.ServerURL)
	}
	if st.KeyDesc != "" || st.KeyPrefix != "" {
		fmt.Fprintf(w, "Key:\t%s\n", strings.TrimSpace(st.KeyDesc+" ("+st.KeyKind+", "+st.KeyPrefix+"…)"))
	}
	if st.DeviceID != "" {
		fmt.Fprintf(w, "Device ID:\t%s\n", st.DeviceID)
	}
	if st.State == localapi.StateLoggedOut {
		at := ""
		if st.LogoutAt != nil {
			at = " at " + st.LogoutAt.Local().Format(time.DateTime)
		}
		fmt.Fprintf(w, "Logged out:\t%s%s\n", st.LogoutReason, at)
		if st.LogoutMessage != "" {
			fmt.Fprintf(w, "Server says:\t%s\n", st.LogoutMessage)
		}
	}
	if st.LastError != "" {
		fmt.Fprintf(w, "Last error:\t%s\n", st.LastError)
	}
	if st.NextRetry != nil {
		fmt.Fprintf(w, "Next attempt:\t%s\n", time.Until(*st.NextRetry).Round(time.Second))
	}
	fmt.Fprintf(w, "Keystore:\t%s\n", st.Keystore)
	fmt.Fprintf(w, "Service:\t%s\n", serviceWords(st.Service))
	fmt.Fprintf(w, "State dir:\t%s\n", st.StateDir)
	fmt.Fprintf(w, "Version:\t%s\n", st.Version)
	if err := w.Flush(); err != nil {
		return err
	}
	if len(st.Printers) > 0 {
		fmt.Fprintln(out)
		printPrinters(out, st.Printers)
	}
	return nil
}

func stateWords(st localapi.Status) string {
	s := st.State
	switch st.State {
	case localapi.StateConnected:
		s = "connected"
	case localapi.StateConnecting:
		s = "connecting"
		if !st.AgentRunning {
			s = "logged in, agent not running"
		}
	case localapi.StateLoggedOut:
		s = "logged out by the server (" + st.LogoutReason + ")"
	case localapi.StateNotLoggedIn:
		s = "not logged in (use: printdock-agent login --server URL)"
	}
	return s
}

func serviceWords(s localapi.Service) string {
	switch {
	case s.Running:
		return "running (" + s.Platform + ")"
	case s.Installed:
		return "installed, not running (" + s.Platform + ")"
	}
	return "not installed (" + s.Platform + ")"
}

// readSecret reads the secret from a hidden prompt when stdin is a terminal, else one line of stdin.
func readSecret(e env) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && isTerminal(f.Fd()) {
		fmt.Fprint(e.stderr, "Paste the secret (it will not be shown) and press Enter: ")
		restore, err := noEcho(f.Fd())
		if err != nil {
			return "", fmt.Errorf("cannot hide the input: %w", err)
		}
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt)
		done := make(chan struct{})
		go func() {
			select {
			case <-sig:
				restore()
				fmt.Fprintln(e.stderr)
				os.Exit(exitError)
			case <-done:
			}
		}()
		line, err := bufio.NewReader(f).ReadString('\n')
		close(done)
		signal.Stop(sig)
		restore()
		fmt.Fprintln(e.stderr)
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read the secret: %w", err)
		}
		return protocol.NormalizeSecret(line), nil
	}
	line, err := bufio.NewReader(io.LimitReader(e.stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the secret from stdin: %w", err)
	}
	return protocol.NormalizeSecret(line), nil
}

// cmdLogin reads the secret, checks it locally, and signs in through the running agent or directly.
func cmdLogin(ctx context.Context, c *call) error {
	e := c.e
	secret, err := readSecret(e)
	if err != nil {
		return err
	}
	// Local check first: a truncated or mistyped paste never reaches the network.
	if _, err := protocol.ParseSecret(secret); err != nil {
		return fmt.Errorf("%s. Nothing was stored", strings.TrimSuffix(cli.UpperFirst(err.Error()), "."))
	}
	api := c.g.api(ctx)
	lctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	st, err := api.Login(lctx, localapi.LoginRequest{ServerURL: c.o.server, Secret: secret, DeviceID: c.o.deviceID})
	if err != nil {
		return err
	}
	if c.o.asJSON {
		return printJSON(e.stdout, st)
	}
	key := st.KeyDesc
	if key == "" {
		key = st.KeyPrefix + "…"
	}
	fmt.Fprintf(e.stdout, "Signed in to %s with key %q (%s).\n", st.ServerURL, key, st.KeyKind)
	switch {
	case !api.Running():
		fmt.Fprintf(e.stdout, "The secret is stored (%s keystore). The agent is not running: start it with `printdock-agent start` (service) or `printdock-agent run`.\n", st.Keystore)
	case st.State == localapi.StateConnected:
		fmt.Fprintln(e.stdout, "The agent is connected.")
	default:
		fmt.Fprintf(e.stdout, "The agent is %s. %s\n", st.State, st.LastError)
	}
	return nil
}
