package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"fyne.io/fyne/v2/app"

	"printdock/agent"
	"printdock/agent/localapi"
	"printdock/gui"
)

// appID identifies the app to the OS (preferences, notifications, desktop entry).
const appID = "io.printdock.desktop"

// inProcessNote is shown when the app runs the agent itself.
const inProcessNote = "No printdock service is running on this computer, so the agent runs inside this app: " +
	"labels print only while printdock is open. Ask IT to install the service (see Settings)."

type options struct {
	stateDir string
	keystore string
	printers multiFlag
	insecure bool
	screen   string // hidden: open this screen (docs/gui.md, scripts/test.d/50-gui-xvfb.sh)
	action   string // hidden: "test-print" prints the test label once the app is ready
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("printdock", flag.ContinueOnError)
	fs.StringVar(&o.stateDir, "state-dir", "", "the agent's state directory (default: find the running service, else the user's own)")
	fs.StringVar(&o.keystore, "keystore", "", "keystore for an agent run inside the app: auto, keyring or file")
	fs.Var(&o.printers, "printer", "printer URI for an agent run inside the app (repeatable): tcp://host:9100, sim://name")
	fs.BoolVar(&o.insecure, "insecure", false, "let an agent run inside the app use http:// to a server that is not on loopback")
	fs.StringVar(&o.screen, "screen", "", "open this screen first: "+strings.Join(gui.Screens, ", "))
	fs.StringVar(&o.action, "screen-action", "", "")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q (printdock takes only flags)", fs.Arg(0))
	}
	return o, nil
}

func run(args []string) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	conn, err := connect(ctx, o, log)
	if err != nil {
		return err
	}
	defer conn.close()

	a := app.NewWithID(appID)
	a.SetIcon(appIcon)
	opts := gui.Options{Version: agent.Version, Log: log}
	if conn.inProcess {
		opts.InProcessNote = inProcessNote
	}
	var u *gui.UI
	opts.Ready = func() {
		if o.screen != "" {
			u.Show(o.screen)
		}
		if o.action == "test-print" {
			u.TestPrint("")
		}
		log.Info("printdock: ready", "screen", u.Current(), "in_process", conn.inProcess)
	}
	b := newBackend(conn.client)
	if conn.inProcess {
		// Once the OS service runs, the agent inside the app must stop: two agents would print the same
		// printers. Reopening the app connects it to the service.
		b.serviceStarted = conn.stopAgent
	}
	u = gui.New(a, b, opts)
	u.Start()
	u.Window().ShowAndRun()
	u.Stop()
	return nil
}

// connection is how the app reaches the agent.
type connection struct {
	client    *localapi.Client
	inProcess bool
	stopAgent func() // stops the agent inside the app (nil when a service runs it)
	close     func()
}

// connect finds a running agent (the OS service, or `printdock-agent run`) on its socket; when none
// answers it starts the agent inside the app.
func connect(ctx context.Context, o options, log *slog.Logger) (*connection, error) {
	var sock string
	var err error
	if o.stateDir != "" {
		sock = localapi.DefaultSocketPath(o.stateDir)
		if !answers(ctx, sock) {
			err = localapi.ErrAgentNotRunning
		}
	} else {
		sock, err = localapi.FindSocket(ctx)
	}
	if err == nil {
		log.Info("printdock: using the running agent", "socket", sock)
		c := localapi.NewClient(sock)
		return &connection{client: c, close: c.Close}, nil
	}
	if !errors.Is(err, localapi.ErrAgentNotRunning) {
		return nil, err
	}

	cfg := agent.Config{StateDir: o.stateDir, Keystore: o.keystore, Printers: o.printers, Insecure: o.insecure,
		InProcess: true, LogFile: true}
	fc, err := agent.LoadFileConfig(agent.DefaultConfigFile(o.stateDir))
	if err != nil {
		return nil, err
	}
	fc.Apply(&cfg)
	ag, err := agent.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("start the agent inside the app: %w", err)
	}
	if err := ag.Start(ctx); err != nil {
		return nil, fmt.Errorf("start the agent inside the app: %w", err)
	}
	log.Info("printdock: no agent service answered; running the agent inside the app", "state_dir", ag.StateDir())
	c := ag.Client()
	return &connection{client: c, inProcess: true, stopAgent: ag.Stop, close: func() { c.Close(); ag.Stop() }}, nil
}

// answers reports whether an agent answers on the socket at path.
func answers(ctx context.Context, path string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c := localapi.NewClient(path)
	defer c.Close()
	_, err := c.Status(ctx)
	return err == nil
}
