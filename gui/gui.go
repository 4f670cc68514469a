// Package gui owns the printdock desktop app's screens: sign in, status, printers, jobs and
// settings/about, the tray menu and the forced-logout notification. It renders what the agent reports
// through a Backend (the agent's local API) and holds no business logic: every decision about keys,
// connections and printers is the agent's.
//
// Threading: widgets are touched only on the Fyne main goroutine. Work that talks to the agent runs on
// goroutines of its own and hands its result back through fyne.Do.
//
// The package does not import fyne.io/fyne/v2/app, so its tests run headless with
// `CGO_ENABLED=0 go test -tags ci ./gui/...`.
package gui

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"

	"printdock/agent/localapi"
)

// Backend is what the screens need from the agent. *localapi.Client satisfies it; tests use a fake.
type Backend interface {
	Status(ctx context.Context) (localapi.Status, error)
	Login(ctx context.Context, req localapi.LoginRequest) (localapi.Status, error)
	Logout(ctx context.Context) (localapi.Status, error)
	Printers(ctx context.Context) ([]localapi.Printer, error)
	TestPrint(ctx context.Context, req localapi.TestPrintRequest) (localapi.TestPrintResult, error)
	Jobs(ctx context.Context) ([]localapi.Job, error)
	// Watch follows the agent's Status until ctx is done, then closes the channel: the current Status
	// first, then one per change. While no agent answers it sends a Status with an empty State and
	// LastError saying why, and resumes when the agent is back (localapi.Client.Watch).
	Watch(ctx context.Context) <-chan localapi.Status
}

// JobDiscarder is an optional capability of a Backend (localapi.Client has it): discarding a job that
// waits on its printer, so that it never prints. The Jobs screen offers a Discard button for such jobs
// only when the Backend has it; the agent decides (the app holds no job logic).
type JobDiscarder interface {
	DiscardJob(ctx context.Context, id string) (localapi.Job, error)
}

// ServiceControl is an optional capability of a Backend: installing and starting the agent as an OS
// service from the app (cmd/printdock implements it with the agent's kardianos/service wrapper for the
// installed printdock-agent binary). The Settings screen offers its Install / Start buttons only when
// ServiceAccess says the user may (Linux: root; Windows: an elevated administrator) and an agent
// binary was found; it always shows the commands for IT as well.
type ServiceControl interface {
	// ServiceAccess says whether this user may install and start the service, and which agent binary
	// would be installed. It must not block.
	ServiceAccess() ServiceAccess
	// ServiceStatus asks the service manager whether the service is installed and running.
	ServiceStatus(ctx context.Context) (localapi.Service, error)
	InstallService(ctx context.Context) error
	StartService(ctx context.Context) error
}

// ServiceAccess is what ServiceControl.ServiceAccess reports.
type ServiceAccess struct {
	// Allowed: the user has the rights to install and start services (root / elevated token).
	Allowed bool
	// Agent is the printdock-agent binary the service would run, "" when none was found.
	Agent string
	// FoundIn says where Agent was found, e.g. "next to this app" or "in PATH".
	FoundIn string
}

// Screen names for Options.Screen and UI.Show.
const (
	ScreenSignIn   = "signin"
	ScreenStatus   = "status"
	ScreenPrinters = "printers"
	ScreenJobs     = "jobs"
	ScreenSettings = "settings"
)

// Screens lists the screen names in tab order.
var Screens = []string{ScreenStatus, ScreenSignIn, ScreenPrinters, ScreenJobs, ScreenSettings}

// Preference keys (fyne Preferences).
const prefServerURL = "server_url"

// Options configure a UI.
type Options struct {
	// Version is the desktop app's version, shown on the About screen.
	Version string
	// InProcessNote, when not empty, says that the agent runs inside the app (no service answered)
	// and is shown on the Status and Settings screens.
	InProcessNote string
	// Now returns the current time; nil means time.Now. Tests fix it.
	Now func() time.Time
	// Log receives the app's own diagnostics; nil means slog.Default().
	Log *slog.Logger
	// Timeout bounds each request to the agent; 0 means 30 s.
	Timeout time.Duration
	// Ready, when set, is called once on the main goroutine after the first status from the agent
	// has been rendered.
	Ready func()
}

// UI is the desktop app's window and everything in it.
type UI struct {
	app  fyne.App
	win  fyne.Window
	b    Backend
	opts Options
	log  *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	tabs   *container.AppTabs
	tabFor map[string]*container.TabItem

	signin   *signinScreen
	status   *statusScreen
	printers *printersScreen
	jobs     *jobsScreen
	settings *settingsScreen
	tray     *tray

	// Main-goroutine state.
	last        localapi.Status
	haveStatus  bool
	agentErr    string // why the agent cannot be reached, "" when it can
	notifiedFor time.Time
}

// New builds the window and its screens. Call Start to begin following the agent, then
// ShowAndRun (or app.Run) as usual.
func New(a fyne.App, b Backend, opts Options) *UI {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Timeout == 0 {
		opts.Timeout = 30 * time.Second
	}
	u := &UI{app: a, b: b, opts: opts, log: opts.Log, tabFor: map[string]*container.TabItem{}}
	u.ctx, u.cancel = context.WithCancel(context.Background())

	u.win = a.NewWindow("printdock")
	u.signin = newSigninScreen(u)
	u.status = newStatusScreen(u)
	u.printers = newPrintersScreen(u)
	u.jobs = newJobsScreen(u)
	u.settings = newSettingsScreen(u)

	item := func(name, title string, icon fyne.Resource, content fyne.CanvasObject) *container.TabItem {
		ti := container.NewTabItemWithIcon(title, icon, content)
		u.tabFor[name] = ti
		return ti
	}
	u.tabs = container.NewAppTabs(
		item(ScreenStatus, "Status", theme.InfoIcon(), u.status.content),
		item(ScreenSignIn, "Sign in", theme.LoginIcon(), u.signin.content),
		item(ScreenPrinters, "Printers", theme.DocumentPrintIcon(), u.printers.content),
		item(ScreenJobs, "Jobs", theme.ListIcon(), u.jobs.content),
		item(ScreenSettings, "Settings", theme.SettingsIcon(), u.settings.content),
	)
	u.tabs.OnSelected = func(ti *container.TabItem) {
		if ti == u.tabFor[ScreenJobs] {
			u.jobs.refresh()
		}
		if ti == u.tabFor[ScreenSignIn] {
			u.signin.focus()
		}
		if ti == u.tabFor[ScreenSettings] {
			u.settings.refreshService()
		}
	}
	u.win.SetContent(u.tabs)
	u.win.Resize(fyne.NewSize(760, 540))
	u.tray = newTray(u)
	return u
}

// Window returns the app's main window.
func (u *UI) Window() fyne.Window { return u.win }

// Start follows the agent: it loads the current status and then applies every update the agent
// pushes, reconnecting to the agent if the stream breaks. It returns at once.
func (u *UI) Start() {
	u.wg.Add(2)
	go u.watchLoop()
	go u.clockLoop()
	u.settings.refreshService()
}

// Stop ends the UI's background work and waits for it.
func (u *UI) Stop() {
	u.cancel()
	u.wg.Wait()
}

// Show selects a screen by name (see Screens); unknown names are ignored.
func (u *UI) Show(name string) {
	if ti, ok := u.tabFor[name]; ok {
		u.tabs.Select(ti)
	}
}

// TestPrint prints the built-in test label on printerID ("" = the first printer) and shows its
// preview on the Printers screen, as the screen's Test print button does. Main goroutine only.
func (u *UI) TestPrint(printerID string) {
	if printerID == "" && len(u.printers.order) > 0 {
		printerID = u.printers.order[0]
	}
	u.Show(ScreenPrinters)
	u.printers.testPrint(printerID)
}

// Current returns the name of the selected screen.
func (u *UI) Current() string {
	sel := u.tabs.Selected()
	for name, ti := range u.tabFor {
		if ti == sel {
			return name
		}
	}
	return ""
}

// Status returns the last status the UI received from the agent.
func (u *UI) Status() (localapi.Status, bool) { return u.last, u.haveStatus }

// do runs fn on the Fyne main goroutine unless the UI was stopped.
func (u *UI) do(fn func()) {
	if u.ctx.Err() != nil {
		return
	}
	fyne.Do(func() {
		if u.ctx.Err() == nil {
			fn()
		}
	})
}

// goBackground runs fn on a goroutine tracked by Stop.
func (u *UI) goBackground(fn func(ctx context.Context)) {
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		fn(u.ctx)
	}()
}

func (u *UI) reqCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, u.opts.Timeout)
}

// watchLoop applies every Status the agent reports. Backend.Watch survives agent restarts: while no
// agent answers it delivers a Status with an empty State and LastError saying why.
func (u *UI) watchLoop() {
	defer u.wg.Done()
	for st := range u.b.Watch(u.ctx) {
		if st.State == "" {
			msg := st.LastError
			u.do(func() { u.setAgentError(msg) })
			continue
		}
		u.do(func() { u.apply(st) })
	}
}

// clockLoop refreshes relative times ("next try in 12 s") once a second.
func (u *UI) clockLoop() {
	defer u.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-u.ctx.Done():
			return
		case <-t.C:
			u.do(u.tick)
		}
	}
}

func (u *UI) tick() {
	if u.haveStatus {
		u.status.render(u.last)
	}
	u.jobs.tick()
}

// apply renders a status the agent reported. Main goroutine only.
func (u *UI) apply(st localapi.Status) {
	prev, had := u.last, u.haveStatus
	u.last, u.haveStatus = st, true
	u.agentErr = ""
	u.status.render(st)
	u.signin.onStatus(st)
	u.printers.render(st.Printers)
	u.settings.render(st)
	u.tray.render(st)

	if !had && (st.State == localapi.StateNotLoggedIn) {
		u.Show(ScreenSignIn)
	}
	if !had && u.opts.Ready != nil {
		defer u.opts.Ready()
	}
	if st.State == localapi.StateLoggedOut && st.LogoutAt != nil && !st.LogoutAt.Equal(u.notifiedFor) &&
		(!had || prev.State != localapi.StateLoggedOut) {
		u.notifiedFor = *st.LogoutAt
		u.app.SendNotification(fyne.NewNotification("printdock signed out", logoutBanner(st)))
	}
}

// setAgentError shows that the agent cannot be reached. Main goroutine only.
func (u *UI) setAgentError(msg string) {
	u.agentErr = msg
	u.status.renderAgentError(agentDownText(msg))
	u.tray.renderText("Agent not reachable")
}

var _ Backend = (*localapi.Client)(nil)
