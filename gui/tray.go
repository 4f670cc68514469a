package gui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"

	"printdock/agent/localapi"
)

// tray is the system tray icon and menu, when the platform has one (desktop.App). Its menu shows the
// connection state and offers Open; Fyne appends Quit.
type tray struct {
	u     *UI
	desk  desktop.App
	menu  *fyne.Menu
	state *fyne.MenuItem
	icon  fyne.Resource
}

func newTray(u *UI) *tray {
	t := &tray{u: u}
	desk, ok := u.app.(desktop.App)
	if !ok {
		return t
	}
	t.desk = desk
	t.state = fyne.NewMenuItem("printdock: starting…", nil)
	t.state.Disabled = true
	open := fyne.NewMenuItem("Open printdock", func() {
		u.win.Show()
		u.win.RequestFocus()
	})
	t.menu = fyne.NewMenu("printdock", t.state, fyne.NewMenuItemSeparator(), open)
	desk.SetSystemTrayMenu(t.menu)
	t.setIcon(theme.DocumentPrintIcon())
	desk.SetSystemTrayWindow(u.win)
	// With a tray the app keeps running (and the agent keeps printing, when it runs inside the app)
	// after the window is closed; Quit is in the tray menu.
	u.win.SetCloseIntercept(u.win.Hide)
	return t
}

func (t *tray) setIcon(r fyne.Resource) {
	if t.desk == nil || r == t.icon {
		return
	}
	t.icon = r
	t.desk.SetSystemTrayIcon(r)
}

// render shows st in the tray. Main goroutine only.
func (t *tray) render(st localapi.Status) {
	if t.desk == nil {
		return
	}
	switch st.State {
	case localapi.StateConnected:
		t.setIcon(theme.DocumentPrintIcon())
	case localapi.StateConnecting:
		t.setIcon(theme.ViewRefreshIcon())
	default:
		t.setIcon(theme.ErrorIcon())
	}
	t.renderText(stateTitle(st))
}

// renderText sets the tray menu's state line. Main goroutine only.
func (t *tray) renderText(text string) {
	if t.desk == nil {
		return
	}
	t.state.Label = "printdock: " + text
	t.menu.Refresh()
}
