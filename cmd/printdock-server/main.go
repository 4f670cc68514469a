// Command printdock-server runs the printdock credential and print server: `serve` (the default) serves
// the REST API, the agent websocket endpoint, /oauth/token, /healthz and /metrics; `init` bootstraps an
// empty store and prints the first administrator's credentials once. See docs/server.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"printdock/cmd/internal/cli"
)

// version is set at build time (-ldflags "-X main.version=…").
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// exitCode prints err (if any) and returns the process's exit code.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "printdock-server:", err)
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitError
}

// usageError is a command-line mistake (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// out is where a command writes: its result to stdout, logs and messages to stderr.
type out struct{ stdout, stderr io.Writer }

// command is one entry of the command table, which drives parsing, per-command help and dispatch.
// flags registers the command's flags and returns the function that runs it with their values.
type command struct {
	cli.Command
	flags func(fs *flag.FlagSet) func(ctx context.Context, o out) error
	// layered says which flags the environment (PRINTDOCK_*) and --config FILE may set; nil: none.
	layered func(name string) bool
}

func allFlags(string) bool { return true }

// storeOnly layers the flags that find the store, so that recovery commands find the store that
// serve's environment or configuration file names.
func storeOnly(name string) bool { return name == "data-dir" || name == "database" }

// flagSet returns the command's flags and the function that runs it with their values.
func (c *command) flagSet() (*flag.FlagSet, *string, func(context.Context, out) error) {
	fs := flag.NewFlagSet("printdock-server "+c.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	runCmd := c.flags(fs)
	var config *string
	if c.layered != nil {
		config = fs.String("config", "", "configuration `FILE` (TOML; default $"+envName("config")+"): flag = value lines; a flag beats $PRINTDOCK_<FLAG>, which beats the file")
	}
	return fs, config, runCmd
}

// commands is the table of printdock-server's commands, in the order of the usage.
var commands = []*command{
	{Command: cli.Command{Name: "serve", Synopsis: "[flags]", Summary: "serve the API and the agent endpoint (the default)",
		Help: "On an empty store it creates the first portal and administrator and writes their credentials to a\n0600 file in the data directory (its path is logged)."},
		flags: serveFlags, layered: allFlags},
	{Command: cli.Command{Name: "init", Synopsis: "--admin-email EMAIL", JSON: true,
		Summary: "create the first portal and administrator on an empty store; prints their credentials once"},
		flags: initFlags, layered: storeOnly},
	{Command: cli.Command{Name: "version", JSON: true, Summary: "print the version"}, flags: versionFlags},
}

func init() {
	commands = append(append(append(commands, userCommands...), keyCommands...), backupCommands...)
}

// groups are the commands with verbs: "users list", "keys rotate", ….
var groups = []string{"users", "keys"}

func lookup(name string) *command { return cli.Find(commands, name) }

func usage() string {
	return cli.List("Usage: printdock-server [COMMAND] [flags]\n\nCommands:\n", commands, "",
		"\nusers and keys work offline, directly on the store (SQLite or PostgreSQL), for whoever can read the data\n"+
			"directory: a locked-out administrator gets back in with users reset-password.\n"+
			"\nRun \"printdock-server COMMAND -h\" for a command's flags. See docs/server.md.\n"+exitUsageText)
}

var exitUsageText = fmt.Sprintf(`
Exit codes:
  %d  success
  %d  failure (the message on stderr says why)
  %d  usage: unknown command or flag, a missing or unexpected argument
`, exitOK, exitError, exitUsage)

// getenv reads the environment (tests replace it).
var getenv = os.Getenv

// onListen is called with the bound address once serve listens (tests).
var onListen func(net.Addr)

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	name := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	} else if len(args) > 0 && isHelp(args[0]) {
		// `printdock-server --help`: every command, then serve's flags (serve being the default).
		fmt.Fprint(stdout, usage()+"\n"+lookup("serve").help())
		return nil
	}
	if name == "help" {
		if c := lookup(strings.Join(args, " ")); c != nil {
			fmt.Fprint(stdout, c.help())
		} else {
			fmt.Fprint(stdout, usage())
		}
		return nil
	}
	if slices.Contains(groups, name) {
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			if len(args) > 0 && isHelp(args[0]) {
				fmt.Fprint(stdout, groupUsage(name))
				return nil
			}
			fmt.Fprint(stderr, groupUsage(name))
			return usageError{fmt.Sprintf("%s: which one?", name)}
		}
		name, args = name+" "+args[0], args[1:]
	}
	cmd := lookup(name)
	if cmd == nil {
		fmt.Fprint(stderr, usage())
		return usageError{fmt.Sprintf("unknown command %q", name)}
	}
	fs, config, runCmd := cmd.flagSet()
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, cmd.help())
			return nil
		}
		return usageError{fmt.Sprintf("%s: %v (see printdock-server %s -h)", name, err, name)}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("%s: unexpected argument %q", name, fs.Arg(0))}
	}
	if config != nil {
		path := *config
		if path == "" {
			path = getenv(envName("config"))
		}
		if err := layer(fs, path, getenv, cmd.layered); err != nil {
			return err
		}
	}
	return runCmd(ctx, out{stdout, stderr})
}

// groupUsage lists the verbs of a group (users, keys).
func groupUsage(group string) string {
	return cli.List("Usage: printdock-server "+group+" VERB [flags]\n\nVerbs:\n", commands, group+" ", "")
}

func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help":
		return true
	}
	return false
}

// help is `printdock-server COMMAND -h`.
func (c *command) help() string {
	fs, _, _ := c.flagSet()
	var b strings.Builder
	c.WriteHelp(&b, "printdock-server", fs, exitUsageText[1:])
	return b.String()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
