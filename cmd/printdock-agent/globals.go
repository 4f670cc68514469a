package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"printdock/agent"
	"printdock/agent/localapi"
)

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
	dir := c.StateDir
	if dir == "" {
		dir = localapi.DefaultStateDir()
	}
	// As root with the service's state directory owned by its account: continue as that account, so
	// that what this command writes stays readable to the service.
	if err := agent.ActAsStateOwner(dir); err != nil {
		return nil, err
	}
	return agent.New(c)
}
