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
	"strings"
	"syscall"
	"time"

	"github.com/kardianos/service"

	"printdock/agent"
	"printdock/agent/localapi"
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
)

// usageError is a command-line mistake (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `Usage: printdock-agent [global flags] COMMAND [flags]

Commands:
  run                      run the agent in the foreground (the OS service runs this)
  install | uninstall      install or remove the OS service (systemd, Windows service)
  start | stop | restart   control the OS service
  status [--json]          connection state, server, key, printers, service
  login --server URL [--device-id ID]
                           sign in; the secret is read from stdin or a hidden prompt
  logout                   delete the stored secret and disconnect
  printers [--json]        list printers and their state
  test-print [--printer ID]
                           print the built-in test label
  jobs [--json]            recent jobs (from the spool; also when the agent is not running)
  preview --job ID [--out FILE] [--json]
                           render a spooled job's label to PNG and print where it is
  logs [-n N]              recent log lines of the running agent
  version                  print the version

Global flags (before or after the command):
  --state-dir DIR          state directory (default: /var/lib/printdock as root, else the user's config dir)
  --keystore MODE          auto | keyring | file (default auto)
  --printer URI            add a printer (repeatable): tcp://host:9100, sim://name
  --insecure               allow ws:// or http:// to a server that is not on this machine
  --ca-file FILE           extra CA certificates (PEM) for the server
  --config FILE            config file (default /etc/printdock/agent.json as root, <state-dir>/agent.json otherwise)
  --socket PATH            local API socket (default: from the state directory)
  --log-level LEVEL        debug | info | warn | error
  --printer-problem MODE   wait (default) | fail: a job whose printer cannot print waits for it, or fails
  --interrupted MODE       fail (default) | reprint: a job that may have printed when the agent died mid-write
`

// globals are the flags every command accepts.
type globals struct {
	stateDir   string
	keystore   string
	printers   multiFlag
	insecure   bool
	caFile     string
	configFile string
	socket     string
	logLevel   string
	problem    string
	interrupt  string
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.stateDir, "state-dir", g.stateDir, "state directory")
	fs.StringVar(&g.keystore, "keystore", g.keystore, "auto | keyring | file")
	fs.Var(&g.printers, "printer", "printer URI (repeatable)")
	fs.BoolVar(&g.insecure, "insecure", g.insecure, "allow unencrypted connections to a non-loopback server")
	fs.StringVar(&g.caFile, "ca-file", g.caFile, "extra CA certificates (PEM)")
	fs.StringVar(&g.configFile, "config", g.configFile, "config file")
	fs.StringVar(&g.socket, "socket", g.socket, "local API socket")
	fs.StringVar(&g.logLevel, "log-level", g.logLevel, "debug | info | warn | error")
	fs.StringVar(&g.problem, "printer-problem", g.problem, "wait | fail")
	fs.StringVar(&g.interrupt, "interrupted", g.interrupt, "fail | reprint")
}

// config builds the agent configuration: flags, then the config file.
func (g *globals) config() (agent.Config, error) {
	switch g.keystore {
	case "", "auto", "keyring", "file":
	default:
		return agent.Config{}, usageError{fmt.Sprintf("--keystore must be auto, keyring or file, not %q", g.keystore)}
	}
	path := g.configFile
	if path == "" {
		path = agent.DefaultConfigFile(g.stateDir)
	}
	fc, err := agent.LoadFileConfig(path)
	if err != nil {
		return agent.Config{}, err
	}
	c := agent.Config{
		StateDir:   g.stateDir,
		Keystore:   g.keystore,
		Printers:   append([]string(nil), g.printers...),
		Insecure:   g.insecure,
		CAFile:     g.caFile,
		LogLevel:   g.logLevel,
		SocketPath: g.socket,

		PrinterProblem: g.problem,
		Interrupted:    g.interrupt,
	}
	fc.Apply(&c)
	if err := c.CheckPolicies(); err != nil {
		return agent.Config{}, usageError{err.Error()}
	}
	return c, nil
}

// serviceArgs are the global flags the installed service passes to `run`.
func (g *globals) serviceArgs() []string {
	var a []string
	add := func(name, v string) {
		if v != "" {
			a = append(a, "--"+name, v)
		}
	}
	add("state-dir", g.stateDir)
	add("keystore", g.keystore)
	for _, p := range g.printers {
		add("printer", p)
	}
	if g.insecure {
		a = append(a, "--insecure")
	}
	add("ca-file", g.caFile)
	add("config", g.configFile)
	add("socket", g.socket)
	add("log-level", g.logLevel)
	add("printer-problem", g.problem)
	add("interrupted", g.interrupt)
	return a
}

// client returns a local API client for the running agent, and whether one answers.
func (g *globals) client(ctx context.Context) (*localapi.Client, bool) {
	var path string
	switch {
	case g.socket != "":
		path = g.socket
	case g.stateDir != "":
		path = localapi.DefaultSocketPath(g.stateDir)
	default:
		p, err := localapi.FindSocket(ctx)
		if err != nil {
			return nil, false
		}
		path = p
	}
	c := localapi.NewClient(path)
	if _, err := c.Status(ctx); err != nil {
		if localapi.ErrorCode(err) == localapi.CodeAgentNotRunning {
			return nil, false
		}
	}
	return c, true
}

// offline returns an agent that is not started, for commands that work without a running agent.
func (g *globals) offline() (*agent.Agent, error) {
	c, err := g.config()
	if err != nil {
		return nil, err
	}
	c.SocketPath = "-"
	c.NoDiscovery = false
	c.Logger = quietLogger()
	return agent.New(c)
}

func run(args []string, e env) int {
	var g globals
	top := flag.NewFlagSet("printdock-agent", flag.ContinueOnError)
	top.SetOutput(io.Discard)
	g.register(top)
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(e.stdout, usage)
			return exitOK
		}
		fmt.Fprintf(e.stderr, "printdock-agent: %v\n\n%s", err, usage)
		return exitUsage
	}
	if top.NArg() == 0 {
		fmt.Fprint(e.stderr, usage)
		return exitUsage
	}
	cmd, rest := top.Arg(0), top.Args()[1:]
	fs := flag.NewFlagSet("printdock-agent "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	g.register(fs)
	var (
		asJSON   bool
		server   string
		deviceID string
		printer  string
		lines    int
		jobID    string
		outFile  string
	)
	switch cmd {
	case "status", "printers", "jobs":
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	case "login":
		fs.StringVar(&server, "server", "", "server URL")
		fs.StringVar(&deviceID, "device-id", "", "device ID (with the shared secret)")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	case "logout":
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	case "test-print":
		fs.StringVar(&printer, "printer-id", "", "printer ID")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	case "logs":
		fs.IntVar(&lines, "n", 50, "number of lines")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	case "preview":
		fs.StringVar(&jobID, "job", "", "job ID")
		fs.StringVar(&outFile, "out", "", "write the PNG here too")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	case "run", "install", "uninstall", "start", "stop", "restart", "version":
	case "help", "-h", "--help":
		fmt.Fprint(e.stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(e.stderr, "printdock-agent: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
	if err := fs.Parse(rest); err != nil {
		fmt.Fprintf(e.stderr, "printdock-agent %s: %v\n", cmd, err)
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "printdock-agent %s: unexpected argument %q (secrets are never accepted as arguments: they are read from stdin)\n", cmd, fs.Arg(0))
		return exitUsage
	}
	if cmd == "preview" && jobID == "" {
		fmt.Fprintf(e.stderr, "printdock-agent preview: --job ID is required\n")
		return exitUsage
	}
	if cmd == "test-print" && printer == "" && len(g.printers) > 0 {
		// `test-print --printer ID`: the global --printer flag names the printer to test.
		printer = g.printers[len(g.printers)-1]
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd {
	case "run":
		err = cmdRun(ctx, &g, e)
	case "install", "uninstall", "start", "stop", "restart":
		err = cmdService(&g, cmd, e)
	case "status":
		err = cmdStatus(ctx, &g, e, asJSON)
	case "login":
		err = cmdLogin(ctx, &g, e, server, deviceID, asJSON)
	case "logout":
		err = cmdLogout(ctx, &g, e, asJSON)
	case "printers":
		err = cmdPrinters(ctx, &g, e, asJSON)
	case "test-print":
		err = cmdTestPrint(ctx, &g, e, printer, asJSON)
	case "jobs":
		err = cmdJobs(ctx, &g, e, asJSON)
	case "logs":
		err = cmdLogs(ctx, &g, e, lines, asJSON)
	case "preview":
		err = cmdPreview(ctx, &g, e, jobID, outFile, asJSON)
	case "version":
		fmt.Fprintf(e.stdout, "printdock-agent %s\n", agent.Version)
	}
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(e.stderr, "printdock-agent %s: %v\n", cmd, err)
			return exitUsage
		}
		fmt.Fprintf(e.stderr, "printdock-agent %s: %v\n", cmd, err)
		return exitError
	}
	return exitOK
}

// cmdRun runs the agent until a signal (foreground) or until the service manager stops it.
func cmdRun(ctx context.Context, g *globals, e env) error {
	c, err := g.config()
	if err != nil {
		return err
	}
	c.LogFile = true
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

// cmdService installs, removes, starts, stops or restarts the OS service.
func cmdService(g *globals, action string, e env) error {
	s, err := agent.NewService(nil, agent.ServiceOptions{Args: g.serviceArgs()}, nil)
	if err != nil {
		return err
	}
	if err := service.Control(s, action); err != nil {
		return fmt.Errorf("%s the service: %w", action, err)
	}
	done := map[string]string{"install": "installed", "uninstall": "removed", "start": "started", "stop": "stopped", "restart": "restarted"}
	fmt.Fprintf(e.stdout, "Service %s %s (%s).\n", agent.ServiceName, done[action], s.Platform())
	return nil
}

func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}
