package gui

import (
	"context"
	"net/url"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"printdock/agent/localapi"
	"printdock/protocol"
)

// signinScreen asks for the server address and a secret. The secret is checked locally (prefix,
// length, checksum) as it is typed or pasted; nothing is sent to the agent until it is valid.
type signinScreen struct {
	u       *UI
	content fyne.CanvasObject

	server      *widget.Entry
	serverErr   *widget.Label
	secret      *widget.Entry
	paste       *widget.Button
	secretErr   *widget.Label
	secretOK    *widget.Label
	deviceBox   *fyne.Container
	device      *widget.Entry
	submit      *widget.Button
	progress    *widget.ProgressBarInfinite
	progressBox *fyne.Container
	progressMsg *widget.Label
	result      *widget.Label

	busy     bool // a Login request is under way
	awaiting bool // Login returned; waiting for the agent to report connected
}

func newSigninScreen(u *UI) *signinScreen {
	s := &signinScreen{u: u}

	s.server = widget.NewEntry()
	s.server.SetPlaceHolder("https://print.example.com")
	s.server.SetText(u.app.Preferences().String(prefServerURL))
	s.server.OnSubmitted = func(string) { s.signIn() }
	s.server.OnChanged = func(string) { s.serverErr.Hide() }
	s.serverErr = dangerLabel()

	s.secret = widget.NewPasswordEntry() // its eye icon shows and hides the secret
	s.secret.SetPlaceHolder("pdc_… (paste the secret from the portal)")
	s.secret.OnChanged = func(string) { s.check() }
	s.secret.OnSubmitted = func(string) { s.signIn() }
	s.paste = widget.NewButtonWithIcon("Paste", theme.ContentPasteIcon(), s.pasteSecret)
	s.secretErr = dangerLabel()
	s.secretOK = widget.NewLabel("")
	s.secretOK.Importance = widget.SuccessImportance
	s.secretOK.Hide()

	s.device = widget.NewEntry()
	s.device.SetPlaceHolder("e.g. dock-3")
	s.device.OnSubmitted = func(string) { s.signIn() }
	s.device.OnChanged = func(string) { s.updateSubmit() }
	s.deviceBox = container.NewVBox(
		widget.NewLabelWithStyle("Device ID", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		s.device,
		hint("A shared secret is used by several computers: the device ID tells the server which one this is."),
	)
	s.deviceBox.Hide()

	s.submit = widget.NewButtonWithIcon("Sign in", theme.LoginIcon(), s.signIn)
	s.submit.Importance = widget.HighImportance
	s.submit.Disable()

	s.progress = widget.NewProgressBarInfinite()
	s.progress.Stop()
	s.progressMsg = widget.NewLabel("")
	s.progressBox = container.NewVBox(s.progressMsg, s.progress)
	s.progressBox.Hide()
	s.result = widget.NewLabel("")
	s.result.Wrapping = fyne.TextWrapWord
	s.result.Hide()

	form := container.NewVBox(
		widget.NewLabelWithStyle("Sign this computer in to printdock", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		hint("Paste the secret an administrator created for this printer in the printdock portal."),
		widget.NewLabelWithStyle("Server address", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		s.server,
		s.serverErr,
		widget.NewLabelWithStyle("Secret", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewBorder(nil, nil, nil, s.paste, s.secret),
		s.secretErr,
		s.secretOK,
		s.deviceBox,
		container.NewHBox(layout.NewSpacer(), s.submit),
		s.progressBox,
		s.result,
	)
	s.content = container.NewVScroll(container.NewPadded(minWidth(form, 460)))
	return s
}

func dangerLabel() *widget.Label {
	l := widget.NewLabel("")
	l.Importance = widget.DangerImportance
	l.Wrapping = fyne.TextWrapWord
	l.Hide()
	return l
}

func hint(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	l.Importance = widget.LowImportance
	return l
}

func (s *signinScreen) focus() {
	if c := s.u.win.Canvas(); c != nil {
		if s.server.Text == "" {
			c.Focus(s.server)
		} else {
			c.Focus(s.secret)
		}
	}
}

// pasteSecret puts the clipboard into the secret field (which checks it).
func (s *signinScreen) pasteSecret() {
	s.secret.SetText(protocol.NormalizeSecret(s.u.app.Clipboard().Content()))
}

// check validates the secret as it is typed and shows the result inline.
func (s *signinScreen) check() {
	s.result.Hide()
	kind, err := s.parse()
	switch {
	case strings.TrimSpace(s.secret.Text) == "":
		s.secretErr.Hide()
		s.secretOK.Hide()
	case err != nil:
		s.secretErr.SetText(err.Error())
		s.secretErr.Show()
		s.secretOK.Hide()
	default:
		s.secretErr.Hide()
		s.secretOK.SetText("✓ " + kindName(kind) + " — looks complete")
		s.secretOK.Show()
	}
	if err == nil && kind == protocol.KindShared {
		s.deviceBox.Show()
	} else {
		s.deviceBox.Hide()
	}
	s.updateSubmit()
}

// parse checks the secret field and refuses kinds that cannot sign an agent in.
func (s *signinScreen) parse() (protocol.SecretKind, error) {
	kind, err := protocol.ParseSecret(s.secret.Text)
	if err != nil {
		return "", err
	}
	switch kind {
	case protocol.KindPrintClient, protocol.KindUser, protocol.KindShared:
		return kind, nil
	}
	return "", errWrongKind
}

type signinError string

func (e signinError) Error() string { return string(e) }

const errWrongKind = signinError("this secret is for integrations (OAuth), not for printers: paste a print client secret (pdc_…), your personal API key (pdu_…) or the shared secret (pds_…)")

func kindName(k protocol.SecretKind) string {
	switch k {
	case protocol.KindPrintClient:
		return "Print client secret"
	case protocol.KindUser:
		return "Personal API key"
	case protocol.KindShared:
		return "Shared secret"
	}
	return string(k)
}

func (s *signinScreen) updateSubmit() {
	kind, err := s.parse()
	ok := err == nil && !s.busy && (kind != protocol.KindShared || strings.TrimSpace(s.device.Text) != "")
	if ok {
		s.submit.Enable()
	} else {
		s.submit.Disable()
	}
}

// serverURL normalises the server field: a bare host name means https.
func (s *signinScreen) serverURL() (string, string) {
	raw := strings.TrimSpace(s.server.Text)
	if raw == "" {
		return "", "Enter the server address, for example https://print.example.com."
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", "This is not a server address: it should look like https://print.example.com."
	}
	return strings.TrimRight(raw, "/"), ""
}

// signIn sends the login request when the form is valid. Enter in any field calls it too.
func (s *signinScreen) signIn() {
	if s.busy {
		return
	}
	server, msg := s.serverURL()
	if msg != "" {
		s.serverErr.SetText(msg)
		s.serverErr.Show()
		return
	}
	kind, err := s.parse()
	if err != nil {
		s.check()
		if s.secret.Text == "" {
			s.secretErr.SetText("Paste the secret first.")
			s.secretErr.Show()
		}
		return
	}
	req := localapi.LoginRequest{ServerURL: server, Secret: protocol.NormalizeSecret(s.secret.Text)}
	if kind == protocol.KindShared {
		req.DeviceID = strings.TrimSpace(s.device.Text)
		if req.DeviceID == "" {
			return
		}
	}
	s.u.app.Preferences().SetString(prefServerURL, server)
	s.setBusy(true, "Signing in to "+server+"…")
	s.u.goBackground(func(ctx context.Context) {
		rctx, cancel := s.u.reqCtx(ctx)
		defer cancel()
		st, err := s.u.b.Login(rctx, req)
		s.u.do(func() { s.loginDone(st, err) })
	})
}

func (s *signinScreen) setBusy(busy bool, msg string) {
	s.busy = busy
	if busy {
		s.result.Hide()
		s.progressMsg.SetText(msg)
		s.progressBox.Show()
		s.progress.Start()
		s.server.Disable()
		s.secret.Disable()
		s.paste.Disable()
		s.device.Disable()
	} else {
		s.progress.Stop()
		s.progressBox.Hide()
		s.server.Enable()
		s.secret.Enable()
		s.paste.Enable()
		s.device.Enable()
	}
	s.updateSubmit()
}

func (s *signinScreen) loginDone(st localapi.Status, err error) {
	if err != nil {
		s.setBusy(false, "")
		s.fail(errorText(err))
		return
	}
	s.u.apply(st)
	if st.State != localapi.StateConnected {
		// The agent took the secret and is dialling; wait for its next report.
		s.awaiting = true
		s.progressMsg.SetText("Connecting to the server…")
		s.onStatus(st)
		return
	}
	s.succeed(st)
}

// onStatus follows the agent's reports while a sign-in waits for the connection.
func (s *signinScreen) onStatus(st localapi.Status) {
	if !s.awaiting {
		return
	}
	switch st.State {
	case localapi.StateConnected:
		s.succeed(st)
	case localapi.StateConnecting:
		if st.LastError != "" {
			s.progressMsg.SetText("Still trying: " + st.LastError)
		}
	case localapi.StateLoggedOut:
		s.awaiting = false
		s.setBusy(false, "")
		s.fail(logoutBanner(st))
	case localapi.StateNotLoggedIn:
		s.awaiting = false
		s.setBusy(false, "")
		msg := "The agent did not keep the secret."
		if st.LastError != "" {
			msg = st.LastError
		}
		s.fail(strings.TrimRight(msg, ". ") + ". Check the secret and the server address, then try again.")
	}
}

func (s *signinScreen) succeed(st localapi.Status) {
	s.awaiting = false
	s.setBusy(false, "")
	s.secret.SetText("") // do not keep the secret on screen or in memory longer than needed
	s.secretOK.Hide()
	text := "Connected"
	if st.Portal != "" {
		text += " to " + st.Portal
	}
	if st.KeyDesc != "" {
		text += " as “" + st.KeyDesc + "”"
	}
	s.result.SetText("✓ " + text + ". Labels sent to this computer's printers will now print.")
	s.result.Importance = widget.SuccessImportance
	s.result.Show()
	s.result.Refresh()
}

func (s *signinScreen) fail(msg string) {
	s.result.SetText(msg)
	s.result.Importance = widget.DangerImportance
	s.result.Show()
	s.result.Refresh()
}

// minWidth lays its object out at least w wide.
func minWidth(o fyne.CanvasObject, w float32) fyne.CanvasObject {
	return container.New(&minWidthLayout{w: w}, o)
}

type minWidthLayout struct{ w float32 }

func (l *minWidthLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	s := objs[0].MinSize()
	s.Width = max(s.Width, l.w)
	return s
}

func (l *minWidthLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	objs[0].Resize(size)
	objs[0].Move(fyne.NewPos(0, 0))
}
