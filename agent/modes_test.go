package agent

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"printdock/agent/localapi"
	"printdock/internal/testenv"
	"printdock/printer"
	"printdock/server/jobs"
	"printdock/server/servertest"
)

// silentPrinter accepts data but never answers a status request (EPL, TSPL, a one-way print server).
type silentPrinter struct{ printer.Printer }

func (s silentPrinter) Info() printer.Info {
	i := s.Printer.Info()
	i.Language = printer.LangUnknown
	return i
}

func (silentPrinter) Status(context.Context) (printer.Status, error) {
	return printer.Status{State: printer.StateUnknown}, fmt.Errorf("silent: %w", printer.ErrNoStatus)
}

func openSilent(ctx context.Context, uri string) (printer.Printer, error) {
	p, err := quickNetraw(ctx, uri)
	if err != nil {
		return nil, err
	}
	return silentPrinter{p}, nil
}

func localPrinter(t *testing.T, a *testAgent) localapi.Printer {
	t.Helper()
	ps := a.Printers(context.Background())
	if len(ps) != 1 {
		t.Fatalf("printers: %+v", ps)
	}
	return ps[0]
}

// In status mode auto, a printer that has never answered ~HS is printed to, once, and shown as
// unknown (never ready).
func TestStatusAutoNeverAnswered(t *testing.T) {
	r := newJobRig(t, func(c *Config) { c.OpenPrinter = openSilent })
	content := label("silent")
	j := r.submit(t, content, servertest.JobOptions{})
	r.waitJob(t, j.ID, "done", stateIsJob(jobs.Done))
	got := waitSimJobs(t, r.sim.Printer(), 1)
	if len(got) != 1 || !bytes.Equal(got[0].Data, content) || len(r.sim.Printer().Jobs()) != 1 {
		t.Fatalf("printer got %d jobs: %+v", len(r.sim.Printer().Jobs()), got)
	}
	p := localPrinter(t, r.a)
	if p.State != string(printer.StateUnknown) || p.Reason != reasonNeverAnswer || p.StatusMode != "auto" || p.Language != "unknown" {
		t.Fatalf("printer view: %+v", p)
	}
	for _, pp := range r.a.printers.protocolList() {
		if pp.Status == string(printer.StateReady) || pp.StatusMode != "auto" {
			t.Fatalf("reported to the server as %+v", pp)
		}
	}
}

// A printer that answered ~HS before and is silent now waits ("out of media or head open?"), also after
// a restart of the agent: the fact is kept in the state directory.
func TestStatusAnsweredThenSilent(t *testing.T) {
	r := newJobRig(t, nil)
	uri := r.sim.URI()
	testenvWaitLearned(t, r.a.cfg.StateDir, uri)
	if p := localPrinter(t, r.a); p.Language != "zpl" || p.StatusMode != "auto" {
		t.Fatalf("printer view: %+v", p)
	}
	r.sim.Printer().SetMediaOut(true)
	j := r.submit(t, label("waits"), servertest.JobOptions{})
	r.waitJob(t, j.ID, "waiting", func(j jobs.Job) bool { return j.Reason == ReasonNotAnswering })

	// The agent restarts; the printer never answers again, yet the agent still knows it once did: the
	// job resumes and keeps waiting through several looks at the printer.
	dir := r.a.cfg.StateDir
	r.a.Stop()
	var asked atomic.Int64
	r.a = r.newAgent(t, dir, func(c *Config) {
		c.OpenPrinter = func(ctx context.Context, uri string) (printer.Printer, error) {
			p, err := openSilent(ctx, uri)
			return countingPrinter{p, &asked}, err
		}
	})
	testenv.WaitFor(t, "several looks at the printer", func() bool { return asked.Load() >= 5 })
	if p := localPrinter(t, r.a); p.Reason == reasonNeverAnswer || p.Language != "zpl" {
		t.Fatalf("after the restart the agent forgot the printer answered once: %+v", p)
	}
	if w := r.ts.GetJob(t, j.ID); w.State != jobs.Sent || w.Reason != ReasonNotAnswering {
		t.Fatalf("job after the restart: %+v", w)
	}
	if n := len(r.sim.Printer().Jobs()) + r.sim.Printer().Pending(); n != 0 {
		t.Fatalf("%d jobs reached a silent printer that had answered before", n)
	}
}

// countingPrinter counts status requests.
type countingPrinter struct {
	printer.Printer
	n *atomic.Int64
}

func (c countingPrinter) Status(ctx context.Context) (printer.Status, error) {
	c.n.Add(1)
	return c.Printer.Status(ctx)
}

func testenvWaitLearned(t *testing.T, dir, uri string) {
	t.Helper()
	testenv.WaitFor(t, "the printer's answer to be learnt", func() bool {
		b, err := os.ReadFile(filepath.Join(dir, learnedFile))
		return err == nil && strings.Contains(string(b), uri)
	})
}

// Status mode none (from the config): the agent prints at once without ever asking the printer, and
// reports the configured language and dpi.
func TestStatusNonePrintsWithoutAsking(t *testing.T) {
	r := newJobRig(t, func(c *Config) {
		c.PrinterSettings = map[string]PrinterSettings{c.Printers[0]: {Language: "epl", StatusMode: "none", DPI: 203}}
	})
	p := r.sim.Printer()
	p.SetPaused(true) // a Zebra would say "paused" if asked; the agent does not ask
	j := r.submit(t, label("none"), servertest.JobOptions{})
	r.waitJob(t, j.ID, "done", stateIsJob(jobs.Done))
	if n := p.StatusRequests(); n != 0 {
		t.Fatalf("the printer was asked for its status %d times", n)
	}
	lp := localPrinter(t, r.a)
	if lp.Language != "epl" || lp.DPI != 203 || lp.StatusMode != "none" || lp.State != string(printer.StateUnknown) || lp.Reason != reasonNotChecked {
		t.Fatalf("printer view: %+v", lp)
	}
	pl := r.a.printers.protocolList()
	if len(pl) != 1 || pl[0].Language != "epl" || pl[0].DPI != 203 || pl[0].StatusMode != "none" {
		t.Fatalf("printers message: %+v", pl)
	}
	p.SetPaused(false)
	waitSimJobs(t, p, 1)
}

func TestFileConfigPrinterSettings(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		path := filepath.Join(dir, "agent.json")
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	fc, err := LoadFileConfig(write(`{"printers": {"tcp://10.0.0.5:9100": {"language": "epl", "status_mode": "none", "dpi": 203},
		"usb://0a5f:0181/X1": {"status_mode": "zpl"}}, "log_level": "debug"}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(fc.Printers) != 1 || fc.Printers[0] != "tcp://10.0.0.5:9100" || fc.LogLevel != "debug" ||
		fc.PrinterSettings["tcp://10.0.0.5:9100"] != (PrinterSettings{Language: "epl", StatusMode: "none", DPI: 203}) {
		t.Fatalf("parsed: %+v", fc)
	}
	var c Config
	c.PrinterSettings = map[string]PrinterSettings{"usb://0a5f:0181/X1": {StatusMode: "auto"}}
	fc.Apply(&c)
	if c.PrinterSettings["usb://0a5f:0181/X1"].StatusMode != "auto" || c.PrinterSettings["tcp://10.0.0.5:9100"].DPI != 203 {
		t.Fatalf("applied: %+v (flags win over the file)", c.PrinterSettings)
	}
	if fc, err := LoadFileConfig(write(`{"printers": ["sim://a", "sim://b"]}`)); err != nil || len(fc.Printers) != 2 || fc.PrinterSettings != nil {
		t.Fatalf("list form: %+v %v", fc, err)
	}
	for _, bad := range []string{`{"printers": {"sim://a": {"colour": "red"}}}`, `{"printerz": []}`, `{"printers": 3}`} {
		if _, err := LoadFileConfig(write(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
	for _, bad := range []PrinterSettings{{StatusMode: "sometimes"}, {Language: "pcl"}, {DPI: -1}} {
		if _, err := New(Config{StateDir: t.TempDir(), SocketPath: "-", NoDiscovery: true,
			PrinterSettings: map[string]PrinterSettings{"sim://a": bad}}); err == nil {
			t.Errorf("New accepted %+v", bad)
		}
	}
}
