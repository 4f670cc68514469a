package portal

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"printdock/internal/testenv"
	"printdock/protocol"
	"printdock/server/keys"
	"printdock/server/store"
)

// TestBrowserKeyWatch walks in Chromium what the portal shows of keys and printers while agents come and
// go: "check this key" turning green live when the first agent connects, a second installation of one
// secret flagged in the keys list, an expiry warning, and printer alerts on the home page (a printer out
// of media, and a ready printer whose agent disconnected) once the portal's threshold has passed.
func TestBrowserKeyWatch(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	var ahead atomic.Int64 // how far the portal's clock runs ahead (printer alerts)
	e := newEnv(t, false, func(o *Options) {
		o.Clock = func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	})
	u := newUITest(t, e)
	outer := t // agents stay connected across the steps
	ctx := context.Background()
	newKey := func(desc string) keys.Created {
		k, err := e.svc.CreateClientKey(ctx, e.adminActor(), keys.NewClientKey{Description: desc, Active: new(true)})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	dock3, dock5 := newKey("Dock 3 — Zebra ZD421"), newKey("Packing table")
	row := func(id string) string { return `tr[data-key="` + id + `"] ` }
	steps := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"check this key, live", func(t *testing.T) {
			u.signIn()
			u.open("/keys", http.StatusOK)
			if got := u.text(row(dock3.Key.ID) + "[data-checked]"); got != "waiting for an agent" {
				t.Fatalf("before any agent: %q", got)
			}
			media := protocol.Printer{ID: "usb://0a5f:0181/D3", Name: "Zebra Dock 3", Make: "Zebra", Model: "ZD421", Status: "media_out"}
			if _, _, err := dialAgent(outer, e.srv.URL, dock3.Secret, "", "PC-DOCK-3", []protocol.Printer{media}); err != nil {
				t.Fatal(err)
			}
			// No reload: the page's poll turns the line green.
			testenv.WaitFor(t, "the keys page to see the agent", func() bool {
				return u.text(row(dock3.Key.ID)+"[data-checked]") == "agent connected since activation"
			})
			if !u.present(row(dock3.Key.ID) + "[data-checked].ok") {
				t.Error("the checked line is not marked ok")
			}
			u.shot("check-key")
		}},
		{"a second installation is flagged", func(t *testing.T) {
			if _, _, err := dialAgent(outer, e.srv.URL, dock3.Secret, "", "PC-DOCK-7", nil); err != nil {
				t.Fatal(err)
			}
			u.open("/keys", http.StatusOK)
			got := u.text(row(dock3.Key.ID) + "[data-flag]")
			if !strings.Contains(got, "used by 2 installations now: PC-DOCK-3, PC-DOCK-7") {
				t.Errorf("flag %q", got)
			}
			if u.present(row(dock5.Key.ID) + "[data-flag]") {
				t.Error("a key with no installation is flagged")
			}
			u.shot("second-installation")
		}},
		{"expiry warning", func(t *testing.T) {
			soon, later := time.Now().Add(3*24*time.Hour), time.Now().Add(60*24*time.Hour)
			if err := e.svc.SetExpiry(ctx, e.adminActor(), dock5.Key.ID, &soon); err != nil {
				t.Fatal(err)
			}
			other := newKey("Returns desk")
			if err := e.svc.SetExpiry(ctx, e.adminActor(), other.Key.ID, &later); err != nil {
				t.Fatal(err)
			}
			u.open("/keys", http.StatusOK)
			if !u.present(row(dock5.Key.ID)+"[data-expires].warn") || u.present(row(other.Key.ID)+"[data-expires].warn") {
				t.Errorf("warnings: in 3 days %q, in 60 days %q", u.text(row(dock5.Key.ID)+"[data-expires]"),
					u.text(row(other.Key.ID)+"[data-expires]"))
			}
			u.shot("expiring")
		}},
		{"printer alerts on the home page", func(t *testing.T) {
			desk := newKey("Shipping desk")
			ready := protocol.Printer{ID: "tcp://10.0.0.7:9100", Name: "Shipping ZT411", Make: "Zebra", Status: "ready"}
			deskAgent, _, err := dialAgent(outer, e.srv.URL, desk.Secret, "", "PC-SHIP-1", []protocol.Printer{ready})
			if err != nil {
				t.Fatal(err)
			}
			testenv.WaitFor(t, "the desk's printer", func() bool {
				ps, err := e.jobs.ListPrinters(ctx, e.admin.PortalID, store.Page{})
				return err == nil && len(ps) == 2
			})
			u.open("/keys", http.StatusOK)
			if u.present("#printer-alerts") {
				t.Fatalf("alerts before the threshold: %q", u.text("#printer-alerts"))
			}
			deskAgent.conn.CloseNow()
			testenv.WaitFor(t, "the desk's agent offline", func() bool { return !e.hub.Connected(desk.Key.ID) })
			ahead.Store(int64(7 * time.Minute)) // past the default 5 min
			u.open("/keys", http.StatusOK)
			got := u.text("#printer-alerts")
			if !strings.Contains(got, "Zebra Dock 3 — out of media for 7 min") ||
				!strings.Contains(got, "Shipping ZT411 — agent not connected for 7 min") {
				t.Errorf("alerts: %q", got)
			}
			u.shot("printer-alert")
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.fn) {
			break
		}
		u.checkConsole()
	}
}
