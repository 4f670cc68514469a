package gui

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"printdock/agent/localapi"
)

// statusScreen shows the connection: connected, reconnecting (with the next retry), signed out (with
// why and what to do) or not signed in.
type statusScreen struct {
	u       *UI
	content fyne.CanvasObject

	icon      *widget.Icon
	title     *widget.Label
	detail    *widget.Label
	banner    *fyne.Container
	bannerMsg *widget.Label
	inProc    *widget.Label
	alerts    *widget.Label // printers in alert (printerAlerts)

	server, portal, key, since *widget.Label

	signOut *widget.Button
	signIn  *widget.Button
}

func newStatusScreen(u *UI) *statusScreen {
	s := &statusScreen{u: u}
	s.icon = widget.NewIcon(theme.QuestionIcon())
	s.title = widget.NewLabelWithStyle("Waiting for the printdock agent…", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.title.SizeName = theme.SizeNameSubHeadingText
	s.detail = widget.NewLabel("")
	s.detail.Wrapping = fyne.TextWrapWord
	s.detail.Hide()

	s.bannerMsg = widget.NewLabel("")
	s.bannerMsg.Wrapping = fyne.TextWrapWord
	s.bannerMsg.Importance = widget.DangerImportance
	s.bannerMsg.TextStyle = fyne.TextStyle{Bold: true}
	goSignIn := widget.NewButtonWithIcon("Sign in with a new secret", theme.LoginIcon(), func() { u.Show(ScreenSignIn) })
	goSignIn.Importance = widget.HighImportance
	s.banner = container.NewVBox(
		container.NewBorder(nil, nil, widget.NewIcon(theme.WarningIcon()), nil, s.bannerMsg),
		container.NewHBox(goSignIn),
		widget.NewSeparator(),
	)
	s.banner.Hide()

	s.inProc = widget.NewLabel(u.opts.InProcessNote)
	s.inProc.Wrapping = fyne.TextWrapWord
	s.inProc.Importance = widget.WarningImportance
	s.alerts = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.alerts.Wrapping = fyne.TextWrapWord
	s.alerts.Importance = widget.DangerImportance
	s.alerts.Hide()
	if u.opts.InProcessNote == "" {
		s.inProc.Hide()
	}

	val := func() *widget.Label {
		l := widget.NewLabel("—")
		l.Selectable = true
		l.Truncation = fyne.TextTruncateEllipsis
		return l
	}
	s.server, s.portal, s.key, s.since = val(), val(), val(), val()
	bold := func(t string) *widget.Label {
		return widget.NewLabelWithStyle(t, fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
	}
	grid := container.New(layout.NewFormLayout(),
		bold("Server"), s.server,
		bold("Portal"), s.portal,
		bold("Key"), s.key,
		bold("Since"), s.since,
	)

	s.signOut = widget.NewButtonWithIcon("Sign out", theme.LogoutIcon(), s.logout)
	s.signIn = widget.NewButtonWithIcon("Sign in", theme.LoginIcon(), func() { u.Show(ScreenSignIn) })
	s.signOut.Hide()

	s.content = container.NewVScroll(container.NewPadded(container.NewVBox(
		s.banner,
		s.alerts,
		container.NewBorder(nil, nil, s.icon, nil, s.title),
		s.detail,
		s.inProc,
		widget.NewSeparator(),
		grid,
		container.NewHBox(layout.NewSpacer(), s.signIn, s.signOut),
	)))
	return s
}

// render shows st. Main goroutine only.
func (s *statusScreen) render(st localapi.Status) {
	now := s.u.opts.Now()
	s.title.SetText(stateTitle(st))
	detail := ""
	switch st.State {
	case localapi.StateConnected:
		s.icon.SetResource(theme.ConfirmIcon())
		detail = "Labels sent to this computer's printers will print."
	case localapi.StateConnecting:
		s.icon.SetResource(theme.ViewRefreshIcon())
		if st.NextRetry != nil {
			detail = fmt.Sprintf("Next try %s (at %s).", in(now, *st.NextRetry), st.NextRetry.Local().Format("15:04:05"))
		} else {
			detail = "Connecting to the server…"
		}
		if st.LastError != "" {
			detail = "Last attempt: " + st.LastError + "\n" + detail
		}
	case localapi.StateLoggedOut:
		s.icon.SetResource(theme.ErrorIcon())
		detail = "Labels will not print until this computer is signed in again."
	case localapi.StateNotLoggedIn:
		s.icon.SetResource(theme.LoginIcon())
		detail = "Sign in with the secret from the printdock portal to start printing."
	default:
		s.icon.SetResource(theme.QuestionIcon())
	}
	s.setDetail(detail)

	if st.State == localapi.StateLoggedOut {
		s.bannerMsg.SetText(logoutBanner(st))
		s.banner.Show()
	} else {
		s.banner.Hide()
	}
	if t := printerAlerts(st.Printers, now); t != "" {
		s.alerts.SetText(t)
		s.alerts.Show()
	} else {
		s.alerts.Hide()
	}
	if st.InProcess && s.u.opts.InProcessNote != "" {
		s.inProc.Show()
	} else if !st.InProcess {
		s.inProc.Hide()
	}

	s.server.SetText(orDash(st.ServerURL))
	s.portal.SetText(orDash(st.Portal))
	key := st.KeyDesc
	if k := keyKindText(st.KeyKind); k != "" {
		if key != "" {
			key += " (" + k + ")"
		} else {
			key = k
		}
	}
	if st.KeyPrefix != "" {
		key += " · " + st.KeyPrefix + "…"
	}
	if st.DeviceID != "" {
		key += " · device " + st.DeviceID
	}
	s.key.SetText(orDash(key))
	if st.Since != nil {
		s.since.SetText(clock(now, *st.Since) + " (" + ago(now, *st.Since) + ")")
	} else {
		s.since.SetText("—")
	}

	signedIn := st.State == localapi.StateConnected || st.State == localapi.StateConnecting
	switch {
	case signedIn:
		s.signOut.Show()
		s.signIn.Hide()
	case st.State == localapi.StateLoggedOut: // the banner has the button
		s.signOut.Hide()
		s.signIn.Hide()
	default:
		s.signOut.Hide()
		s.signIn.Show()
	}
}

func (s *statusScreen) setDetail(text string) {
	s.detail.SetText(text)
	if text == "" {
		s.detail.Hide()
	} else {
		s.detail.Show()
	}
}

// renderAgentError shows that the agent cannot be reached. Main goroutine only.
func (s *statusScreen) renderAgentError(msg string) {
	s.icon.SetResource(theme.ErrorIcon())
	s.title.SetText("printdock agent not reachable")
	s.setDetail(msg)
	s.banner.Hide()
}

func (s *statusScreen) logout() {
	s.signOut.Disable()
	s.u.goBackground(func(ctx context.Context) {
		rctx, cancel := s.u.reqCtx(ctx)
		defer cancel()
		st, err := s.u.b.Logout(rctx)
		s.u.do(func() {
			s.signOut.Enable()
			if err != nil {
				s.setDetail("Could not sign out: " + errorText(err))
				return
			}
			s.u.apply(st)
		})
	})
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
