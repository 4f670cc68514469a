package gui

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"printdock/agent/localapi"
	"printdock/protocol"
)

func newSecret(t *testing.T, k protocol.SecretKind) string {
	t.Helper()
	s, err := protocol.NewSecret(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// notLoggedIn starts a UI whose agent has no secret yet and waits for the first status.
func notLoggedIn(t *testing.T) (*UI, *loopApp, *fakeBackend) {
	t.Helper()
	f := newFake(localapi.Status{State: localapi.StateNotLoggedIn, Version: "1.0.0"})
	u, a := startUI(t, f, Options{Version: "1.0.0"})
	a.waitFor(t, "the first status", func() bool { _, ok := u.Status(); return ok })
	return u, a, f
}

func TestStartsOnSignInWhenNotLoggedIn(t *testing.T) {
	u, _, _ := notLoggedIn(t)
	if got := u.Current(); got != ScreenSignIn {
		t.Fatalf("screen = %q, want %q", got, ScreenSignIn)
	}
	if got := u.status.title.Text; got != "Not signed in" {
		t.Fatalf("status title = %q", got)
	}
}

func TestPasteValidSecretSignsIn(t *testing.T) {
	u, a, f := notLoggedIn(t)
	s := u.signin
	secret := newSecret(t, protocol.KindPrintClient)

	test.Type(s.server, "https://print.example.com")
	a.Clipboard().SetContent(secret + "\n") // a pasted line end is trimmed
	test.Tap(s.paste)

	if s.secretErr.Visible() {
		t.Fatalf("valid secret shows an error: %q", s.secretErr.Text)
	}
	if !s.secretOK.Visible() {
		t.Fatal("valid secret is not acknowledged")
	}
	if s.submit.Disabled() {
		t.Fatal("Sign in is disabled for a valid secret")
	}
	test.Tap(s.submit)
	if !s.progressBox.Visible() {
		t.Fatal("no progress shown while signing in")
	}
	a.waitFor(t, "Connected", func() bool { return s.result.Visible() && strings.Contains(s.result.Text, "Connected") })

	if want := "✓ Connected to Acme Logistics as “Zebra dock 3”."; !strings.HasPrefix(s.result.Text, want) {
		t.Errorf("result = %q, want prefix %q", s.result.Text, want)
	}
	if s.progressBox.Visible() {
		t.Error("progress still shown after sign-in")
	}
	if s.secret.Text != "" {
		t.Error("the secret stays in the field after a successful sign-in")
	}
	reqs := f.loginRequests()
	if len(reqs) != 1 {
		t.Fatalf("%d login requests, want 1", len(reqs))
	}
	if reqs[0].Secret != secret || reqs[0].ServerURL != "https://print.example.com" || reqs[0].DeviceID != "" {
		t.Errorf("login request = {%q, secret ok: %v, %q}", reqs[0].ServerURL, reqs[0].Secret == secret, reqs[0].DeviceID)
	}
	if got := a.Preferences().String(prefServerURL); got != "https://print.example.com" {
		t.Errorf("remembered server = %q", got)
	}
	a.waitFor(t, "status screen to show Connected", func() bool { return u.status.title.Text == "Connected" })
}

func TestInvalidSecretNeverSendsARequest(t *testing.T) {
	valid := newSecret(t, protocol.KindPrintClient)
	mistyped := []byte(valid)
	mistyped[10] = map[bool]byte{true: 'b', false: 'a'}[mistyped[10] == 'a']
	tests := []struct {
		name  string
		paste string
		want  error
	}{
		{"truncated", valid[:40], protocol.ErrSecretTruncated},
		{"mistyped", string(mistyped), protocol.ErrSecretChecksum},
		{"not a secret", "hello world", protocol.ErrSecretPrefix},
		{"extra pasted", valid + "x", protocol.ErrSecretTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, a, f := notLoggedIn(t)
			s := u.signin
			test.Type(s.server, "https://print.example.com")
			a.Clipboard().SetContent(tt.paste)
			test.Tap(s.paste)

			if !s.secretErr.Visible() || s.secretErr.Text != tt.want.Error() {
				t.Fatalf("inline error = %q (visible %v), want %q", s.secretErr.Text, s.secretErr.Visible(), tt.want)
			}
			if !s.submit.Disabled() {
				t.Error("Sign in is enabled for an invalid secret")
			}
			test.Tap(s.submit)
			s.secret.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) // Enter must not send it either
			if s.busy || s.progressBox.Visible() {
				t.Error("a sign-in started with an invalid secret")
			}
			a.settle(t, f)
			if n := len(f.loginRequests()); n != 0 {
				t.Fatalf("%d login requests for an invalid secret, want 0", n)
			}
		})
	}
}

func TestSecretCheckedAsTyped(t *testing.T) {
	u, _, _ := notLoggedIn(t)
	s := u.signin
	secret := newSecret(t, protocol.KindUser)
	test.Type(s.secret, secret[:20])
	if s.secretErr.Text != protocol.ErrSecretTruncated.Error() {
		t.Fatalf("half-typed: error = %q", s.secretErr.Text)
	}
	test.Type(s.secret, secret[20:])
	if s.secretErr.Visible() {
		t.Fatalf("complete: error still shown: %q", s.secretErr.Text)
	}
	if !strings.Contains(s.secretOK.Text, "Personal API key") {
		t.Errorf("ok text = %q", s.secretOK.Text)
	}
}

func TestOAuthSecretRefused(t *testing.T) {
	u, a, f := notLoggedIn(t)
	s := u.signin
	test.Type(s.server, "print.example.com")
	a.Clipboard().SetContent(newSecret(t, protocol.KindOAuthClient))
	test.Tap(s.paste)
	if !s.secretErr.Visible() || !strings.Contains(s.secretErr.Text, "OAuth") {
		t.Fatalf("error = %q", s.secretErr.Text)
	}
	test.Tap(s.submit)
	a.settle(t, f)
	if n := len(f.loginRequests()); n != 0 {
		t.Fatalf("%d login requests, want 0", n)
	}
}

func TestSharedSecretAsksForDeviceID(t *testing.T) {
	u, a, f := notLoggedIn(t)
	s := u.signin
	if s.deviceBox.Visible() {
		t.Fatal("device ID shown before a shared secret")
	}
	test.Type(s.server, "https://print.example.com")
	a.Clipboard().SetContent(newSecret(t, protocol.KindShared))
	test.Tap(s.paste)
	if !s.deviceBox.Visible() {
		t.Fatal("a shared secret does not reveal the device ID field")
	}
	if !s.submit.Disabled() {
		t.Fatal("Sign in enabled without a device ID")
	}
	test.Type(s.device, "dock-3")
	s.device.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) // Enter signs in
	a.waitFor(t, "Connected", func() bool { return strings.Contains(s.result.Text, "Connected") })
	if reqs := f.loginRequests(); len(reqs) != 1 || reqs[0].DeviceID != "dock-3" {
		t.Fatalf("login requests = %+v", len(reqs))
	}

	a.Clipboard().SetContent(newSecret(t, protocol.KindPrintClient))
	test.Tap(s.paste)
	if s.deviceBox.Visible() {
		t.Error("device ID still shown for a print client secret")
	}
}

func TestEnterSignsIn(t *testing.T) {
	u, a, f := notLoggedIn(t)
	s := u.signin
	test.Type(s.server, "https://print.example.com")
	test.Type(s.secret, newSecret(t, protocol.KindPrintClient))
	s.secret.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	a.waitFor(t, "Connected", func() bool { return strings.Contains(s.result.Text, "Connected") })
	if n := len(f.loginRequests()); n != 1 {
		t.Fatalf("%d login requests, want 1", n)
	}
}

func TestMissingServerAddress(t *testing.T) {
	u, a, f := notLoggedIn(t)
	s := u.signin
	test.Type(s.secret, newSecret(t, protocol.KindPrintClient))
	test.Tap(s.submit)
	if !s.serverErr.Visible() || !strings.Contains(s.serverErr.Text, "server address") {
		t.Fatalf("server error = %q", s.serverErr.Text)
	}
	a.settle(t, f)
	if n := len(f.loginRequests()); n != 0 {
		t.Fatalf("%d login requests, want 0", n)
	}
}

func TestSignInErrorIsPlainLanguage(t *testing.T) {
	u, a, f := notLoggedIn(t)
	f.login = func(localapi.LoginRequest) (localapi.Status, error) {
		return localapi.Status{}, localapi.NewError(401, localapi.CodeUnauthorized, "The server refused this secret.", nil)
	}
	s := u.signin
	test.Type(s.server, "https://print.example.com")
	test.Type(s.secret, newSecret(t, protocol.KindPrintClient))
	test.Tap(s.submit)
	a.waitFor(t, "the error", func() bool { return s.result.Visible() })
	want := "The server refused this secret. The server does not accept this secret: check that you copied the newest one from the portal, then paste it again."
	if s.result.Text != want {
		t.Errorf("error = %q\nwant    %q", s.result.Text, want)
	}
	if s.submit.Disabled() || s.secret.Disabled() {
		t.Error("the form stays disabled after a failed sign-in")
	}
}

func TestSignInWaitsForConnection(t *testing.T) {
	u, a, f := notLoggedIn(t)
	f.login = func(req localapi.LoginRequest) (localapi.Status, error) {
		st := localapi.Status{State: localapi.StateConnecting, ServerURL: req.ServerURL}
		f.Push(st)
		return st, nil
	}
	s := u.signin
	test.Type(s.server, "https://print.example.com")
	test.Type(s.secret, newSecret(t, protocol.KindPrintClient))
	test.Tap(s.submit)
	a.waitFor(t, "connecting", func() bool { return s.awaiting })
	if !s.progressBox.Visible() {
		t.Fatal("no progress while the agent connects")
	}
	f.Push(localapi.Status{State: localapi.StateConnected, Portal: "Acme", KeyDesc: "Dock 1"})
	a.waitFor(t, "Connected", func() bool { return strings.Contains(s.result.Text, "Connected to Acme") })
}

func TestLoggedOutRotatedShowsBanner(t *testing.T) {
	at := time.Date(2026, 3, 4, 14, 2, 0, 0, time.Local)
	f := newFake(localapi.Status{State: localapi.StateConnected, KeyKind: "print_client", KeyDesc: "Zebra dock 3"})
	u, a := startUI(t, f, Options{})
	a.waitFor(t, "connected", func() bool { return u.status.title.Text == "Connected" })
	if u.status.banner.Visible() {
		t.Fatal("banner shown while connected")
	}

	f.Push(localapi.Status{State: localapi.StateLoggedOut, LogoutReason: "rotated", LogoutAt: &at,
		KeyKind: "print_client", KeyDesc: "Zebra dock 3"})
	want := "Your key was rotated by an administrator at 14:02 — paste the new secret"
	a.waitFor(t, "the banner", func() bool { return u.status.banner.Visible() })
	if got := u.status.bannerMsg.Text; got != want {
		t.Fatalf("banner = %q\nwant     %q", got, want)
	}
	notes := a.notifications()
	if len(notes) != 1 || notes[0].Content != want {
		t.Fatalf("notifications = %d, want one saying the banner text", len(notes))
	}

	u.Show(ScreenStatus)
	btn := findButton(t, u.status.banner, "Sign in with a new secret")
	test.Tap(btn)
	if got := u.Current(); got != ScreenSignIn {
		t.Fatalf("after the banner button: screen = %q", got)
	}

	// The same logout reported again (e.g. after the app reconnects to the agent) notifies once.
	f.Push(localapi.Status{State: localapi.StateLoggedOut, LogoutReason: "rotated", LogoutAt: &at})
	a.settle(t, f)
	if n := len(a.notifications()); n != 1 {
		t.Errorf("%d notifications, want 1", n)
	}
}

func TestLogoutBannerTexts(t *testing.T) {
	at := time.Date(2026, 3, 4, 9, 30, 0, 0, time.Local)
	tests := []struct {
		kind, reason, want string
	}{
		{"print_client", "revoked", "Your key was revoked by an administrator at 09:30 — ask for a new secret and paste it"},
		{"print_client", "deactivated", "Your key was deactivated by an administrator at 09:30 — ask an administrator to activate it again, or paste another secret"},
		{"shared", "deleted", "Your key was deleted by an administrator at 09:30 — ask for a new secret and paste it"},
		{"user", "rotated", "Your personal API key was rotated (by you or an administrator) at 09:30 — paste the new secret"},
		{"shared", "own_secret", "This device was given its own secret by an administrator at 09:30 (same device ID) — paste the new secret"},
		{"print_client", "shared_secret", "This device was moved to the shared secret by an administrator at 09:30 — paste the shared secret with this device ID"},
		{"print_client", "expired", "Your key expired at 09:30 — ask for a new secret and paste it"},
	}
	for _, tt := range tests {
		got := logoutBanner(localapi.Status{KeyKind: tt.kind, LogoutReason: tt.reason, LogoutAt: &at})
		if got != tt.want {
			t.Errorf("%s/%s:\n got %q\nwant %q", tt.kind, tt.reason, got, tt.want)
		}
	}
}

func TestReconnectingShowsNextRetry(t *testing.T) {
	now := time.Date(2026, 3, 4, 14, 5, 0, 0, time.Local)
	next := now.Add(12 * time.Second)
	f := newFake(localapi.Status{State: localapi.StateConnecting, NextRetry: &next, Attempts: 3,
		LastError: "the server did not answer"})
	u, a := startUI(t, f, Options{Now: func() time.Time { return now }})
	a.waitFor(t, "reconnecting", func() bool { return u.status.title.Text == "Reconnecting" })
	want := "Last attempt: the server did not answer\nNext try in 12 s (at 14:05:12)."
	if got := u.status.detail.Text; got != want {
		t.Fatalf("detail = %q\nwant     %q", got, want)
	}
}

func TestPrinterGoesMediaOut(t *testing.T) {
	p := localapi.Printer{ID: "sim://dock1", Name: "Zebra dock 1", State: "ready"}
	f := newFake(localapi.Status{State: localapi.StateConnected, Printers: []localapi.Printer{p}})
	u, a := startUI(t, f, Options{})
	u.Show(ScreenPrinters)
	row := func() *printerRow { return u.printers.rows["sim://dock1"] }
	a.waitFor(t, "the printer row", func() bool { return row() != nil && row().state.Text == "Ready" })

	p.State, p.Reason = "media_out", ""
	f.Push(localapi.Status{State: localapi.StateConnected, Printers: []localapi.Printer{p}})
	a.waitFor(t, "media out", func() bool { return row().state.Text == "Out of labels (media out)" })
	if !row().advice.Visible() || row().advice.Text != "Load a new roll of labels." {
		t.Errorf("advice = %q", row().advice.Text)
	}

	p2 := localapi.Printer{ID: "tcp://10.0.0.5:9100", Name: "Shelf", State: "offline"}
	f.Push(localapi.Status{State: localapi.StateConnected, Printers: []localapi.Printer{p, p2}})
	a.waitFor(t, "two printers", func() bool { return len(u.printers.list.Objects) == 2 })
	f.Push(localapi.Status{State: localapi.StateConnected})
	a.waitFor(t, "no printers", func() bool {
		return len(u.printers.list.Objects) == 1 && u.printers.list.Objects[0] == u.printers.empty
	})
}

func TestTestPrintShowsPreview(t *testing.T) {
	var buf bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	img.Set(1, 1, color.White)
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	preview := buf.Bytes()
	p := localapi.Printer{ID: "sim://dock1", Name: "Zebra dock 1", State: "ready"}
	f := newFake(localapi.Status{State: localapi.StateConnected, Printers: []localapi.Printer{p}})
	f.testPrint = func(req localapi.TestPrintRequest) (localapi.TestPrintResult, error) {
		return localapi.TestPrintResult{PrinterID: req.PrinterID, JobID: "j42", PreviewPNG: preview}, nil
	}
	f.jobs = []localapi.Job{{ID: "j42", PrinterID: "sim://dock1", Title: "Test label", State: "done", Updated: time.Now()}}
	u, a := startUI(t, f, Options{})
	u.Show(ScreenPrinters)
	a.waitFor(t, "the printer row", func() bool { return u.printers.rows["sim://dock1"] != nil })
	test.Tap(u.printers.rows["sim://dock1"].test)
	a.waitFor(t, "the preview", func() bool { return u.printers.previewImg.Visible() })
	if res := u.printers.previewImg.Resource; res == nil || !bytes.Equal(res.Content(), preview) {
		t.Fatal("the preview does not show the agent's PNG")
	}
	if !strings.Contains(u.printers.previewMsg.Text, "job j42") {
		t.Errorf("preview text = %q", u.printers.previewMsg.Text)
	}
	if got := f.prints; len(got) != 1 || got[0].PrinterID != "sim://dock1" {
		t.Errorf("test prints = %+v", got)
	}
	a.waitFor(t, "the jobs list", func() bool { return len(u.jobs.list.Objects) == 1 })
}

func TestJobsShowFailureReason(t *testing.T) {
	now := time.Date(2026, 3, 4, 14, 5, 0, 0, time.Local)
	f := newFake(localapi.Status{State: localapi.StateConnected,
		Printers: []localapi.Printer{{ID: "sim://dock1", Name: "Zebra dock 1", State: "media_out"}}})
	f.jobs = []localapi.Job{
		{ID: "a", PrinterID: "sim://dock1", Title: "Order 1", State: "done", Updated: now.Add(-time.Hour)},
		{ID: "b", PrinterID: "sim://dock1", Title: "Order 2", State: "failed", Reason: "printer out of media", Updated: now},
	}
	u, a := startUI(t, f, Options{Now: func() time.Time { return now }})
	a.waitFor(t, "status", func() bool { _, ok := u.Status(); return ok })
	u.Show(ScreenJobs)
	a.waitFor(t, "jobs", func() bool { return len(u.jobs.list.Objects) == 2 })
	first := test.LaidOutObjects(u.jobs.list.Objects[0])
	var texts []string
	for _, o := range first {
		if lbl, ok := o.(*widget.Label); ok {
			texts = append(texts, lbl.Text)
		}
	}
	joined := strings.Join(texts, "|")
	for _, want := range []string{"14:05", "Zebra dock 1", "Order 2", "Failed", "Reason: printer out of media"} {
		if !strings.Contains(joined, want) {
			t.Errorf("newest job row %q lacks %q", joined, want)
		}
	}
}

func TestStopEndsWatch(t *testing.T) {
	f := newFake(localapi.Status{State: localapi.StateConnected})
	u, a := startUI(t, f, Options{})
	a.waitFor(t, "a watcher", func() bool { return f.watcherCount() == 1 })
	done := make(chan struct{})
	go func() { u.Stop(); close(done) }()
	a.waitFor(t, "stop", func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	})
	a.waitFor(t, "no watcher", func() bool { return f.watcherCount() == 0 })
}

func findButton(t *testing.T, root fyne.CanvasObject, text string) fyne.Tappable {
	t.Helper()
	for _, o := range test.LaidOutObjects(root) {
		if b, ok := o.(*widget.Button); ok && b.Text == text {
			return b
		}
	}
	t.Fatalf("no button %q", text)
	return nil
}

func TestPrinterDetail(t *testing.T) {
	tests := []struct {
		p    localapi.Printer
		want string
	}{
		{localapi.Printer{State: "ready"}, ""},
		{localapi.Printer{State: "ready", Reason: "ready"}, ""},
		{localapi.Printer{State: "media_out"}, "Load a new roll of labels."},
		{localapi.Printer{State: "paused", Reason: "paused: press the pause button to resume"}, "Paused: press the pause button to resume."},
		{localapi.Printer{State: "offline", Reason: "printer disconnected"},
			"Printer disconnected. Check that the printer is switched on and its cable is plugged in."},
	}
	for _, tt := range tests {
		if got := printerDetail(tt.p); got != tt.want {
			t.Errorf("%s/%q: got %q, want %q", tt.p.State, tt.p.Reason, got, tt.want)
		}
	}
}
