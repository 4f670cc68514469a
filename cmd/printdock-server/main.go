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
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"printdock/server"
	"printdock/server/keys"
)

// version is set at build time (-ldflags "-X main.version=…").
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		var ue usageError
		fmt.Fprintln(os.Stderr, "printdock-server:", err)
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a command-line mistake (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `Usage: printdock-server [COMMAND] [flags]

Commands:
  serve     serve the API and the agent endpoint (the default)
  init      create the first portal and administrator on an empty store; prints their credentials once
  version   print the version

Run "printdock-server COMMAND -h" for a command's flags. See docs/server.md.
`

// onListen is called with the bound address once serve listens (tests).
var onListen func(net.Addr)

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, stdout, stderr)
	case "init":
		return initCmd(ctx, args, stdout, stderr)
	case "version":
		return versionCmd(args, stdout, stderr)
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("printdock-server "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses flags and refuses positional arguments.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

// storeFlags are shared by serve and init.
type storeFlags struct {
	dataDir  string
	database string
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dataDir, "data-dir", server.DefaultDataDir, "data directory (SQLite database, pepper file)")
	fs.StringVar(&f.database, "database", "", "database: SQLite (default: in --data-dir; or sqlite:PATH) or a postgres:// URL shared by replicas (docs/postgres.md); the pepper stays in --data-dir, and every replica needs the same one")
}

func newLogger(w io.Writer, level string, asJSON bool) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{fmt.Sprintf("--log-level %q: want debug, info, warn or error", level)}
	}
	opts := &slog.HandlerOptions{Level: l}
	if asJSON {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	var sf storeFlags
	sf.register(fs)
	listen := fs.String("listen", server.DefaultListen, "address to listen on (host:port)")
	cert := fs.String("tls-cert", "", "TLS certificate file (PEM)")
	key := fs.String("tls-key", "", "TLS private key file (PEM)")
	insecure := fs.Bool("insecure-http", false, "DANGEROUS: allow plain HTTP on a non-loopback address (secrets travel in clear text)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	asJSON := fs.Bool("json", false, "log (and print the bootstrap credentials) as JSON")
	adminEmail := fs.String("admin-email", "admin@localhost", "e-mail of the administrator created on an empty store")
	heartbeat := fs.Duration("heartbeat", 15*time.Second, "how often the server pings each agent")
	metricsPublic := fs.Bool("metrics-public", false, "serve /metrics to every client (default: loopback clients only)")
	jobExpiry := fs.Duration("job-expiry", 24*time.Hour, "how long a job waits for delivery when its request names no expiry (at most 2160h)")
	if err := parse(fs, args); err != nil {
		return err
	}
	l := server.Listen{Addr: *listen, TLSCert: *cert, TLSKey: *key, InsecureHTTP: *insecure}
	if err := l.Check(); err != nil {
		return err
	}
	log, err := newLogger(stderr, *logLevel, *asJSON)
	if err != nil {
		return err
	}
	if *insecure && *cert == "" && !server.IsLoopback(*listen) {
		log.Warn("serving plain HTTP on a non-loopback address (--insecure-http): secrets travel in clear text")
	}
	srv, err := server.New(ctx, server.Config{DataDir: sf.dataDir, DatabaseURL: sf.database, Log: log,
		Version: version, Heartbeat: *heartbeat, MetricsPublic: *metricsPublic, JobExpiry: *jobExpiry})
	if err != nil {
		return err
	}
	res, created, err := srv.Bootstrap(ctx, *adminEmail)
	if err != nil {
		srv.Close()
		return err
	}
	if created {
		fmt.Fprintln(stderr, "printdock-server: the store was empty; created the first portal and administrator.")
		fmt.Fprintln(stderr, "printdock-server: these credentials are shown only now:")
		if err := writeJSON(stderr, res); err != nil {
			srv.Close()
			return err
		}
	}
	return srv.Serve(ctx, l, onListen)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func initCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("init", stderr)
	var sf storeFlags
	sf.register(fs)
	email := fs.String("admin-email", "", "e-mail of the first administrator (required)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *email == "" {
		return usageError{"--admin-email is required"}
	}
	log, _ := newLogger(stderr, "warn", false)
	srv, err := server.New(ctx, server.Config{DataDir: sf.dataDir, DatabaseURL: sf.database, Log: log, Version: version})
	if err != nil {
		return err
	}
	defer srv.Close()
	res, err := srv.Keys.Init(ctx, server.DefaultPortalName, *email)
	if errors.Is(err, keys.ErrConflict) {
		return errors.New("the store already has a portal: init works on an empty store only")
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, res)
	}
	_, err = fmt.Fprintf(stdout, "portal:          %s\nadmin e-mail:    %s\nadmin password:  %s\nadmin API key:   %s\n\nThese credentials are shown only now; store them safely.\n",
		res.PortalID, res.AdminEmail, res.AdminPassword, res.AdminAPIKey)
	return err
}

func versionCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", stderr)
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, map[string]string{"version": version})
	}
	_, err := fmt.Fprintln(stdout, "printdock-server", version)
	return err
}
