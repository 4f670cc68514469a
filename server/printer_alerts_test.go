package server_test

import (
	"net/http"
	"testing"
	"time"

	"printdock/printer"
	"printdock/protocol"
	"printdock/server/api"
	"printdock/server/jobs/jobstest"
	"printdock/server/keys"
	"printdock/server/servertest"
)

// TestPrinterAlertREST: GET /api/v1/printers (and one printer) says alert once a printer has been out of
// media for the default threshold on the server's clock.
func TestPrinterAlertREST(t *testing.T) {
	clock := jobstest.NewClock(time.Now().UTC())
	s := servertest.New(t, servertest.Options{JobClock: clock.Now})
	media := protocol.Printer{ID: "tcp://10.0.0.5:9100", Name: "Zebra Dock 3", Make: "Zebra", Status: "media_out"}
	_, ids := connectWith(t, s, s.CreatePrintClient(t, "Dock 3").Secret, servertest.DialOptions{}, media)
	alert := func() (list, one bool) {
		var page struct{ Items []api.PrinterJSON }
		s.JSON(t, http.MethodGet, "/api/v1/printers", s.AdminKey, nil, http.StatusOK, &page)
		var p api.PrinterJSON
		s.JSON(t, http.MethodGet, "/api/v1/printers/"+ids[0], s.AdminKey, nil, http.StatusOK, &p)
		return len(page.Items) == 1 && page.Items[0].Alert, p.Alert
	}
	if l, o := alert(); l || o {
		t.Errorf("alert at once: list %t, printer %t", l, o)
	}
	clock.Advance(5*time.Minute + time.Second)
	if l, o := alert(); !l || !o {
		t.Errorf("alert after 5 min: list %t, printer %t", l, o)
	}
}

// TestWelcomeCarriesAlertThreshold: the agent learns the portal's printer alert threshold in the welcome
// (the default while the portal has none), so the desktop app alerts when the portal does.
func TestWelcomeCarriesAlertThreshold(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	k := s.CreatePrintClient(t, "Dock 3")
	if a := s.Connect(t, k.Secret, servertest.DialOptions{}); a.Welcome.PrinterAlertSeconds != int(printer.DefaultAlertAfter/time.Second) {
		t.Errorf("welcome without a portal setting: %d s", a.Welcome.PrinterAlertSeconds)
	}
	admin, err := s.S.Keys.Authenticate(t.Context(), s.AdminKey, "", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	set, err := s.S.Keys.Settings(t.Context(), keys.Actor{Principal: admin})
	if err != nil {
		t.Fatal(err)
	}
	set.PrinterAlertAfter = 12 * time.Minute
	if _, err := s.S.Keys.UpdateSettings(t.Context(), keys.Actor{Principal: admin}, set); err != nil {
		t.Fatal(err)
	}
	if a := s.Connect(t, k.Secret, servertest.DialOptions{}); a.Welcome.PrinterAlertSeconds != 12*60 {
		t.Errorf("welcome with a 12 min threshold: %d s", a.Welcome.PrinterAlertSeconds)
	}
}

// TestPrinterAlertAgentGone: a ready printer whose agent disconnects counts as offline from the
// disconnect: in alert once the portal's (shortened) threshold has passed on the server's clock, and no
// longer once the agent is back.
func TestPrinterAlertAgentGone(t *testing.T) {
	clock := jobstest.NewClock(time.Now().UTC())
	s := servertest.New(t, servertest.Options{JobClock: clock.Now})
	key := s.CreatePrintClient(t, "Dock 4")
	ready := protocol.Printer{ID: "tcp://10.0.0.6:9100", Name: "Zebra Dock 4", Make: "Zebra", Status: "ready"}
	a, ids := connectWith(t, s, key.Secret, servertest.DialOptions{}, ready)
	admin, err := s.S.Keys.Authenticate(t.Context(), s.AdminKey, "", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.S.Keys.UpdateSettings(t.Context(), keys.Actor{Principal: admin}, keys.Settings{PrinterAlertAfter: time.Minute}); err != nil {
		t.Fatal(err)
	}
	alert := func() bool {
		var p api.PrinterJSON
		s.JSON(t, http.MethodGet, "/api/v1/printers/"+ids[0], s.AdminKey, nil, http.StatusOK, &p)
		return p.Alert
	}
	clock.Advance(time.Hour) // ready for an hour: no alert
	if alert() {
		t.Fatal("alert for a ready printer of a connected agent")
	}
	a.Conn.CloseNow()
	s.WaitPrinter(t, a, ready.ID, false)
	if alert() {
		t.Error("alert at the disconnect (the printer was ready for an hour before)")
	}
	clock.Advance(time.Minute + time.Second)
	if !alert() {
		t.Error("no alert a minute after the agent disconnected")
	}
	connectWith(t, s, key.Secret, servertest.DialOptions{InstallationID: a.Hello.InstallationID}, ready)
	if alert() {
		t.Error("alert after the agent reconnected")
	}
}
