package gui

import (
	"context"
	"net/url"
	"path/filepath"
	"runtime"

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

	installed, running, keystore, logDir, stateDir, version *widget.Label

	inProc   *widget.Label
	install  *widget.Button
	start    *widget.Button
	svcMsg   *widget.Label
	command  *widget.Label
	openLogs *widget.Button
	logPath  string
}

// serviceCommands are the exact commands IT runs to install and start the agent service.
func serviceCommands() string {
	if runtime.GOOS == "windows" {
		return "In an administrator command prompt:\n  printdock-agent.exe install\n  printdock-agent.exe start"
	}
	return "In a terminal:\n  sudo printdock-agent install\n  sudo printdock-agent start"
}

func newSettingsScreen(u *UI) *settingsScreen {
	s := &settingsScreen{u: u}
	val := func() *widget.Label {
		l := widget.NewLabel("—")
		l.Selectable = true
		l.Wrapping = fyne.TextWrapBreak
		return l
	}
	s.installed, s.running, s.keystore, s.logDir, s.stateDir, s.version = val(), val(), val(), val(), val(), val()
	s.version.SetText(versionText(u.opts.Version, ""))

	s.inProc = widget.NewLabel(u.opts.InProcessNote)
	s.inProc.Wrapping = fyne.TextWrapWord
	s.inProc.Importance = widget.WarningImportance
	if u.opts.InProcessNote == "" {
		s.inProc.Hide()
	}

	ctl, canControl := u.b.(ServiceControl)
	s.svcMsg = widget.NewLabel("")
	s.svcMsg.Wrapping = fyne.TextWrapWord
	s.svcMsg.Hide()
	s.install = widget.NewButtonWithIcon("Install service", theme.DownloadIcon(), func() {
		s.serviceAction("Installing the service…", ctl.ServiceInstall)
	})
	s.start = widget.NewButtonWithIcon("Start service", theme.MediaPlayIcon(), func() {
		s.serviceAction("Starting the service…", ctl.ServiceStart)
	})
	if !canControl {
		s.install.Hide()
		s.start.Hide()
	}
	intro := "To run printdock as a service, so that labels print even when this app is closed, IT runs:\n"
	if canControl {
		intro = "If the buttons are not allowed on this computer, ask IT to run these commands.\n"
	}
	s.command = widget.NewLabel(intro + serviceCommands())
	s.command.Selectable = true
	s.command.Wrapping = fyne.TextWrapWord
	s.command.TextStyle = fyne.TextStyle{Monospace: true}

	s.openLogs = widget.NewButtonWithIcon("Open log folder", theme.FolderOpenIcon(), s.openLogFolder)
	s.openLogs.Disable()

	bold := func(t string) *widget.Label {
		return widget.NewLabelWithStyle(t, fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
	}
	heading := func(t string) *widget.Label {
		l := widget.NewLabelWithStyle(t, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		l.SizeName = theme.SizeNameSubHeadingText
		return l
	}
	s.content = container.NewVScroll(container.NewPadded(container.NewVBox(
		heading("printdock service"),
		s.inProc,
		container.New(layout.NewFormLayout(),
			bold("Installed"), s.installed,
			bold("Running"), s.running,
		),
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

// render shows st. Main goroutine only.
func (s *settingsScreen) render(st localapi.Status) {
	inst := yesNo(st.Service.Installed)
	if st.Service.Platform != "" {
		inst += " (" + st.Service.Platform + ")"
	}
	s.installed.SetText(inst)
	run := yesNo(st.Service.Running)
	if st.InProcess {
		run += " — the agent runs inside this app and stops when you quit it"
	}
	s.running.SetText(run)
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
	if st.Service.Installed {
		s.install.Disable()
	} else {
		s.install.Enable()
	}
	if !st.Service.Installed || st.Service.Running {
		s.start.Disable()
	} else {
		s.start.Enable()
	}
}

func (s *settingsScreen) serviceAction(msg string, fn func(context.Context) error) {
	s.install.Disable()
	s.start.Disable()
	s.svcMsg.SetText(msg)
	s.svcMsg.Show()
	s.u.goBackground(func(ctx context.Context) {
		rctx, cancel := s.u.reqCtx(ctx)
		defer cancel()
		err := fn(rctx)
		s.u.do(func() {
			if err != nil {
				s.svcMsg.SetText("That did not work: " + errorText(err) + " Ask IT to run the commands below.")
			} else {
				s.svcMsg.SetText("Done.")
			}
			if st, ok := s.u.Status(); ok {
				s.render(st)
			}
		})
	})
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
