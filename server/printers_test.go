package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"printdock/protocol"
	"printdock/server"
	"printdock/server/jobs"
	"printdock/server/jobs/jobstest"
	"printdock/server/servertest"
)

// TestPrinterCapabilities: each printer's language, dpi and status mode from the agent's printers
// message are listed by GET /api/v1/printers and GET /api/v1/clients, and follow the agent's updates.
func TestPrinterCapabilities(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	k := s.CreatePrintClient(t, "capabilities")
	epl := protocol.Printer{ID: "tcp://10.0.0.5:9100", Name: "Rollo", Status: "unknown", Language: "epl", DPI: 203, StatusMode: "none"}
	zpl := protocol.Printer{ID: "sim://zd", Name: "ZD421", Status: "ready", Language: "zpl", DPI: 300, StatusMode: "auto"}
	bare := servertest.SimPrinter("bare") // an older agent says nothing about it
	a, _ := connectWith(t, s, k.Secret, servertest.DialOptions{}, epl, zpl, bare)

	type row struct {
		URI        string `json:"uri"`
		Language   string `json:"language"`
		DPI        int    `json:"dpi"`
		StatusMode string `json:"status_mode"`
	}
	list := func(path string) map[string]row {
		t.Helper()
		code, b := s.Do(t, http.MethodGet, path, s.AdminKey, nil)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, code, b)
		}
		var out struct {
			Items []struct {
				row
				Printers []row `json:"printers"`
			} `json:"items"`
		}
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		rows := map[string]row{}
		for _, it := range out.Items {
			if it.URI != "" {
				rows[it.URI] = it.row
			}
			for _, p := range it.Printers {
				rows[p.URI] = p
			}
		}
		return rows
	}
	want := map[string]row{
		epl.ID:  {epl.ID, "epl", 203, "none"},
		zpl.ID:  {zpl.ID, "zpl", 300, "auto"},
		bare.ID: {bare.ID, "", 0, ""},
	}
	for _, path := range []string{"/api/v1/printers", "/api/v1/clients"} {
		got := list(path)
		for uri, w := range want {
			if got[uri] != w {
				t.Errorf("GET %s: printer %s = %+v, want %+v", path, uri, got[uri], w)
			}
		}
	}
	// The fields are always present in the JSON, so a client can tell "unknown" from an old server.
	code, b := s.Do(t, http.MethodGet, "/api/v1/printers", s.AdminKey, nil)
	if code != http.StatusOK || !strings.Contains(string(b), `"status_mode":""`) {
		t.Fatalf("printers JSON lacks empty fields: %s", b)
	}

	// The agent learns the printer speaks ZPL after all.
	epl.Language, epl.StatusMode = "zpl", "auto"
	if err := a.SendPrinters(ctx10(t), epl, zpl, bare); err != nil {
		t.Fatal(err)
	}
	servertest.WaitFor(t, "the update listed", func() bool { return list("/api/v1/printers")[epl.ID].Language == "zpl" })
	if got := list("/api/v1/printers")[epl.ID]; got != (row{epl.ID, "zpl", 203, "auto"}) {
		t.Fatalf("after the update: %+v", got)
	}
}

// TestJobExpiry: the default expiry is 24 hours, a server may set another, and a job may name its own
// with expires_in_seconds or expires_at, within bounds.
func TestJobExpiry(t *testing.T) {
	clock := jobstest.NewClock(time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC))
	for _, tc := range []struct {
		name   string
		server time.Duration // Config.JobExpiry; 0: the default
		want   time.Duration
	}{
		{"default", 0, 24 * time.Hour},
		{"server setting", 2 * time.Hour, 2 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := servertest.New(t, servertest.Options{JobClock: clock.Now,
				Config: func(c *server.Config) { c.JobExpiry = tc.server }})
			k := s.CreatePrintClient(t, "expiry")
			_, ids := connectWith(t, s, k.Secret, servertest.DialOptions{}, servertest.SimPrinter("zd"))
			j := s.SubmitJob(t, ids[0], label("default"), servertest.JobOptions{})
			if got := j.ExpiresAt.Sub(j.CreatedAt); got != tc.want {
				t.Fatalf("expiry %v, want %v", got, tc.want)
			}
			at := clock.Now().Add(90 * time.Minute)
			j = s.SubmitJob(t, ids[0], label("at"), servertest.JobOptions{ExpiresAt: at})
			if !j.ExpiresAt.Equal(at) {
				t.Fatalf("expires_at %v, want %v", j.ExpiresAt, at)
			}
			j = s.SubmitJob(t, ids[0], label("in"), servertest.JobOptions{ExpiresInSeconds: 600})
			if got := j.ExpiresAt.Sub(j.CreatedAt); got != 10*time.Minute {
				t.Fatalf("expires_in_seconds 600: expiry %v", got)
			}
			for _, bad := range []servertest.JobOptions{
				{ExpiresAt: clock.Now().Add(-time.Minute)},                // past
				{ExpiresAt: clock.Now().Add(jobs.MaxExpiry + time.Hour)},  // beyond the bound
				{ExpiresAt: at, ExpiresInSeconds: 60},                     // both
				{ExpiresInSeconds: int64(jobs.MaxExpiry/time.Second) + 1}, // beyond the bound
			} {
				bad.Want = http.StatusBadRequest
				s.SubmitJob(t, ids[0], label("bad"), bad)
			}
		})
	}
	// A server refuses an expiry beyond the bound.
	if _, err := server.New(ctx10(t), server.Config{DataDir: t.TempDir(), JobExpiry: jobs.MaxExpiry + time.Hour}); err == nil {
		t.Fatal("server accepted a job expiry beyond jobs.MaxExpiry")
	}
}
