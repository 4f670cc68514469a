package main

import (
	"bufio"
	"context"
	"encoding/json"
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
	"printdock/protocol"
)

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// cmdStatus prints the agent's state: from the running agent, else from the state directory.
func cmdStatus(ctx context.Context, g *globals, e env, asJSON bool) error {
	var st localapi.Status
	if c, ok := g.client(ctx); ok {
		var err error
		if st, err = c.Status(ctx); err != nil {
			return err
		}
	} else {
		a, err := g.offline()
		if err != nil {
			return err
		}
		st = a.Status()
	}
	svc := agent.ServiceState(agent.ServiceOptions{Args: g.serviceArgs()})
	st.Service.Platform = svc.Platform
	st.Service.Installed = svc.Installed || (st.Service.Installed && st.AgentRunning)
	st.Service.Running = svc.Running || (st.Service.Running && st.AgentRunning)
	if asJSON {
		return printJSON(e.stdout, st)
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
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
	w.Flush()
	if len(st.Printers) > 0 {
		fmt.Fprintln(e.stdout)
		printPrinters(e.stdout, st.Printers)
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
func cmdLogin(ctx context.Context, g *globals, e env, server, deviceID string, asJSON bool) error {
	secret, err := readSecret(e)
	if err != nil {
		return err
	}
	// Local check first: a truncated or mistyped paste never reaches the network.
	if _, err := protocol.ParseSecret(secret); err != nil {
		return fmt.Errorf("%s. Nothing was stored", strings.TrimSuffix(upperFirst(err.Error()), "."))
	}
	lctx, cancel := withTimeout(ctx, 60*time.Second)
	defer cancel()
	var st localapi.Status
	running := false
	if c, ok := g.client(ctx); ok {
		running = true
		st, err = c.Login(lctx, localapi.LoginRequest{ServerURL: server, Secret: secret, DeviceID: deviceID})
	} else {
		if server == "" {
			c, cerr := g.config()
			if cerr == nil {
				server = c.ServerURL
			}
		}
		a, aerr := g.offline()
		if aerr != nil {
			return aerr
		}
		if server == "" && a.Status().ServerURL == "" {
			return usageError{"--server URL is required"}
		}
		st, err = a.Login(lctx, server, secret, deviceID)
	}
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(e.stdout, st)
	}
	key := st.KeyDesc
	if key == "" {
		key = st.KeyPrefix + "…"
	}
	fmt.Fprintf(e.stdout, "Signed in to %s with key %q (%s).\n", st.ServerURL, key, st.KeyKind)
	switch {
	case !running:
		fmt.Fprintf(e.stdout, "The secret is stored (%s keystore). The agent is not running: start it with `printdock-agent start` (service) or `printdock-agent run`.\n", st.Keystore)
	case st.State == localapi.StateConnected:
		fmt.Fprintln(e.stdout, "The agent is connected.")
	default:
		fmt.Fprintf(e.stdout, "The agent is %s. %s\n", st.State, st.LastError)
	}
	return nil
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// cmdLogout deletes the secret through the running agent or directly.
func cmdLogout(ctx context.Context, g *globals, e env, asJSON bool) error {
	var st localapi.Status
	var err error
	if c, ok := g.client(ctx); ok {
		st, err = c.Logout(ctx)
	} else {
		a, aerr := g.offline()
		if aerr != nil {
			return aerr
		}
		st, err = a.Logout(ctx)
	}
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(e.stdout, st)
	}
	fmt.Fprintln(e.stdout, "Logged out: the secret was deleted.")
	return nil
}

func printPrinters(w io.Writer, ps []localapi.Printer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PRINTER\tNAME\tSTATE\tDETAIL")
	for _, p := range ps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.ID, p.Name, p.State, p.Reason)
	}
	tw.Flush()
}

// cmdPrinters lists printers: the running agent's, else checked once directly.
func cmdPrinters(ctx context.Context, g *globals, e env, asJSON bool) error {
	var ps []localapi.Printer
	if c, ok := g.client(ctx); ok {
		var err error
		if ps, err = c.Printers(ctx); err != nil {
			return err
		}
	} else {
		a, err := g.offline()
		if err != nil {
			return err
		}
		pctx, cancel := withTimeout(ctx, 20*time.Second)
		defer cancel()
		ps = a.Printers(pctx)
	}
	if asJSON {
		if ps == nil {
			ps = []localapi.Printer{}
		}
		return printJSON(e.stdout, ps)
	}
	if len(ps) == 0 {
		fmt.Fprintln(e.stdout, "No printers. Add one with --printer URI (tcp://host:9100) or in the config file.")
		return nil
	}
	printPrinters(e.stdout, ps)
	return nil
}

// cmdTestPrint prints the test label through the running agent or directly.
func cmdTestPrint(ctx context.Context, g *globals, e env, printerID string, asJSON bool) error {
	var res localapi.TestPrintResult
	var err error
	pctx, cancel := withTimeout(ctx, 60*time.Second)
	defer cancel()
	if c, ok := g.client(ctx); ok {
		res, err = c.TestPrint(pctx, localapi.TestPrintRequest{PrinterID: printerID})
	} else {
		a, aerr := g.offline()
		if aerr != nil {
			return aerr
		}
		res, err = a.TestPrint(pctx, printerID)
	}
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(e.stdout, res)
	}
	fmt.Fprintf(e.stdout, "Test label sent to %s.\n", res.PrinterID)
	if res.PreviewPath != "" {
		fmt.Fprintf(e.stdout, "Preview: %s\n", res.PreviewPath)
	}
	return nil
}

// cmdJobs lists the recent jobs: the running agent's, else the spool's.
func cmdJobs(ctx context.Context, g *globals, e env, asJSON bool) error {
	var js []localapi.Job
	if c, ok := g.client(ctx); ok {
		var err error
		if js, err = c.Jobs(ctx); err != nil {
			return err
		}
	} else {
		a, err := g.offline()
		if err != nil {
			return err
		}
		js = a.Jobs()
	}
	if js == nil {
		js = []localapi.Job{}
	}
	if asJSON {
		return printJSON(e.stdout, js)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tPRINTER\tSTATE\tUPDATED\tREASON")
	for _, j := range js {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", j.ID, j.PrinterID, j.State, j.Updated.Local().Format(time.DateTime), j.Reason)
	}
	return tw.Flush()
}

// cmdPreview renders a spooled job's label (through the running agent, else from the spool).
func cmdPreview(ctx context.Context, g *globals, e env, id, out string, asJSON bool) error {
	var res localapi.JobPreview
	var err error
	if c, ok := g.client(ctx); ok {
		res, err = c.JobPreview(ctx, id)
	} else {
		a, aerr := g.offline()
		if aerr != nil {
			return aerr
		}
		res, err = a.JobPreview(ctx, id)
	}
	if err != nil {
		return err
	}
	if out != "" {
		if err := os.WriteFile(out, res.PreviewPNG, 0o644); err != nil {
			return fmt.Errorf("write the preview: %w", err)
		}
		res.PreviewPath = out
	}
	if asJSON {
		res.PreviewPNG = nil // the file has it
		return printJSON(e.stdout, res)
	}
	fmt.Fprintf(e.stdout, "Preview of job %s: %s\n", id, res.PreviewPath)
	return nil
}

// cmdLogs prints the running agent's recent log lines.
func cmdLogs(ctx context.Context, g *globals, e env, n int, asJSON bool) error {
	c, ok := g.client(ctx)
	if !ok {
		return localapi.ErrAgentNotRunning
	}
	ls, err := c.Logs(ctx, n)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(e.stdout, ls)
	}
	for _, l := range ls {
		fmt.Fprintf(e.stdout, "%s %-5s %s %s\n", l.Time.Local().Format(time.DateTime), l.Level, l.Message, l.Attrs)
	}
	return nil
}
