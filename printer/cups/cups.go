// Package cups prints RAW to a queue of the local CUPS server (cups://QUEUE), the Linux peer of
// printer/winspool: many sites already have their label printers set up in CUPS. It speaks a minimal IPP
// (RFC 8010/8011) over HTTP to cupsd itself, on its unix socket or TCP port: Print-Job with
// document-format application/vnd.cups-raw, so the bytes reach the printer unchanged, and
// Get-Printer-Attributes for the queue's state (printer-state, printer-state-reasons such as
// media-empty). Why IPP and not `lp -d QUEUE -o raw`: no dependency on the cups-client tools, a real
// status, errors cupsd names (no such queue, not accepting jobs) instead of parsed command output, and
// cancellation through the context. The server is $CUPS_SERVER (a socket path or host[:port], as for
// the CUPS tools), else /run/cups/cups.sock when present, else localhost:631.
package cups

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"printdock/printer"
)

// ErrBadURI is returned for a URI that is not cups://QUEUE.
var ErrBadURI = errors.New("cups: bad printer URI")

const scheme = "cups://"

// DefaultSocket is where Debian's cupsd listens locally.
const DefaultSocket = "/run/cups/cups.sock"

// URI returns the ID of the CUPS queue called queue.
func URI(queue string) string { return scheme + url.PathEscape(queue) }

// ParseURI returns the queue name in a cups://QUEUE URI. CUPS queue names are up to 127 printable
// characters without spaces, '/', '\\', '#', '?', quotes.
func ParseURI(uri string) (string, error) {
	if len(uri) < len(scheme) || !strings.EqualFold(uri[:len(scheme)], scheme) {
		return "", fmt.Errorf("%w: %q: want cups://QUEUE", ErrBadURI, uri)
	}
	q, err := url.PathUnescape(uri[len(scheme):])
	if err != nil || q == "" || len(q) > 127 || strings.ContainsAny(q, " /\\#?'\"") {
		return "", fmt.Errorf("%w: %q: want cups://QUEUE (a CUPS queue name)", ErrBadURI, uri)
	}
	for _, r := range q {
		if r < 0x21 || r == 0x7f {
			return "", fmt.Errorf("%w: %q: control character in the queue name", ErrBadURI, uri)
		}
	}
	return q, nil
}

// Options tune a Printer; zero values take the defaults.
type Options struct {
	// Server is cupsd's address: a unix socket path or host[:port] (default DefaultServer()).
	Server string
	// Timeout bounds one request: a Print-Job including its upload, a Get-Printer-Attributes. Default 60 s.
	Timeout time.Duration
	// User is the requesting-user-name (default the current user).
	User string
}

// DefaultServer returns $CUPS_SERVER, else DefaultSocket when it exists, else localhost:631.
func DefaultServer() string {
	if s := os.Getenv("CUPS_SERVER"); s != "" {
		return s
	}
	if _, err := os.Stat(DefaultSocket); err == nil {
		return DefaultSocket
	}
	return "localhost:631"
}

// Printer is a CUPS queue. It holds no connection between calls and is safe for concurrent use.
type Printer struct {
	queue  string
	opts   Options
	client *client
}

var _ printer.Printer = (*Printer)(nil)

var requestIDs atomic.Uint32

// Open returns the queue a cups://QUEUE URI names. It does not contact cupsd: a queue that does not
// exist shows in Status (offline, printer.ErrNotFound) and fails Write.
func Open(ctx context.Context, uri string, opts Options) (*Printer, error) {
	q, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	if opts.Server == "" {
		opts.Server = DefaultServer()
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.User == "" {
		opts.User = currentUser()
	}
	return &Printer{queue: q, opts: opts, client: newClient(opts.Server)}, nil
}

// Info implements printer.Printer. The language is unknown unless configured (cups://Q?lang=tspl):
// the queue does not say what the printer behind it speaks. Not bidirectional: there is no channel for
// ~HS; the status is the queue's.
func (p *Printer) Info() printer.Info {
	return printer.Info{ID: URI(p.queue), Name: p.queue, Language: printer.LangUnknown}
}

// Close implements printer.Printer.
func (p *Printer) Close() error {
	p.client.close()
	return nil
}

func (p *Printer) printerURI() string { return "ipp://localhost/printers/" + url.PathEscape(p.queue) }

// Write implements printer.Printer with an IPP Print-Job of data as application/vnd.cups-raw. It
// returns once cupsd accepted the job (queued it; the backend sends it to the printer). cupsd queues a
// job only when it received the whole request, so a failure before that reports Written 0; a failure
// after the whole job went out without cupsd's answer reports it all written (it may print).
func (p *Printer) Write(ctx context.Context, data []byte) error {
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	req := newRequest(opPrintJob, requestIDs.Add(1), p.printerURI())
	req.add(tagName, "requesting-user-name", p.opts.User)
	req.add(tagName, "job-name", "printdock")
	req.add(tagMIMEType, "document-format", "application/vnd.cups-raw")
	resp, sent, err := p.client.post(ctx, p.queue, req.bytes(), data)
	if err != nil {
		written := 0
		if sent == len(data) {
			written = len(data)
		}
		return fmt.Errorf("cups %s: print: %w", p.queue, &printer.WriteError{Written: written, Total: len(data), Err: err})
	}
	if !resp.ok() {
		return fmt.Errorf("cups %s: print: %w", p.queue,
			&printer.WriteError{Total: len(data), Err: statusError(p.queue, resp)})
	}
	return nil
}

// Status implements printer.Printer with Get-Printer-Attributes. A cupsd that cannot be reached or a
// queue it does not have is StateOffline with an error (printer.ErrDisconnected, printer.ErrNotFound);
// otherwise the queue's state comes back without error, also when it is media out or stopped (use
// Status.Err).
func (p *Printer) Status(ctx context.Context) (printer.Status, error) {
	now := time.Now()
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	req := newRequest(opGetPrinterAttributes, requestIDs.Add(1), p.printerURI())
	req.add(tagName, "requesting-user-name", p.opts.User)
	req.add(tagKeyword, "requested-attributes", "printer-state", "printer-state-reasons", "printer-state-message",
		"printer-is-accepting-jobs", "queued-job-count")
	resp, _, err := p.client.post(ctx, p.queue, req.bytes(), nil)
	if err != nil {
		st := printer.StateOffline
		if ctx.Err() != nil {
			st = printer.StateUnknown
		}
		return printer.Status{State: st, Reason: "CUPS not reachable at " + p.opts.Server, CheckedAt: now},
			fmt.Errorf("cups %s: status: %w", p.queue, err)
	}
	if !resp.ok() {
		return printer.Status{State: printer.StateOffline, Reason: "no CUPS queue " + p.queue, CheckedAt: now},
			fmt.Errorf("cups %s: status: %w", p.queue, statusError(p.queue, resp))
	}
	var reasons []string
	if a, ok := resp.find(tagPrinter, "printer-state-reasons"); ok {
		for _, v := range a.values {
			if s, ok := v.(string); ok {
				reasons = append(reasons, s)
			}
		}
	}
	state, _ := resp.num(tagPrinter, "printer-state")
	jobs, _ := resp.num(tagPrinter, "queued-job-count")
	accepting := true
	if a, ok := resp.find(tagPrinter, "printer-is-accepting-jobs"); ok && len(a.values) > 0 {
		accepting, _ = a.values[0].(bool)
	}
	s, reason := stateOf(queueState{
		state: state, reasons: reasons, accepting: accepting, jobs: jobs,
		message: resp.str(tagPrinter, "printer-state-message"),
	})
	return printer.Status{State: s, Reason: reason, CheckedAt: now}, nil
}

// statusError turns an IPP error status into an error callers can branch on.
func statusError(queue string, resp *response) error {
	msg := resp.str(tagOperation, "status-message")
	if msg == "" {
		msg = fmt.Sprintf("IPP status 0x%04x", resp.status)
	}
	switch resp.status {
	case statusNotFound:
		return fmt.Errorf("no CUPS queue %q (%s): %w", queue, msg, printer.ErrNotFound)
	case statusNotAccepting:
		return fmt.Errorf("the CUPS queue %q is not accepting jobs (%s): %w", queue, msg, printer.ErrPaused)
	case statusForbidden, statusNotAuthenticated, statusNotAuthorized:
		return fmt.Errorf("cupsd refused the request (%s): %w", msg, printer.ErrFault)
	}
	return fmt.Errorf("cupsd: %s: %w", msg, printer.ErrFault)
}
