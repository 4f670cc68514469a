package gui

import (
	"context"
	"fmt"
	"log/slog"
	"printdock/internal/testenv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"printdock/agent"
	"printdock/agent/localapi"
	"printdock/keystore"
	"printdock/printer"
	"printdock/printer/sim"
	"printdock/server/servertest"
)

// TestIntegrationRealAgentAndServer drives the screens against a real in-process agent (its in-memory
// local API client, exactly what cmd/printdock uses when no service runs), a real in-process server
// (server/servertest: SQLite, keys, hub, websockets) and a simulated Zebra (printer/sim): sign in by
// pasting a real secret, see the printer's live state, print the test label, get logged out when an
// administrator rotates the key, and sign in again with the new secret.
func TestIntegrationRealAgentAndServer(t *testing.T) {
	srv := servertest.New(t, servertest.Options{})
	key := srv.CreatePrintClient(t, "Zebra dock 3")

	name := fmt.Sprintf("guiit%d", time.Now().UnixNano())
	dock := sim.Named(name)
	uri := "sim://" + name

	var logBuf testenv.SyncBuffer
	ag, err := agent.New(agent.Config{
		StateDir:    t.TempDir(),
		Keystore:    keystore.ModeFile,
		Printers:    []string{uri},
		SocketPath:  "-",
		InProcess:   true,
		PrinterPoll: 100 * time.Millisecond,
		Logger:      slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OpenPrinter: func(_ context.Context, u string) (printer.Printer, error) {
			if u != uri {
				return nil, printer.ErrNotFound
			}
			return dock, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := ag.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		ag.Stop()
		if t.Failed() {
			t.Logf("agent log:\n%s", logBuf.String())
		}
	})
	client := ag.Client()
	t.Cleanup(client.Close)

	u, a := startUI(t, client, Options{Version: "test", InProcessNote: "The agent runs inside this app.", Now: time.Now})

	// Not signed in: the app opens on Sign in.
	a.waitFor(t, "not signed in", func() bool { st, ok := u.Status(); return ok && st.State == localapi.StateNotLoggedIn })
	if u.Current() != ScreenSignIn {
		t.Fatalf("screen = %q, want sign in", u.Current())
	}

	// A truncated paste is refused on screen and never reaches the agent or the server.
	s := u.signin
	test.Type(s.server, srv.URL)
	a.Clipboard().SetContent(key.Secret[:30])
	test.Tap(s.paste)
	test.Tap(s.submit)
	if !s.secretErr.Visible() || s.busy {
		t.Fatal("a truncated secret was not stopped on screen")
	}

	// The whole secret signs in.
	a.Clipboard().SetContent(key.Secret)
	test.Tap(s.paste)
	test.Tap(s.submit)
	a.waitFor(t, "signed in", func() bool { return s.result.Visible() && !s.busy })
	if !strings.Contains(s.result.Text, "Connected") || !strings.Contains(s.result.Text, "Zebra dock 3") {
		t.Fatalf("sign-in result = %q", s.result.Text)
	}
	srv.WaitConnected(t, key.ID, true)
	a.waitFor(t, "status Connected", func() bool { return u.status.title.Text == "Connected" })
	if got := u.status.key.Text; !strings.Contains(got, "Zebra dock 3") {
		t.Errorf("status key = %q", got)
	}

	// The simulated printer appears with its live state.
	u.Show(ScreenPrinters)
	row := func() *printerRow { return u.printers.rows[uri] }
	a.waitFor(t, "printer ready", func() bool { return row() != nil && strings.HasPrefix(row().state.Text, "Ready") })

	// Test print: the label reaches the printer, the job is listed, and the preview (when the agent
	// renders one) is shown.
	test.Tap(row().test)
	a.waitFor(t, "test print done", func() bool { return strings.HasPrefix(u.printers.previewMsg.Text, "Sent to") })
	jctx, jcancel := context.WithTimeout(context.Background(), 10*time.Second)
	jobs, err := dock.WaitJobs(jctx, 1)
	jcancel()
	if err != nil || len(jobs) != 1 {
		t.Fatalf("printer jobs = %d, %v", len(jobs), err)
	}
	if u.printers.previewImg.Resource != nil {
		if !u.printers.previewImg.Visible() {
			t.Error("preview received but not shown")
		}
	} else {
		t.Log("the agent returned no PreviewPNG for the test label (preview rendering not wired in the agent yet)")
	}
	u.Show(ScreenJobs)
	a.waitFor(t, "the test job in Jobs", func() bool { return len(u.jobs.jobs) >= 1 && u.jobs.jobs[0].State == "done" })

	// The printer runs out of labels: the row follows the agent's report.
	u.Show(ScreenPrinters)
	dock.SetMediaOut(true)
	a.waitFor(t, "printer not ready", func() bool { return !strings.HasPrefix(row().state.Text, "Ready") })
	st, _ := u.Status()
	var reported localapi.Printer
	for _, p := range st.Printers {
		if p.ID == uri {
			reported = p
		}
	}
	if want := printerStateText(reported.State); !strings.HasPrefix(row().state.Text, want) {
		t.Errorf("row = %q, agent reports %q", row().state.Text, reported.State)
	}
	dock.SetMediaOut(false)
	a.waitFor(t, "printer ready again", func() bool { return strings.HasPrefix(row().state.Text, "Ready") })

	// An administrator rotates the key: the server logs the agent out and the app says why.
	rotated := srv.KeyAction(t, key.ID, "rotate")
	a.waitFor(t, "logged out banner", func() bool { return u.status.banner.Visible() })
	if got := u.status.bannerMsg.Text; !strings.HasPrefix(got, "Your key was rotated by an administrator at ") ||
		!strings.HasSuffix(got, " — paste the new secret") {
		t.Fatalf("banner = %q", got)
	}
	if n := len(a.notifications()); n != 1 {
		t.Errorf("%d notifications after the forced logout, want 1", n)
	}

	// The banner's button leads to Sign in, and the new secret works.
	test.Tap(findButton(t, u.status.banner, "Sign in with a new secret"))
	if u.Current() != ScreenSignIn {
		t.Fatalf("screen = %q, want sign in", u.Current())
	}
	a.Clipboard().SetContent(rotated.Secret)
	test.Tap(s.paste)
	test.Tap(s.submit)
	a.waitFor(t, "signed in again", func() bool { return strings.Contains(s.result.Text, "Connected") && !s.busy })
	a.waitFor(t, "banner gone", func() bool { return !u.status.banner.Visible() })
}
