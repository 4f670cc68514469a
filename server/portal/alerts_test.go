package portal

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"printdock/internal/testenv"
	"printdock/protocol"
	"printdock/server/jobs"
	"printdock/server/keys"
)

// TestAlertsOf: the alert list is the printers in alert at now, longest first, in staff's words.
func TestAlertsOf(t *testing.T) {
	now := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	ps := []jobs.Printer{
		{ID: "a", Name: "Zebra Dock 3", Status: "media_out", Present: true, StatusSince: now.Add(-12 * time.Minute), ClientOnline: true},
		{ID: "b", Name: "Ready one", Status: "ready", Present: true, StatusSince: now.Add(-time.Hour), ClientOnline: true},
		{ID: "c", Name: "Fresh", Status: "head_open", Present: true, StatusSince: now.Add(-time.Minute), ClientOnline: true},
		{ID: "d", Name: "Unplugged", Status: "ready", Present: false, StatusSince: now.Add(-90 * time.Minute), ClientOnline: true},
		{ID: "e", Name: "Paused", Status: "paused", Present: true, StatusSince: now.Add(-5 * time.Minute), ClientOnline: true},
		{ID: "f", Name: "Agent gone", Status: "ready", Present: true, StatusSince: now.Add(-time.Hour), ClientSeenAt: now.Add(-7 * time.Minute)},
		{ID: "g", Name: "Agent just gone", Status: "ready", Present: true, StatusSince: now.Add(-time.Hour), ClientSeenAt: now.Add(-time.Minute)},
	}
	got := alertsOf(ps, 5*time.Minute, now)
	want := []printerAlert{
		{PrinterID: "d", Name: "Unplugged", What: "not connected to its computer", For: "1 h 30 min"},
		{PrinterID: "a", Name: "Zebra Dock 3", What: "out of media", For: "12 min"},
		{PrinterID: "f", Name: "Agent gone", What: "agent not connected", For: "7 min"},
		{PrinterID: "e", Name: "Paused", What: "paused", For: "5 min"},
	}
	if len(got) != len(want) {
		t.Fatalf("alerts = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("alert %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestPrinterAlertPage: a printer out of media shows as an alert on the admin's and the user's home page
// once the portal's threshold has passed (on the portal's clock), and no longer once it is ready again.
func TestPrinterAlertPage(t *testing.T) {
	var ahead atomic.Int64 // how far the portal's clock runs ahead of the store's
	e := newEnv(t, false, func(o *Options) {
		o.Clock = func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	})
	ctx := context.Background()
	k, err := e.svc.CreateClientKey(ctx, e.adminActor(), keys.NewClientKey{Description: "Dock 3"})
	if err != nil {
		t.Fatal(err)
	}
	zebra := protocol.Printer{ID: "sim://dock3", Name: "Zebra Dock 3", Make: "Zebra", Status: "media_out"}
	agent, _, err := dialAgent(t, e.srv.URL, k.Secret, "", "dock-3", []protocol.Printer{zebra})
	if err != nil {
		t.Fatal(err)
	}
	id := jobs.PrinterID(e.admin.PortalID, agent.welcome.ClientID, zebra.ID)
	waitStatus := func(status string) {
		testenv.WaitFor(t, "printer "+status, func() bool {
			p, err := e.jobs.GetPrinter(ctx, e.admin.PortalID, id)
			return err == nil && p.Status == status
		})
	}
	waitStatus("media_out")
	admin := e.client()
	admin.login(e.admin.AdminEmail, e.admin.AdminPassword)
	_, pw := e.createUser("user@example.com", keys.RoleUser)
	user := e.client()
	user.login("user@example.com", pw)
	home := map[string]*client{"/keys": admin, "/profile": user}
	check := func(when string, want string) {
		t.Helper()
		for path, c := range home {
			body := c.get(path).body
			if has := strings.Contains(body, `id="printer-alerts"`); has != (want != "") || !strings.Contains(body, want) {
				t.Errorf("%s: %s alert %t, want %q", when, path, has, want)
			}
		}
	}
	check("before the threshold", "")
	if _, err := e.svc.UpdateSettings(ctx, e.adminActor(), keys.Settings{PrinterAlertAfter: 10 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	ahead.Store(int64(6 * time.Minute))
	check("past the default, before the portal's 10 minutes", "")
	ahead.Store(int64(12*time.Minute + 30*time.Second))
	check("past the threshold", "Zebra Dock 3 — out of media for 12 min")

	zebra.Status = "ready"
	b, err := protocol.Encode(protocol.Printers{Printers: []protocol.Printer{zebra}})
	if err != nil {
		t.Fatal(err)
	}
	if err := agent.conn.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
	waitStatus("ready")
	check("recovered", "")
}
