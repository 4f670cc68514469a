// Package agent is the core of printdock-agent: one websocket session to printdock-server (connect,
// authenticate, hello, printers, heartbeat, reconnect with backoff, forced logout), the printers it
// reports, the jobs it receives (through a JobHandler), and the local API it serves (package
// agent/localapi). It is a library type with a non-blocking Start, Stop and Wait, used by the OS service,
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
	"printdock/printer/registry"
	"printdock/protocol"
)

// Agent is one printdock agent. Create it with New; all methods are safe for concurrent use.
type Agent struct {
	cfg      Config
	log      *slog.Logger
	ring     *logRing
	logFile  io.Closer
	hc       *http.Client
	hcErr    error
	backoff  Backoff
	jobs     JobHandler
	printers *printerSet
	history  *jobHistory
	spool    *spool.Spool // open while a started agent runs (nil with a custom JobHandler)
	spooler  *spooler
	hostname string
	handler  *localapi.Handler
	mem      *localapi.MemListener
	sockPath string

	ks    keystore.Store
	ksErr error

	dials     atomic.Int64 // websocket dial attempts
	idleWaits atomic.Int64 // times the session loop went idle waiting for a login

	mu         sync.Mutex
	p          persisted
	pErr       error
	instID     string
	secret     string
	gen        uint64 // incremented by every login and logout
	rt         runtimeState
	svc        localapi.Service
	subs       map[uint64]chan localapi.Status
	subSeq     uint64
	sessCancel context.CancelFunc
	started    bool
	running    bool
	stopped    bool
	cancel     context.CancelFunc
	runCtx     context.Context
	waitErr    error

	kick chan struct{} // wakes the session loop after a login
	done chan struct{} // closed when a started agent has stopped
}

// runtimeState is the part of Status that is not persisted.
type runtimeState struct {
	state     string
	since     time.Time
	nextRetry time.Time
	lastErr   string
	lastErrAt time.Time
	attempts  int
	heartbeat time.Duration
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
		subs:    map[uint64]chan localapi.Status{},
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
	a.jobs = cfg.JobHandler
	poll := cfg.PrinterPoll
	if poll <= 0 {
		poll = 10 * time.Second
	}
	sources := cfg.PrinterSources
	if sources == nil && !cfg.NoDiscovery {
		sources = registry.DefaultSources()
	}
	a.printers = newPrinterSet(cfg.Printers, cfg.OpenPrinter, sources, poll, a.log)
	a.printers.onChange = a.notify
	a.handler = localapi.NewHandler(backend{a}, a.log).SetAccess(localapi.Access{
		PeerCred:   cfg.PeerCred,
		AdminGroup: cfg.AdminGroup,
	})

	if cfg.Store != nil {
		a.ks = cfg.Store
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), keystore.DefaultProbeTimeout+time.Second)
		a.ks, a.ksErr = keystore.Open(ctx, cfg.Keystore, cfg.StateDir, keystore.WithLogger(a.log))
		cancel()
		if a.ksErr != nil {
			a.ksErr = fmt.Errorf("agent: keystore: %w", a.ksErr)
		}
	}
	a.p, a.pErr = loadPersisted(cfg.StateDir)
	a.instID, _ = installationID(cfg.StateDir, false)
	a.svc = localapi.Service{Platform: servicePlatform()}
	a.rt.since = time.Now()
	a.rt.state = a.idleStateLocked()
	return a, nil
}

func (a *Agent) setupLogger() error {
	if a.cfg.Logger != nil {
		a.log = slog.New(&ringHandler{next: a.cfg.Logger.Handler(), ring: a.ring})
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
	a.log = slog.New(&ringHandler{next: h, ring: a.ring})
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
	if a.ks == nil {
		return ""
	}
	return a.ks.Backend()
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

	if err := os.MkdirAll(a.cfg.StateDir, 0o700); err != nil {
		return a.failStart(fmt.Errorf("agent: state dir: %w", err))
	}
	id, err := installationID(a.cfg.StateDir, true)
	if err != nil {
		return a.failStart(err)
	}
	var sp *spool.Spool
	if a.jobs == nil {
		if sp, err = spool.Open(ctx, a.cfg.StateDir); err != nil {
			return a.failStart(fmt.Errorf("agent: %w", err))
		}
	}
	rctx, cancel := context.WithCancel(ctx)
	serveErr := make(chan error, 3) // the two listeners, the spool
	var serving sync.WaitGroup
	if a.sockPath != "" {
		ln, err := localapi.Listen(ctx, a.sockPath)
		if err != nil {
			cancel()
			if sp != nil {
				sp.Close()
			}
			return a.failStart(fmt.Errorf("agent: local API: %w", err))
		}
		serving.Go(func() { serveErr <- localapi.Serve(rctx, ln, a.handler) })
	}
	serving.Go(func() { serveErr <- localapi.Serve(rctx, a.mem, a.handler) })

	var secret string
	var kerr error
	if a.ks == nil {
		kerr = a.ksErr
	} else {
		secret, kerr = a.ks.Get(ctx)
		if kerr != nil && !isNotFound(kerr) {
			kerr = fmt.Errorf("agent: read secret: %w", kerr)
		} else if kerr != nil {
			kerr = nil
		}
	}

	var spr *spooler
	if sp != nil {
		spr = newSpooler(a, sp)
	}
	a.mu.Lock()
	a.instID = id
	a.spool, a.spooler = sp, spr
	a.running = true
	a.cancel = cancel
	a.runCtx = rctx
	a.secret = secret
	a.svc.Running = !isInteractive()
	a.svc.Installed = a.svc.Installed || a.svc.Running
	if kerr != nil {
		a.setErrorLocked(kerr)
		a.log.Error("agent: cannot read the secret", "error", kerr)
	}
	a.setStateLocked(a.idleStateLocked())
	a.mu.Unlock()

	a.log.Info("agent: started", "version", a.cfg.Version, "state_dir", a.cfg.StateDir,
		"socket", a.sockPath, "keystore", a.KeystoreBackend(), "installation_id", id, "printers", len(a.cfg.Printers))

	if spr != nil {
		if err := spr.start(rctx); err != nil {
			a.log.Error("agent: cannot read the spool", "error", err)
			serveErr <- err
		}
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
		if spr != nil {
			spr.wait() // printer writes under way finish (or their grace period ends)
		}
		serving.Wait() // the socket is closed and removed
		a.printers.close()
		if sp != nil {
			a.mu.Lock()
			a.spool, a.spooler = nil, nil
			a.mu.Unlock()
			if err := sp.Close(); err != nil {
				a.log.Warn("agent: closing the spool", "error", err)
			}
		}
		a.mem.Close()
		a.mu.Lock()
		a.running = false
		a.stopped = true
		a.waitErr = ferr
		a.closeSubsLocked()
		a.mu.Unlock()
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

// Status returns the agent's state.
func (a *Agent) Status() localapi.Status {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.statusLocked()
}

// Subscribe returns a channel that receives the newest Status after every change and a function that
// ends the subscription. A slow reader loses intermediate values, never the latest. The channel is
// closed when the agent stops or cancel is called.
func (a *Agent) Subscribe() (<-chan localapi.Status, func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopped {
		ch := make(chan localapi.Status)
		close(ch)
		return ch, func() {}
	}
	return a.subscribeLocked()
}

func (a *Agent) closeSubsLocked() {
	for id, c := range a.subs {
		delete(a.subs, id)
		close(c)
	}
}

// notify publishes the current Status to subscribers.
func (a *Agent) notify() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.notifyLocked()
}

func (a *Agent) notifyLocked() {
	if len(a.subs) == 0 {
		return
	}
	st := a.statusLocked()
	for _, c := range a.subs {
		select {
		case c <- st:
		default:
			select {
			case <-c:
			default:
			}
			c <- st
		}
	}
}

// idleStateLocked is the state when no session is active: not_logged_in, logged_out, or connecting
// when a secret is there.
func (a *Agent) idleStateLocked() string {
	switch {
	case a.secret != "" && a.serverURLLocked() != "":
		return localapi.StateConnecting
	case a.p.LogoutReason != "":
		return localapi.StateLoggedOut
	default:
		return localapi.StateNotLoggedIn
	}
}

func (a *Agent) serverURLLocked() string {
	if a.p.ServerURL != "" {
		return a.p.ServerURL
	}
	return a.cfg.ServerURL
}

func (a *Agent) setStateLocked(s string) {
	if a.rt.state != s {
		a.rt.state = s
		a.rt.since = time.Now()
	}
	if s != localapi.StateConnecting {
		a.rt.nextRetry = time.Time{}
	}
	a.notifyLocked()
}

func (a *Agent) setErrorLocked(err error) {
	if err == nil {
		a.rt.lastErr = ""
		a.rt.lastErrAt = time.Time{}
		return
	}
	a.rt.lastErr = err.Error()
	a.rt.lastErrAt = time.Now()
}

func tp(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (a *Agent) statusLocked() localapi.Status {
	if !a.running {
		// Another process (the CLI, the service) may have changed the state directory.
		if p, err := loadPersisted(a.cfg.StateDir); err == nil {
			a.p, a.pErr = p, nil
		} else {
			a.pErr = err
		}
		if id, err := installationID(a.cfg.StateDir, false); err == nil && id != "" {
			a.instID = id
		}
	}
	st := localapi.Status{
		State:          a.rt.state,
		ServerURL:      a.serverURLLocked(),
		Portal:         a.p.Portal,
		KeyKind:        a.p.KeyKind,
		KeyDesc:        a.p.KeyDesc,
		KeyPrefix:      a.p.KeyPrefix,
		DeviceID:       a.p.DeviceID,
		ClientID:       a.p.ClientID,
		Since:          tp(a.rt.since),
		NextRetry:      tp(a.rt.nextRetry),
		LastError:      a.rt.lastErr,
		LastErrorAt:    tp(a.rt.lastErrAt),
		LogoutReason:   a.p.LogoutReason,
		LogoutAt:       a.p.LogoutAt,
		Keystore:       a.KeystoreBackend(),
		Service:        a.svc,
		Version:        a.cfg.Version,
		InProcess:      a.cfg.InProcess,
		Printers:       a.printers.snapshot(),
		AgentRunning:   a.running,
		StateDir:       a.cfg.StateDir,
		InstallationID: a.instID,
		Attempts:       a.rt.attempts,
		HeartbeatSecs:  int(a.rt.heartbeat / time.Second),
	}
	if a.cfg.LogFile {
		st.LogDir = filepath.Join(a.cfg.StateDir, logDirName)
	}
	if !a.running {
		// Not running: the state comes from the state directory and the keystore.
		st.State = a.offlineStateLocked()
		if st.LastError == "" {
			switch {
			case a.ksErr != nil:
				st.LastError = a.ksErr.Error()
			case a.pErr != nil:
				st.LastError = a.pErr.Error()
			case st.State == localapi.StateConnecting:
				st.LastError = "the printdock agent is not running"
			}
		}
	}
	if st.State != localapi.StateLoggedOut {
		st.LogoutReason, st.LogoutAt = "", nil
	}
	if st.Printers == nil {
		st.Printers = []localapi.Printer{}
	}
	return st
}

// offlineStateLocked looks at the keystore: a stored secret means the agent would connect.
func (a *Agent) offlineStateLocked() string {
	if a.hasStoredSecret() {
		if a.serverURLLocked() != "" {
			return localapi.StateConnecting
		}
	}
	if a.p.LogoutReason != "" {
		return localapi.StateLoggedOut
	}
	return localapi.StateNotLoggedIn
}

func (a *Agent) hasStoredSecret() bool {
	if a.ks == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	s, err := a.ks.Get(ctx)
	return err == nil && s != ""
}

// savePersistedLocked writes state.json; a failure is logged and shown in Status (the agent keeps
// working with what it has in memory).
func (a *Agent) savePersistedLocked() {
	if err := savePersisted(a.cfg.StateDir, a.p); err != nil {
		a.log.Error("agent: cannot save state", "error", err)
		a.setErrorLocked(err)
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
	default:
		return "The server no longer accepts the stored secret. Sign in again with a current secret."
	}
}
