package server_test

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"printdock/internal/testenv"
	"printdock/printer"
	"printdock/protocol"
	"printdock/server"
	"printdock/server/jobs/jobstest"
	"printdock/server/servertest"
)

// Printer alert events: the alert sweep (server/alertsweep.go) records printer.status_changed with
// alert true once a printer has needed staff for its portal's threshold, and alert false once it
// recovers, each transition once however many sweeps pass.

const sweptLine = "printer alerts: swept"

// fastAlerts sweeps printer alerts every 5 ms on clock.
func fastAlerts(clock *jobstest.Clock) func(*server.Config) {
	return func(cfg *server.Config) {
		cfg.JobClock = clock.Now
		cfg.AlertSweepEvery = 5 * time.Millisecond
	}
}

// printerEvent is the part of a printer.status_changed event these tests look at.
type printerEvent struct {
	Status  string `json:"status"`
	Present bool   `json:"present"`
	Alert   *bool  `json:"alert"`
}

// nextPrinterEvent reads the stream's next printer.status_changed event.
func nextPrinterEvent(t *testing.T, br *bufio.Reader) printerEvent {
	t.Helper()
	for {
		e := nextEvent(t, br)
		if e.Type != "printer.status_changed" {
			continue
		}
		var env struct{ Data printerEvent }
		if err := json.Unmarshal([]byte(e.Data), &env); err != nil {
			t.Fatalf("event %s: %v", e.Data, err)
		}
		return env.Data
	}
}

// expectAlert reads the next printer event and fails unless it is an alert event with alert want.
func expectAlert(t *testing.T, br *bufio.Reader, want bool) printerEvent {
	t.Helper()
	e := nextPrinterEvent(t, br)
	if e.Alert == nil || *e.Alert != want {
		t.Fatalf("printer event %+v, want alert %t", e, want)
	}
	return e
}

// expectStatus reads the next printer event and fails unless it is a status change to status (no alert).
func expectStatus(t *testing.T, br *bufio.Reader, status string) {
	t.Helper()
	if e := nextPrinterEvent(t, br); e.Alert != nil || e.Status != status {
		t.Fatalf("printer event %+v, want status %s without alert", e, status)
	}
}

// waitSweeps waits until the logs show n more alert sweeps than they do now.
func waitSweeps(t *testing.T, n int, logs ...func() string) {
	t.Helper()
	count := func() int {
		c := 0
		for _, l := range logs {
			c += strings.Count(l(), sweptLine)
		}
		return c
	}
	from := count()
	servertest.WaitFor(t, "alert sweeps", func() bool { return count() >= from+n })
}

// alertCycle runs a media-out printer of an agent on s through raise and clear, reading the events
// from stream br, with logs counting the sweeps of every replica.
func alertCycle(t *testing.T, s *servertest.Server, clock *jobstest.Clock, br *bufio.Reader, logs ...func() string) {
	t.Helper()
	media := protocol.Printer{ID: "tcp://10.0.0.5:9100", Name: "Zebra Dock 3", Make: "Zebra", Status: "media_out"}
	a, _ := connectWith(t, s, s.CreatePrintClient(t, "Dock 3").Secret, servertest.DialOptions{}, media)
	expectStatus(t, br, "media_out")
	waitSweeps(t, 3, logs...)
	clock.Advance(printer.DefaultAlertAfter + time.Second)
	if e := expectAlert(t, br, true); e.Status != "media_out" || !e.Present {
		t.Errorf("alert event %+v", e)
	}
	waitSweeps(t, 5, logs...) // no second alert event
	ready := media
	ready.Status = "ready"
	if err := a.SendPrinters(t.Context(), ready); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, br, "ready")
	expectAlert(t, br, false)
	waitSweeps(t, 5, logs...) // no second clear
	busy := media
	busy.Status = "busy"
	if err := a.SendPrinters(t.Context(), busy); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, br, "busy") // the next event: none was recorded twice
}

// TestPrinterAlertEvents: out of media past the threshold raises one alert event, recovering clears it
// with one more, and further sweeps record nothing.
func TestPrinterAlertEvents(t *testing.T) {
	clock := jobstest.NewClock(time.Now().UTC())
	s := servertest.New(t, servertest.Options{Config: fastAlerts(clock)})
	br, done := openStream(t, s, s.AdminKey, "types=printer.status_changed", "")
	defer done()
	alertCycle(t, s, clock, br, s.Recorder().Log)
}

// TestPrinterAlertEventsAgentGone: a ready printer whose agent disconnects raises an alert event once
// the threshold has passed since the disconnect, and the agent's return clears it.
func TestPrinterAlertEventsAgentGone(t *testing.T) {
	clock := jobstest.NewClock(time.Now().UTC())
	s := servertest.New(t, servertest.Options{Config: fastAlerts(clock)})
	br, done := openStream(t, s, s.AdminKey, "types=printer.status_changed", "")
	defer done()
	key := s.CreatePrintClient(t, "Dock 4")
	ready := protocol.Printer{ID: "tcp://10.0.0.6:9100", Name: "Zebra Dock 4", Make: "Zebra", Status: "ready"}
	a, _ := connectWith(t, s, key.Secret, servertest.DialOptions{}, ready)
	expectStatus(t, br, "ready")
	clock.Advance(time.Hour) // ready for an hour: no alert
	waitSweeps(t, 3, s.Recorder().Log)
	a.Conn.CloseNow()
	s.WaitPrinter(t, a, ready.ID, false)
	waitSweeps(t, 3, s.Recorder().Log)
	clock.Advance(printer.DefaultAlertAfter + time.Second)
	if e := expectAlert(t, br, true); e.Status != "ready" {
		t.Errorf("alert event %+v", e)
	}
	connectWith(t, s, key.Secret, servertest.DialOptions{InstallationID: a.Hello.InstallationID}, ready)
	expectAlert(t, br, false)
}

// TestReplicaPrinterAlertEventsOnce: with two replicas on one PostgreSQL database each transition is
// recorded once.
func TestReplicaPrinterAlertEventsOnce(t *testing.T) {
	clock := jobstest.NewClock(time.Now().UTC())
	c := newCluster(t, fastAlerts(clock))
	var logB testenv.SyncBuffer
	c.replica(t, func(cfg *server.Config) {
		fastAlerts(clock)(cfg)
		cfg.Log = slog.New(slog.NewTextHandler(&logB, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	br, done := openStream(t, c.A, c.A.AdminKey, "types=printer.status_changed", "")
	defer done()
	alertCycle(t, c.A, clock, br, c.A.Recorder().Log, logB.String)
}
