package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"printdock/cmd/internal/cli"
)

// command is one entry of the command table, which drives parsing, per-command help and dispatch.
type command struct {
	cli.Command
	flags func(fs *flag.FlagSet, o *opts)
	check func(o *opts) error // after parsing: required flags and the like
	run   func(ctx context.Context, c *call) error
}

// opts are the commands' own flags (each command registers those it takes).
type opts struct {
	asJSON   bool
	server   string
	deviceID string
	printer  string
	lines    int
	jobID    string
	outFile  string
	// configure
	statusMode string
}

// call is one command invocation.
type call struct {
	g *globals
	e env
	o opts
}

// commands is the table of printdock-agent's commands, in the order of the usage.
var commands = []*command{
	{Command: cli.Command{Name: "run", Summary: "run the agent in the foreground (the OS service runs this)"}, run: cmdRun},
	serviceCommand("install", "install the OS service (systemd, Windows service)"),
	serviceCommand("uninstall", "remove the OS service"),
	serviceCommand("start", "start the OS service"),
	serviceCommand("stop", "stop the OS service"),
	serviceCommand("restart", "restart the OS service"),
	{Command: cli.Command{Name: "status", JSON: true, Summary: "connection state, server, key, printers, service",
		Help: fmt.Sprintf("Exits %d when not logged in or logged out by the server (the state is still printed), so that\nscripts can test it.", exitNotLoggedIn)},
		run: cmdStatus},
	{Command: cli.Command{Name: "login", Synopsis: "--server URL [--device-id ID]", JSON: true,
		Summary: "sign in; the secret is read from stdin or a hidden prompt",
		Help:    "The secret is never an argument: it is read from one line of stdin, or from a hidden prompt on a terminal."},
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.StringVar(&o.server, "server", "", "server `URL` (default: the config file's, else the stored one)")
			fs.StringVar(&o.deviceID, "device-id", "", "device `ID` (with the shared secret)")
		},
		run: cmdLogin},
	{Command: cli.Command{Name: "logout", JSON: true, Summary: "delete the stored secret and disconnect"}, run: cmdLogout},
	{Command: cli.Command{Name: "printers", JSON: true, Summary: "list printers and their state"}, run: cmdPrinters},
	{Command: cli.Command{Name: "test-print", Synopsis: "[--printer ID]", JSON: true, Summary: "print the built-in test label",
		Help: "--printer (the global flag; its last value) or --printer-id names the printer; default the first."},
		flags: func(fs *flag.FlagSet, o *opts) { fs.StringVar(&o.printer, "printer-id", "", "printer `ID`") },
		run:   cmdTestPrint},
	{Command: cli.Command{Name: "jobs", JSON: true, Summary: "recent jobs (from the spool; also when the agent is not running)"}, run: cmdJobs},
	{Command: cli.Command{Name: "preview", Synopsis: "--job ID [--out FILE]", JSON: true,
		Summary: "render a spooled job's label to PNG and print where it is"},
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.StringVar(&o.jobID, "job", "", "job `ID` (required)")
			fs.StringVar(&o.outFile, "out", "", "write the PNG to `FILE` too")
		},
		check: func(o *opts) error {
			if o.jobID == "" {
				return usageError{"--job ID is required"}
			}
			return nil
		},
		run: cmdPreview},
	{Command: cli.Command{Name: "logs", Synopsis: "[-n N]", JSON: true, Summary: "recent log lines of the running agent"},
		flags: func(fs *flag.FlagSet, o *opts) { fs.IntVar(&o.lines, "n", 50, "print the last `N` lines") },
		run:   cmdLogs},
	{Command: cli.Command{Name: "configure", Synopsis: "[--server-url URL] [--ca-file FILE] [--status-mode MODE]", JSON: true,
		Summary: "preset the config file (agent.json) as installers do",
		Help:    "--ca-file (the global flag) sets ca_file. An empty value leaves a setting as it is, \"-\" removes it. The agent reads the file when it starts."},
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.StringVar(&o.server, "server-url", "", "server `URL`")
			fs.StringVar(&o.statusMode, "status-mode", "", "`MODE` of printers without their own: auto, zpl or none")
		},
		run: cmdConfigure},
	{Command: cli.Command{Name: "version", JSON: true, Summary: "print the version"}, run: cmdVersion},
}

func serviceCommand(action, summary string) *command {
	return &command{Command: cli.Command{Name: action, JSON: true, Summary: summary}, run: serviceCmd(action)}
}

func lookup(name string) *command { return cli.Find(commands, name) }

// flagSet returns the command's flag set: with the global flags when g is not nil.
func (c *command) flagSet(g *globals, o *opts) *flag.FlagSet {
	fs := flag.NewFlagSet("printdock-agent "+c.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if g != nil {
		g.register(fs)
	}
	if c.flags != nil {
		c.flags(fs, o)
	}
	if c.JSON {
		fs.BoolVar(&o.asJSON, "json", false, "print JSON")
	}
	return fs
}

// usage is the whole CLI's help, from the table.
func usage() string {
	return cli.List("Usage: printdock-agent [global flags] COMMAND [flags]\n\nCommands:\n", commands, "",
		"\nRun \"printdock-agent COMMAND -h\" for a command's help.\n\n"+globalUsage+exitUsageText)
}

// commandHelp is `printdock-agent COMMAND -h`.
func (c *command) commandHelp() string {
	var b strings.Builder
	var o opts
	c.WriteHelp(&b, "printdock-agent [global flags]", c.flagSet(nil, &o), globalUsage+exitUsageText)
	return b.String()
}

const globalUsage = `Global flags (before or after the command):
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

var exitUsageText = fmt.Sprintf(`
Exit codes:
  %d  success
  %d  failure (the message on stderr says why)
  %d  usage: unknown command or flag, a missing or unexpected argument
  %d  status: not logged in, or logged out by the server
`, exitOK, exitError, exitUsage, exitNotLoggedIn)
