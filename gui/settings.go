package gui

import (
	"context"
	"errors"
	"io/fs"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"printdock/agent/localapi"
)

// settingsScreen shows the agent service's condition (with Install/Start or the commands for IT), the
// keystore, the log folder and the versions (the About part).
type settingsScreen struct {
	u       *UI
	content fyne.CanvasObject

	installed, running, agentBin, keystore, logDir, stateDir, version *widget.Label

	// Service control (nil ctl: the Backend cannot install or start the service).
	ctl     ServiceControl
	access  ServiceAccess
	svc     localapi.Service // from ctl.ServiceStatus, newer than the agent's own view
	haveSvc bool
	busy    bool // an Install/Start is running

	inProc   *widget.Label
	install  *widget.Button
	start    *widget.Button
	svcMsg   *widget.Label
	command  *widget.Label
	openLogs *widget.Button
	logPath  string
}

// serviceCommands are the exact commands IT runs (on goos) to install and start the agent service: for
// acc.Agent's binary, or by its bare name when it was not found or was found in PATH.
func serviceCommands(goos string, acc ServiceAccess) string {
	if goos == "windows" {
		exe := "printdock-agent.exe"
		if acc.Agent != "" && acc.FoundIn != FoundInPath {
			exe = "& '" + strings.ReplaceAll(acc.Agent, "'", "''") + "'"
		}
		return "In PowerShell opened with “Run as administrator”:\n  " + exe + " install; if ($?) { " + exe + " start }"
	}
	exe := "printdock-agent"
	if acc.Agent != "" && acc.FoundIn != FoundInPath {
		exe = shellQuote(acc.Agent)
	}
	return "In a terminal:\n  sudo " + exe + " install && sudo " + exe + " start"
}

// FoundInPath is the ServiceAccess.FoundIn of an agent binary found through PATH (the commands for IT
// then name it without its folder).
const FoundInPath = "in PATH"

func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`!*?[]{}()<>|&;#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func newSettingsScreen(u *UI) *settingsScreen {
	s := &settingsScreen{u: u}
	val := func() *widget.Label {
		l := widget.NewLabel("—")
		l.Selectable = true
		l.Wrapping = fyne.TextWrapBreak
		return l
	}
	s.installed, s.running, s.agentBin, s.keystore, s.logDir, s.stateDir, s.version = val(), val(), val(), val(), val(), val(), val()
	s.version.SetText(versionText(u.opts.Version, ""))
	bold := func(t string) *widget.Label {
		return widget.NewLabelWithStyle(t, fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
	}

	s.inProc = widget.NewLabel(u.opts.InProcessNote)
	s.inProc.Wrapping = fyne.TextWrapWord
	s.inProc.Importance = widget.WarningImportance
	if u.opts.InProcessNote == "" {
		s.inProc.Hide()
	}

	s.ctl, _ = u.b.(ServiceControl)
	if s.ctl != nil {
		s.access = s.ctl.ServiceAccess()
	}
	canControl := s.canControl()
	s.svcMsg = widget.NewLabel("")
	s.svcMsg.Wrapping = fyne.TextWrapWord
	s.svcMsg.Hide()
	s.install = widget.NewButtonWithIcon("Install service", theme.DownloadIcon(), func() {
		s.serviceAction("Installing the service…", "install", s.ctl.InstallService)
	})
	s.start = widget.NewButtonWithIcon("Start service", theme.MediaPlayIcon(), func() {
		s.serviceAction("Starting the service…", "start", s.ctl.StartService)
	})
	if !canControl {
		s.install.Hide()
		s.start.Hide()
	}
	agentRow := []fyne.CanvasObject{}
	if s.ctl != nil {
		if s.access.Agent != "" {
			s.agentBin.SetText(s.access.Agent + " (found " + s.access.FoundIn + ")")
		} else {
			s.agentBin.SetText("printdock-agent was not found next to this app or in PATH")
		}
		agentRow = []fyne.CanvasObject{bold("Agent program"), s.agentBin}
	}
	intro := "To run printdock as a service, so that labels print even when this app is closed, IT runs:\n"
	switch {
	case canControl:
		intro = "If the buttons do not work, ask IT to run:\n"
	case s.ctl != nil && s.access.Agent == "":
		intro = "Install the printdock agent package first. Then, to run printdock as a service so that labels print even when this app is closed, IT runs:\n"
	case s.ctl != nil:
		intro = "Installing a service needs administrator rights, which this account does not have here. To run printdock as a service, so that labels print even when this app is closed, IT runs:\n"
	}
	s.command = widget.NewLabel(intro + serviceCommands(runtime.GOOS, s.access))
	s.command.Selectable = true
	s.command.Wrapping = fyne.TextWrapWord
	s.command.TextStyle = fyne.TextStyle{Monospace: true}

	s.openLogs = widget.NewButtonWithIcon("Open log folder", theme.FolderOpenIcon(), s.openLogFolder)
	s.openLogs.Disable()

	heading := func(t string) *widget.Label {
		l := widget.NewLabelWithStyle(t, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		l.SizeName = theme.SizeNameSubHeadingText
		return l
	}
	s.content = container.NewVScroll(container.NewPadded(container.NewVBox(
		heading("printdock service"),
		s.inProc,
		container.New(layout.NewFormLayout(), append([]fyne.CanvasObject{
			bold("Installed"), s.installed,
			bold("Running"), s.running,
		}, agentRow...)...),
		container.NewHBox(s.install, s.start),
		s.svcMsg,
		s.command,
		widget.NewSeparator(),
		heading("About"),
		container.New(layout.NewFormLayout(),
			bold("Secret stored in"), s.keystore,
			bold("State folder"), s.stateDir,
			bold("Log folder"), s.logDir,
			bold("Version"), s.version,
		),
		container.NewHBox(s.openLogs),
	)))
	return s
}

func versionText(app, agent string) string {
	if app == "" {
		app = "dev"
	}
	t := "printdock " + app
	if agent != "" && agent != app {
		t += " · agent " + agent
	}
	return t
}

func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

func keystoreText(k string) string {
	switch k {
	case "keyring":
		if runtime.GOOS == "windows" {
			return "Windows Credential Manager"
		}
		return "The system keyring (Secret Service)"
	case "file":
		return "A protected file readable only by the service account"
	case "":
		return "—"
	}
	return k
}

// canControl reports whether the Install / Start buttons are offered.
func (s *settingsScreen) canControl() bool {
	return s.ctl != nil && s.access.Allowed && s.access.Agent != ""
}

// render shows st. Main goroutine only.
func (s *settingsScreen) render(st localapi.Status) {
	s.renderService(st)
	s.keystore.SetText(keystoreText(st.Keystore))
	s.stateDir.SetText(orDash(st.StateDir))
	s.logDir.SetText(orDash(st.LogDir))
	s.logPath = st.LogDir
	if st.LogDir != "" {
		s.openLogs.Enable()
	} else {
		s.openLogs.Disable()
	}
	s.version.SetText(versionText(s.u.opts.Version, st.Version))
}

// renderService shows the service's condition: the service manager's answer to ServiceStatus when
// there is one, else what the agent reported in st. Main goroutine only.
func (s *settingsScreen) renderService(st localapi.Status) {
	svc := st.Service
	if s.haveSvc {
		svc = s.svc
		if svc.Platform == "" {
			svc.Platform = st.Service.Platform
		}
	}
	inst := yesNo(svc.Installed)
	if svc.Platform != "" {
		inst += " (" + svc.Platform + ")"
	}
	s.installed.SetText(inst)
	run := yesNo(svc.Running)
	if st.InProcess {
		run += " — the agent runs inside this app and stops when you quit it"
	}
	s.running.SetText(run)
	if s.busy || svc.Installed {
		s.install.Disable()
	} else {
		s.install.Enable()
	}
	if s.busy || !svc.Installed || svc.Running {
		s.start.Disable()
	} else {
		s.start.Enable()
	}
}

// refreshService asks the service manager for the service's condition (when the Backend can) and
// shows it. Main goroutine only.
func (s *settingsScreen) refreshService() {
	if s.ctl == nil {
		return
	}
	s.u.goBackground(func(ctx context.Context) {
		rctx, cancel := s.u.reqCtx(ctx)
		defer cancel()
		svc, err := s.ctl.ServiceStatus(rctx)
		s.u.do(func() { s.applyService(svc, err) })
	})
}

// applyService shows a ServiceStatus answer. Main goroutine only.
func (s *settingsScreen) applyService(svc localapi.Service, err error) {
	if err != nil {
		s.u.log.Warn("printdock: service status", "err", err)
	} else {
		s.svc, s.haveSvc = svc, true
	}
	st, _ := s.u.Status()
	s.renderService(st)
}

// serviceAction runs an Install or Start, then shows the result and the service's new condition.
// Main goroutine only.
func (s *settingsScreen) serviceAction(msg, verb string, fn func(context.Context) error) {
	s.busy = true
	s.install.Disable()
	s.start.Disable()
	s.svcMsg.Importance = widget.MediumImportance
	s.svcMsg.SetText(msg)
	s.svcMsg.Show()
	s.u.goBackground(func(ctx context.Context) {
		rctx, cancel := s.u.reqCtx(ctx)
		defer cancel()
		err := fn(rctx)
		svc, serr := s.ctl.ServiceStatus(rctx)
		s.u.do(func() {
			s.busy = false
			if err != nil {
				s.svcMsg.Importance = widget.DangerImportance
				s.svcMsg.SetText(serviceErrorText(verb, err))
			} else {
				s.svcMsg.Importance = widget.SuccessImportance
				s.svcMsg.SetText(map[string]string{"install": "The service is installed.", "start": "The service is started."}[verb])
			}
			s.applyService(svc, serr)
		})
	})
}

// serviceErrorText explains in plain words why installing or starting the service failed.
func serviceErrorText(verb string, err error) string {
	t := "Could not " + verb + " the service: "
	switch {
	case errors.Is(err, fs.ErrPermission):
		t += "this account is not allowed to (it needs administrator rights)."
	case errors.Is(err, context.DeadlineExceeded):
		t += "the service manager did not answer in time."
	default:
		m := strings.TrimRight(err.Error(), ". ")
		t += m + "."
	}
	return t + " Ask IT to run the commands below."
}

func (s *settingsScreen) openLogFolder() {
	if s.logPath == "" {
		return
	}
	p := filepath.ToSlash(s.logPath)
	if runtime.GOOS == "windows" {
		p = "/" + p
	}
	if err := s.u.app.OpenURL(&url.URL{Scheme: "file", Path: p}); err != nil {
		s.svcMsg.SetText("Could not open the log folder (" + s.logPath + "): " + err.Error())
		s.svcMsg.Show()
	}
}
