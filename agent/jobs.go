package agent

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"printdock/agent/localapi"
	"printdock/agent/spool"
	"printdock/printer"
	"printdock/printer/zpl"
	"printdock/protocol"
)

func jobFailure(err error) string {
	for _, e := range []error{printer.ErrMediaOut, printer.ErrHeadOpen, printer.ErrPaused, printer.ErrRibbonOut, printer.ErrDisconnected, printer.ErrNotFound} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && len(s) > 200 {
		s = s[i+2:]
	}
	return s
}

// jobHistory keeps the most recent jobs (newest first) for the local API.
type jobHistory struct {
	mu   sync.Mutex
	max  int
	jobs []localapi.Job
}

func newJobHistory(n int) *jobHistory { return &jobHistory{max: n} }

func (h *jobHistory) put(j localapi.Job) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range h.jobs {
		if h.jobs[i].ID == j.ID {
			h.jobs = append(h.jobs[:i], h.jobs[i+1:]...)
			break
		}
	}
	h.jobs = append([]localapi.Job{j}, h.jobs...)
	if len(h.jobs) > h.max {
		h.jobs = h.jobs[:h.max]
	}
}

func (h *jobHistory) update(id, state, reason string, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range h.jobs {
		if h.jobs[i].ID == id {
			h.jobs[i].State, h.jobs[i].Reason, h.jobs[i].Updated = state, reason, at
			return
		}
	}
}

func (h *jobHistory) setPreview(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range h.jobs {
		if h.jobs[i].ID == id {
			h.jobs[i].HasPrev = true
		}
	}
}

func (h *jobHistory) list() []localapi.Job {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]localapi.Job(nil), h.jobs...)
}

// jobSpooler is the running agent's spooler, nil when it is not running.
func (a *Agent) jobSpooler() *spooler {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.spooler
}

// maxJobsListed bounds Jobs.
const maxJobsListed = 200

// Jobs lists the agent's recent jobs, newest first: the spool's (also when the agent is not running)
// and the test prints.
func (a *Agent) Jobs() []localapi.Job {
	out := a.history.list()
	_ = a.withSpool(context.Background(), func(sp *spool.Spool) error {
		js, err := sp.List(context.Background(), maxJobsListed)
		if err != nil {
			a.log.Warn("agent: cannot list the spool", "error", err)
			return err
		}
		for _, j := range js {
			out = append(out, apiJob(j))
		}
		return nil
	})
	sort.SliceStable(out, func(i, k int) bool { return out[i].Updated.After(out[k].Updated) })
	if len(out) > maxJobsListed {
		out = out[:maxJobsListed]
	}
	return out
}

func apiJob(j spool.Job) localapi.Job {
	state := j.State
	if j.Open() && j.Waiting {
		state = localapi.JobWaiting
	}
	return localapi.Job{ID: j.ID, PrinterID: j.PrinterID, Title: j.Title, State: state, Reason: j.Reason,
		Updated: j.UpdatedAt, HasPrev: j.ZPL, Copies: j.Copies, CopiesDone: j.CopiesDone, Size: j.Size,
		Received: j.ReceivedAt, Deliveries: j.Deliveries}
}

// withSpool runs fn on the running agent's spool, or, when the agent is not running, on the state
// directory's spool file if there is one. ErrJobNotFound when there is no spool.
func (a *Agent) withSpool(ctx context.Context, fn func(*spool.Spool) error) error {
	a.mu.Lock()
	sp := a.spool
	a.mu.Unlock()
	if sp != nil {
		return fn(sp)
	}
	path := filepath.Join(a.cfg.StateDir, spool.FileName)
	if _, err := os.Stat(path); err != nil {
		return ErrJobNotFound
	}
	sp, err := spool.OpenFile(ctx, path)
	if err != nil {
		return err
	}
	defer sp.Close()
	return fn(sp)
}

// JobPreview renders the label of a spooled job (PNG) and also writes it to
// <StateDir>/previews/<job>.png, returning the image and that path.
func (a *Agent) JobPreview(ctx context.Context, id string) (localapi.JobPreview, error) {
	var content []byte
	err := a.withSpool(ctx, func(sp *spool.Spool) error {
		j, err := sp.Get(ctx, id)
		if err != nil {
			return err
		}
		content = j.Content
		return nil
	})
	if errors.Is(err, spool.ErrNotFound) || errors.Is(err, ErrJobNotFound) {
		return localapi.JobPreview{}, uerr(ErrJobNotFound, err, "This agent has no job %q", id)
	}
	if err != nil {
		return localapi.JobPreview{}, err
	}
	png, err := zpl.RenderPNG(content, zpl.RenderOptions{})
	if err != nil {
		return localapi.JobPreview{}, uerr(ErrNoPreview, err, "The job %s has no preview: %v", id, err)
	}
	res := localapi.JobPreview{JobID: id, PreviewPNG: png}
	path := filepath.Join(a.cfg.StateDir, "previews", previewFileName(id))
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err == nil && os.WriteFile(path, png, 0o600) == nil {
		res.PreviewPath = path
	}
	return res, nil
}

// previewFileName is a safe file name for a job's preview.
func previewFileName(id string) string {
	ok := id != "" && len(id) <= 100 && strings.IndexFunc(id, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) < 0
	if ok {
		return id + ".png"
	}
	return fmt.Sprintf("job-%x.png", sha256.Sum256([]byte(id)))
}

// Printers lists the agent's printers. On an agent that is not running it checks each printer once.
func (a *Agent) Printers(ctx context.Context) []localapi.Printer {
	if !a.isRunning() {
		_ = a.printers.reg.Scan(ctx) // discovery (USB, spooler), once
		a.printers.refresh(ctx)
	}
	return a.printers.snapshot()
}

// TestPrint prints the built-in test label on printerID ("" = the first printer).
func (a *Agent) TestPrint(ctx context.Context, printerID string) (localapi.TestPrintResult, error) {
	pid, err := a.printers.find(printerID)
	if err != nil {
		return localapi.TestPrintResult{}, err
	}
	now := time.Now().UTC()
	id := fmt.Sprintf("test-%d", now.UnixNano())
	label := TestLabel(a.hostname, pid, now)
	a.history.put(localapi.Job{ID: id, PrinterID: pid, Title: "Test label", State: protocol.JobPrinting, Updated: now})
	if _, err := a.printers.write(ctx, pid, label); err != nil {
		a.history.update(id, protocol.JobFailed, jobFailure(err), time.Now().UTC())
		return localapi.TestPrintResult{PrinterID: pid, JobID: id},
			uerr(err, err, "The test label could not be printed on %s: %s", pid, jobFailure(err))
	}
	a.history.update(id, protocol.JobDone, "", time.Now().UTC())
	a.log.Info("agent: test label printed", "printer", pid)
	res := localapi.TestPrintResult{PrinterID: pid, JobID: id}
	if png, err := zpl.RenderPNG(label, zpl.RenderOptions{}); err != nil {
		a.log.Warn("agent: no preview of the test label", "error", err)
	} else {
		res.PreviewPNG = png
		path := filepath.Join(a.cfg.StateDir, "previews", "test-label.png")
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err == nil && os.WriteFile(path, png, 0o600) == nil {
			res.PreviewPath = path
		}
		a.history.setPreview(id)
	}
	return res, nil
}

// TestLabel is the built-in test label (ZPL, 4×6 in at 203 dpi).
func TestLabel(hostname, printerID string, at time.Time) []byte {
	clean := func(s string) string {
		s = strings.Map(func(r rune) rune {
			if r == '^' || r == '~' || r < 0x20 {
				return ' '
			}
			return r
		}, s)
		if len(s) > 60 {
			s = s[:60]
		}
		return s
	}
	return []byte(fmt.Sprintf("^XA\n^PW812\n^LL1218\n^CF0,60\n^FO50,60^FDprintdock test label^FS\n"+
		"^FO50,140^GB712,4,4^FS\n^CF0,34\n^FO50,170^FDHost: %s^FS\n^FO50,220^FDPrinter: %s^FS\n^FO50,270^FDPrinted: %s^FS\n"+
		"^BY3^FO50,360^BCN,160,Y,N,N^FDPRINTDOCK^FS\n^FO50,620^GB712,200,4^FS\n^CF0,30\n"+
		"^FO80,660^FDIf you can read this, the agent^FS\n^FO80,700^FDreached the printer.^FS\n^XZ\n",
		clean(hostname), clean(printerID), at.Format("2006-01-02 15:04:05 MST")))
}
