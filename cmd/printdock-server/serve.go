package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"printdock/server"
	"printdock/server/jobs"
	"printdock/server/keys"
)

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

func serveFlags(fs *flag.FlagSet) func(context.Context, out) error {
	var sf storeFlags
	sf.register(fs)
	listen := fs.String("listen", server.DefaultListen, "address to listen on (host:port)")
	cert := fs.String("tls-cert", "", "TLS certificate file (PEM)")
	key := fs.String("tls-key", "", "TLS private key file (PEM)")
	insecure := fs.Bool("insecure-http", false, "DANGEROUS: allow plain HTTP on a non-loopback address (secrets travel in clear text)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	asJSON := fs.Bool("json", false, "log as JSON")
	adminEmail := fs.String("admin-email", "admin@localhost", "e-mail of the administrator created on an empty store")
	heartbeat := fs.Duration("heartbeat", 15*time.Second, "how often the server pings each agent")
	metricsPublic := fs.Bool("metrics-public", false, "serve /metrics to every client (default: loopback clients only)")
	metricsListen := fs.String("metrics-listen", "", "serve /metrics on this separate `address` (host:port, plain HTTP, every client that reaches it) instead of the main listener")
	var trusted multiFlag
	fs.Var(&trusted, "trusted-proxy", "`CIDR` of a reverse proxy whose X-Forwarded-For/-Proto are believed (repeatable or comma-separated; docs/server.md)")
	jobExpiry := fs.Duration("job-expiry", 24*time.Hour, "how long a job waits for delivery when its request names no expiry (at most 2160h)")
	retainContent := fs.Duration("retain-job-content", 0, "drop finished jobs' content after this long (default 168h; negative: keep)")
	retainJobs := fs.Duration("retain-jobs", 0, "delete finished jobs after this long (default 2160h; negative: keep)")
	retainAudit := fs.Duration("retain-audit", 0, "delete audit entries after this long (default 9600h; negative: keep)")
	webhooksPrivate := fs.Bool("webhooks-allow-private", false, "let webhooks reach private, loopback and link-local addresses (default: public addresses only)")
	maxClients := fs.Int("max-clients-per-key", jobs.DefaultMaxClientsPerCredential, "agent installations one credential (print client secret, shared-secret device, API key) may register; -1: unlimited")
	maxPrinters := fs.Int("max-printers", jobs.DefaultMaxPrintersPerPortal, "printers a portal keeps (present or not); -1: unlimited")
	var oidc oidcFlags
	oidc.register(fs)
	secureCookies := fs.Bool("secure-cookies", false, "always give the portal's cookies the Secure attribute (a TLS proxy that sends no X-Forwarded-Proto)")
	return func(ctx context.Context, o out) error {
		stderr := o.stderr
		l := server.Listen{Addr: *listen, TLSCert: *cert, TLSKey: *key, InsecureHTTP: *insecure}
		if err := l.Check(); err != nil {
			return err
		}
		log, err := newLogger(stderr, *logLevel, *asJSON)
		if err != nil {
			return err
		}
		oidcCfg, err := oidc.config(os.Getenv)
		if err != nil {
			return err
		}
		if oidc.portal == "" {
			oidc.portal = *adminEmail
		}
		if *insecure && *cert == "" && !server.IsLoopback(*listen) {
			log.Warn("serving plain HTTP on a non-loopback address (--insecure-http): secrets travel in clear text")
		}
		srv, err := server.New(ctx, server.Config{DataDir: sf.dataDir, DatabaseURL: sf.database, Log: log,
			Version: version, Heartbeat: *heartbeat, MetricsPublic: *metricsPublic, MetricsListen: *metricsListen,
			TrustedProxies: trusted, SecureCookies: *secureCookies, JobExpiry: *jobExpiry,
			RetainJobContent: *retainContent, RetainJobs: *retainJobs, RetainAudit: *retainAudit,
			MaxClientsPerKey: *maxClients, MaxPrinters: *maxPrinters, OIDC: oidcCfg, OIDCPortal: oidc.portal,
			WebhooksAllowPrivate: *webhooksPrivate})
		if err != nil {
			return err
		}
		res, created, err := srv.Bootstrap(ctx, *adminEmail)
		if err != nil {
			srv.Close()
			return err
		}
		if created {
			path, err := writeBootstrap(sf.dataDir, res)
			if err != nil {
				srv.Close()
				return err
			}
			log.Warn("the store was empty: created the first portal and administrator; their credentials are in this file (read it once, then delete it)",
				"file", path)
		}
		return srv.Serve(ctx, l, onListen)
	}
}

func initFlags(fs *flag.FlagSet) func(context.Context, out) error {
	var sf storeFlags
	sf.register(fs)
	email := fs.String("admin-email", "", "e-mail of the first administrator (required)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	return func(ctx context.Context, o out) error {
		stdout, stderr := o.stdout, o.stderr
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
}

func versionFlags(fs *flag.FlagSet) func(context.Context, out) error {
	asJSON := fs.Bool("json", false, "print as JSON")
	return func(_ context.Context, o out) error {
		if *asJSON {
			return writeJSON(o.stdout, map[string]string{"version": version})
		}
		_, err := fmt.Fprintln(o.stdout, "printdock-server", version)
		return err
	}
}

// BootstrapFile is the file in the data directory that holds the first administrator's credentials
// after serve bootstrapped an empty store (mode 0600; JSON like init --json).
const BootstrapFile = "bootstrap-credentials.json"

// writeBootstrap writes res to BootstrapFile in dataDir, readable by the owner only, and returns its path.
func writeBootstrap(dataDir string, res keys.InitResult) (string, error) {
	path := filepath.Join(dataDir, BootstrapFile)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", fmt.Errorf("write the bootstrap credentials: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", fmt.Errorf("write the bootstrap credentials: %w", err)
	}
	if err := f.Chmod(0o600); err != nil { // an older file may have had another mode
		f.Close()
		return "", fmt.Errorf("write the bootstrap credentials: %w", err)
	}
	werr := writeJSON(f, res)
	if err := f.Close(); werr == nil {
		werr = err
	}
	if werr != nil {
		return "", fmt.Errorf("write the bootstrap credentials: %w", werr)
	}
	return path, nil
}

// multiFlag is a repeatable string flag ("--trusted-proxy A --trusted-proxy B"); the config file and
// PRINTDOCK_TRUSTED_PROXY give it comma-separated.
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ",") }

func (m *multiFlag) Set(v string) error {
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			*m = append(*m, f)
		}
	}
	return nil
}
