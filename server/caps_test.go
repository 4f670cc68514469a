package server_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"printdock/agent/link"
	"printdock/protocol"
	"printdock/server"
	"printdock/server/hub"
	"printdock/server/jobs"
	"printdock/server/servertest"
)

// TestCaps: one credential registers at most --max-clients-per-key installations and a portal keeps at
// most --max-printers printers. A refused installation is closed with 4006 and a reason the agent shows;
// installations already known keep reconnecting; printers beyond the portal's cap are not recorded and
// the agent is told why; each refusal is audited once however often it repeats.
func TestCaps(t *testing.T) {
	s := servertest.New(t, servertest.Options{Config: func(c *server.Config) {
		c.MaxClientsPerKey, c.MaxPrinters = 3, 5
	}})
	k := s.CreatePrintClient(t, "capped")
	other := s.CreatePrintClient(t, "another key")
	var agents []*servertest.Agent
	for i := range 3 {
		agents = append(agents, s.Connect(t, k.Secret, servertest.DialOptions{InstallationID: fmt.Sprintf("inst-%d", i)}))
	}

	// A fourth installation of the same key is refused, as often as it tries, with a clear reason.
	verify := link.Config{URL: s.WSURL,
		Header: http.Header{"Authorization": {"Bearer " + k.Secret}}, Hello: servertest.Hello()}
	verify.Hello.InstallationID = "inst-new"
	for range 3 {
		_, err := link.Verify(ctx10(t), verify)
		var ce *link.CloseError
		if !errors.As(err, &ce) || ce.Kind != link.CloseLimit || ce.Code != protocol.CloseLimitReached ||
			ce.Reason != hub.ClientLimitReason {
			t.Fatalf("fourth installation: %v (%+v), want close 4006 %q", err, ce, hub.ClientLimitReason)
		}
	}
	// Another key is not affected; a known installation reconnects (also while its old session lives).
	s.Connect(t, other.Secret, servertest.DialOptions{InstallationID: "inst-new"})
	again := s.Connect(t, k.Secret, servertest.DialOptions{InstallationID: "inst-0"})
	agents[0].Conn.CloseNow()
	s.Connect(t, k.Secret, servertest.DialOptions{InstallationID: "inst-1"})
	verify.Hello.InstallationID = "inst-2"
	if _, err := link.Verify(ctx10(t), verify); err != nil {
		t.Fatalf("known installation refused: %v", err)
	}

	// Printers: 4 + 3 reported, the portal keeps 5; the second agent is told which limit it hit.
	printers := func(prefix string, n int) []protocol.Printer {
		var ps []protocol.Printer
		for i := range n {
			ps = append(ps, servertest.SimPrinter(fmt.Sprintf("%s-%d", prefix, i)))
		}
		return ps
	}
	must(t, again.SendPrinters(ctx10(t), printers("a", 4)...))
	servertest.WaitFor(t, "4 printers", func() bool { return len(s.Printers(t)) == 4 })
	for range 2 {
		must(t, agents[2].SendPrinters(ctx10(t), printers("b", 3)...))
		e := agents[2].ExpectError(t, "too_many_printers")
		if !strings.Contains(e.Message, "the portal keeps at most 5 printers") || !strings.Contains(e.Message, "--max-printers") {
			t.Errorf("refusal message %q", e.Message)
		}
	}
	if n := len(s.Printers(t)); n != 5 {
		t.Errorf("%d printers recorded, want 5", n)
	}
	// A known printer is still updated: the agent that holds 4 re-reports them without refusal.
	must(t, again.SendPrinters(ctx10(t), printers("a", 4)...))
	again.ExpectAlive(t)

	for action, target := range map[string]string{jobs.ActionClientRefused: k.ID, jobs.ActionPrinterRefused: ""} {
		var out struct {
			Items []struct{ Target, Detail string } `json:"items"`
		}
		s.JSON(t, http.MethodGet, "/api/v1/audit?action="+action, s.AdminKey, nil, http.StatusOK, &out)
		if len(out.Items) != 1 || (target != "" && out.Items[0].Target != target) {
			t.Errorf("audit %s = %+v, want one row", action, out.Items)
		}
	}
}
