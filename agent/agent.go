// Package agent is the core of printdock-agent: one websocket session to printdock-server (connect,
// authenticate, hello, printers, heartbeat, reconnect with backoff, forced logout), the printers it
// reports, the jobs it receives (through its durable spool), and the local API it serves (package
// agent/localapi). The connection itself is package agent/link's. It is a library type with a non-blocking Start, Stop and Wait, used by the OS service,
// by `printdock-agent run`, in-process by the desktop app, and by tests.
//
// A new Agent that is never started still answers Status, Login, Logout and Printers from its state
// directory and keystore: that is how the CLI works when no agent runs.
package agent

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"printdock/agent/localapi"
	"printdock/agent/spool"
	"printdock/keystore"
	"printdock/printer"
	"printdock/printer/registry"
	"printdock/protocol"
)

// Agent is one printdock agent. Create it with New; all methods are safe for concurrent use.
//
// Its state lives with owners that have one job each and their own locks: creds (the secret, state.json,
// the generation), conn (the session loop's condition), pub (Status subscriptions), printers, history
// and, while running, the spooler. Lock order: pub.mu, then any one of a.mu, creds.mu, conn.mu,
// printers.mu (publishing builds a Status under pub.mu); no lock is held across disk, keystore or
// network I/O except the printers' per-device use locks, which nothing above is taken under.
type Agent struct {
	cfg      Config
	log      *slog.Logger
	ring     *logRing
	logFile  io.Closer
	hc       *http.Client
	hcErr    error
	backoff  Backoff
	printers *printerSet
	history  *jobHistory
	hostname string
	handler  *localapi.Handler
	mem      *localapi.MemListener
	sockPath string

	creds *credentials
	conn  *connState
	pub   *publisher

	dials     atomic.Int64 // websocket dial attempts
	idleWaits atomic.Int64 // times the session loop went idle waiting for a login

	mu         sync.Mutex // protects the following (the agent's life cycle)
	svc        localapi.Service
	sessCancel context.CancelFunc
	started    bool
	running    bool
	cancel     context.CancelFunc
	waitErr    error
	spool      *spool.Spool // open while a started agent runs
	spooler    *spooler

	kick chan struct{} // wakes the session loop after a login
	done chan struct{} // closed when a started agent has stopped
}

// New returns an Agent for cfg. It opens the keystore and reads the state directory but starts nothing.
func New(cfg Config) (*Agent, error) {
	if cfg.StateDir == "" {
		cfg.StateDir = localapi.DefaultStateDir()
	}
	abs, err := filepath.Abs(cfg.StateDir)
	if err != nil {
		return nil, fmt.Errorf("agent: state dir: %w", err)
	}
	cfg.StateDir = abs
	cfg.Printers = dedupe(cfg.Printers)
	if err := cfg.CheckPolicies(); err != nil {
		return nil, err
	}
	if cfg.Version == "" {
		cfg.Version = Version
	}
	if cfg.LoginWait <= 0 {
		cfg.LoginWait = 5 * time.Second
	}
	a := &Agent{
		cfg:     cfg,
		ring:    newLogRing(500),
		backoff: cfg.Backoff.withDefaults(),
		history: newJobHistory(100),
		conn:    &connState{},
		pub:     newPublisher(),
		kick:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		mem:     localapi.NewMemListener(),
	}
	if err := a.setupLogger(); err != nil {
		return nil, err
	}
	a.hostname = cfg.Hostname
	if a.hostname == "" {
		a.hostname, _ = os.Hostname()
	}
	a.hc, a.hcErr = newHTTPClient(cfg.CAFile)
	if a.hcErr != nil {
		a.log.Error("agent: CA file unusable; connections will fail until it is fixed", "error", a.hcErr)
	}
	switch cfg.SocketPath {
	case "":
		a.sockPath = localapi.DefaultSocketPath(cfg.StateDir)
	case "-":
	default:
		a.sockPath = cfg.SocketPath
	}
	poll := cfg.PrinterPoll
	if poll <= 0 {
		poll = 10 * time.Second
	}
	sources := cfg.PrinterSources
	if sources == nil && !cfg.NoDiscovery {
		sources = registry.DefaultSources()
	}
	settings, err := canonicalSettings(cfg.PrinterSettings)
	if err != nil {
		return nil, err
	}
	a.printers = newPrinterSet(cfg.Printers, cfg.OpenPrinter, sources, poll, a.log)
	a.printers.settings = settings
	if _, err := printer.ParseStatusMode(cfg.StatusMode); err != nil {
		return nil, fmt.Errorf("agent: %w: status mode: %v", ErrConfig, err)
	}
	a.printers.mode = cfg.StatusMode
	if a.printers.learned, err = loadLearned(cfg.StateDir); err != nil {
		a.log.Warn("agent: what was learnt about printers is lost", "error", err)
	}
	a.printers.onChange = a.notify
	a.handler = localapi.NewHandler(backend{a}, a.log).SetAccess(localapi.Access{
		PeerCred:   cfg.PeerCred,
		AdminGroup: cfg.AdminGroup,
	})

	var ks keystore.Store
	var ksErr error
	if cfg.Store != nil {
		ks = cfg.Store
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), keystore.DefaultProbeTimeout+time.Second)
		ks, ksErr = keystore.Open(ctx, cfg.Keystore, cfg.StateDir, keystore.WithLogger(a.log))
		cancel()
		if ksErr != nil {
			ksErr = fmt.Errorf("agent: keystore: %w", ksErr)
		}
	}
	a.creds = newCredentials(cfg.StateDir, cfg.ServerURL, ks, ksErr, a.log)
	a.svc = localapi.Service{Platform: servicePlatform()}
	a.conn.f.since = time.Now()
	a.conn.f.state = idleState(a.creds.snapshot())
	return a, nil
}

func (a *Agent) setupLogger() error {
	if a.cfg.Logger != nil {
		a.log = slog.New(&ringHandler{next: a.cfg.Logger.Handler(), ring: a.ring, ev: a.cfg.EventLog})
		return nil
	}
	lvl, err := ParseLevel(a.cfg.LogLevel)
	if err != nil {
		return err
	}
	var w io.Writer = os.Stderr
	if a.cfg.LogFile {
		f, err := openLogFile(filepath.Join(a.cfg.StateDir, logDirName))
		if err != nil {
			return err
		}
		a.logFile = f
		w = io.MultiWriter(os.Stderr, f)
	}
	h := slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl})
	a.log = slog.New(&ringHandler{next: h, ring: a.ring, ev: a.cfg.EventLog})
	return nil
}

// Logger is the agent's logger (its records also feed GET /localapi/v0/logs).
func (a *Agent) Logger() *slog.Logger { return a.log }

// StateDir is the agent's state directory (absolute).
func (a *Agent) StateDir() string { return a.cfg.StateDir }

// SocketPath is where the local API listens once started ("" when it has no socket).
func (a *Agent) SocketPath() string { return a.sockPath }

// Handler is the local API handler, for serving it elsewhere.
func (a *Agent) Handler() http.Handler { return a.handler }

// Client is a local API client connected in memory to this agent (no socket needed); it works once
// the agent is started. The desktop app uses it when it runs the agent in-process.
func (a *Agent) Client() *localapi.Client { return localapi.NewClientDialer(a.mem.Dial) }

// KeystoreBackend names the keystore in use ("keyring" or "file"), or "" when it could not be opened.
func (a *Agent) KeystoreBackend() string {
	if a.creds.ks == nil {
		return ""
	}
	return a.creds.ks.Backend()
}

// Start starts the agent and returns at once: the local API listener (an error if another agent
// already listens there), the printer poller and the session loop. The agent runs until ctx is done or
// Stop is called.
func (a *Agent) Start(ctx context.Context) error {
	a.mu.Lock()
	if a.started {
		a.mu.Unlock()
		return ErrAlreadyStarted
	}
	a.started = true
	a.mu.Unlock()

	if err := PrepareStateDir(a.cfg.StateDir); err != nil {
		return a.failStart(err)
	}
	// Windows: the service's %ProgramData%\printdock, agent.json, state and spool (statedir_windows.go).
	if err := secureStateDir(a.cfg.StateDir, a.log); err != nil {
		return a.failStart(err)
	}
	id, err := installationID(a.cfg.StateDir, true)
	if err != nil {
		return a.failStart(err)
	}
	sp, err := spool.Open(ctx, a.cfg.StateDir)
	if err != nil {
		return a.failStart(fmt.Errorf("agent: %w", err))
	}
	rctx, cancel := context.WithCancel(ctx)
	serveErr := make(chan error, 3) // the two listeners, the spool
	var serving sync.WaitGroup
	if a.sockPath != "" {
		ln, err := localapi.Listen(ctx, a.sockPath)
		if err != nil {
			cancel()
			sp.Close()
			return a.failStart(fmt.Errorf("agent: local API: %w", err))
		}
		serving.Go(func() { serveErr <- localapi.Serve(rctx, ln, a.handler) })
	}
	serving.Go(func() { serveErr <- localapi.Serve(rctx, a.mem, a.handler) })

	// The keystore is read before any lock is taken.
	var secret string
	var kerr error
	if a.creds.ks == nil {
		kerr = a.creds.ksErr
	} else if secret, kerr = a.creds.ks.Get(ctx); kerr != nil {
		if isNotFound(kerr) {
			kerr = nil
		} else {
			kerr = fmt.Errorf("agent: read secret: %w", kerr)
		}
	}

	spr := newSpooler(a.spoolerDeps(), sp)
	a.creds.update(func(f *credFields) bool {
		f.instID, f.secret = id, secret
		return false
	})
	a.mu.Lock()
	a.spool, a.spooler = sp, spr
	a.running = true
	a.cancel = cancel
	a.svc.Running = !isInteractive()
	a.svc.Installed = a.svc.Installed || a.svc.Running
	a.mu.Unlock()
	if kerr != nil {
		a.log.Error("agent: cannot read the secret", "error", kerr)
	}
	c := a.creds.snapshot()
	a.setConn(func(f *connFields) {
		if kerr != nil {
			f.setError(kerr)
		}
		f.setState(idleState(c))
	})

	a.log.Info("agent: started", "version", a.cfg.Version, "state_dir", a.cfg.StateDir,
		"socket", a.sockPath, "keystore", a.KeystoreBackend(), "installation_id", id, "printers", len(a.cfg.Printers))

	if err := spr.start(rctx); err != nil {
		a.log.Error("agent: cannot read the spool", "error", err)
		serveErr <- err
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a.printers.run(rctx) }()
	go func() { defer wg.Done(); a.loop(rctx) }()
	go func() {
		var ferr error
		select {
		case <-rctx.Done():
		case err := <-serveErr:
			if err != nil && rctx.Err() == nil {
				ferr = fmt.Errorf("agent: local API: %w", err)
				a.log.Error("agent: local API failed", "error", err)
			}
		}
		cancel()
		wg.Wait()
		spr.wait()     // printer writes under way finish (or their grace period ends)
		serving.Wait() // the socket is closed and removed
		a.printers.close()
		a.mu.Lock()
		a.spool, a.spooler = nil, nil
		a.mu.Unlock()
		if err := sp.Close(); err != nil {
			a.log.Warn("agent: closing the spool", "error", err)
		}
		a.mem.Close()
		a.mu.Lock()
		a.running = false
		a.waitErr = ferr
		a.mu.Unlock()
		a.pub.close()
		a.log.Info("agent: stopped")
		if a.logFile != nil {
			a.logFile.Close()
		}
		close(a.done)
	}()
	return nil
}

func (a *Agent) failStart(err error) error {
	a.mu.Lock()
	a.started = false
	a.mu.Unlock()
	return err
}

// Stop stops a started agent and waits until it has stopped. It does nothing on an agent that was
// never started.
func (a *Agent) Stop() {
	a.mu.Lock()
	cancel, started := a.cancel, a.started
	a.mu.Unlock()
	if !started || cancel == nil {
		return
	}
	cancel()
	<-a.done
}

// Wait blocks until the started agent stops and returns why: nil after Stop or the end of Start's
// context, an error when a part of the agent failed.
func (a *Agent) Wait() error {
	a.mu.Lock()
	started := a.started
	a.mu.Unlock()
	if !started {
		return ErrNotStarted
	}
	<-a.done
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.waitErr
}

// Done is closed when a started agent has stopped.
func (a *Agent) Done() <-chan struct{} { return a.done }

func (a *Agent) isRunning() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.running
}

// cancelSession ends the current session, if any (after a login or logout).
func (a *Agent) cancelSession() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sessCancel != nil {
		a.sessCancel()
	}
}

// logoutMessage is the plain-language text for a logout reason.
func logoutMessage(reason string) string {
	switch reason {
	case protocol.ReasonRotated:
		return "The secret was rotated on the server. Sign in again with the new secret."
	case protocol.ReasonRevoked:
		return "The secret was revoked on the server. Ask your administrator for a new one and sign in again."
	case protocol.ReasonDeactivated:
		return "The key was deactivated on the server. Sign in again when an administrator reactivates it."
	case protocol.ReasonDeleted:
		return "The key was deleted on the server. Ask your administrator for a new secret and sign in again."
	case protocol.ReasonOwnSecret:
		return "This device was given its own secret instead of the shared secret (its device ID stays the same). Paste the new secret from your administrator to sign in again."
	case protocol.ReasonSharedSecret:
		return "This device now uses the portal's shared secret. Sign in again with the shared secret and this device's ID (your administrator has both)."
	case protocol.ReasonInUse:
		return "This secret is already used on another computer. Ask your administrator for a new one and sign in again."
	case protocol.ReasonExpired:
		return "The key expired on the server. Ask your administrator for a new secret and sign in again."
	default:
		return "The server no longer accepts the stored secret. Sign in again with a current secret."
	}
}
