// Package sim is a simulated label printer for tests, demos and benchmarks. A *Printer implements
// printer.Printer in process and can also serve raw TCP 9100 (Listen). By default it is a Zebra: it
// accepts ZPL, answers ~HS with a real three-string host status. Other dialects (SetDialect: silent, EPL,
// TSPL) never answer and record every byte they receive, ~HS included. A printer can be told to run out of media, open its head, pause, print
// slowly or be unplugged (also in the middle of a job) and plugged back in. It keeps every job it
// printed, byte for byte, and counts labels (complete ^XA…^XZ formats), so tests can check that nothing
// was lost and nothing printed twice; Wait* methods let them wait for an outcome without sleeping.
//
// Like a real Zebra it buffers what it receives and prints in order while it can: out of media, head
// open, paused or ribbon out, jobs wait in the buffer. Out of media or with the head open it does not
// answer ~HS at all. Unplugging drops the connection (Write fails with printer.ErrDisconnected); the
// complete formats received before the drop still print, as they would on a real printer.
package sim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"printdock/printer"
	"printdock/printer/zpl"
)

// Job is one job the simulator received and printed.
type Job struct {
	Seq         int       // 1-based, in print order
	Data        []byte    // the bytes received; a Zebra (DialectZPL) removes the ~HS commands it executed
	Labels      int       // the labels that printed: complete ^XA…^XZ formats, EPL P or TSPL PRINT quantities
	Interrupted bool      // the connection dropped mid-job; Data is what arrived before the drop
	Via         string    // "direct" (Write) or "tcp"
	PrintedAt   time.Time // when the last label of the job came out
	formatDots  []int     // paper fed by each format or print command, for the print time
}

// Printer is a simulated label printer. All methods are safe for concurrent use.
type Printer struct {
	name string

	mu             sync.Mutex
	dialect        Dialect
	changed        chan struct{} // closed and replaced on every change
	mediaOut       bool
	headOpen       bool
	paused         bool
	ribbonOut      bool
	unplugged      bool
	ips            float64 // print speed in inches per second; 0 prints instantly
	unplugAfter    int     // bytes to accept before unplugging; < 0 when not armed
	queue          []*Job  // received, not yet printed
	printing       bool    // a timer is printing queue[0]
	gen            int     // bumped by Reset so a stale print timer does nothing
	jobs           []Job
	labels         int
	statusRequests int
	servers        map[*Server]struct{}
}

var _ printer.Printer = (*Printer)(nil)

// New returns a ready simulated printer called name (its ID is sim://name).
func New(name string) *Printer {
	return &Printer{
		name:        name,
		dialect:     DialectZPL,
		changed:     make(chan struct{}),
		unplugAfter: -1,
		servers:     map[*Server]struct{}{},
	}
}

var named struct {
	sync.Mutex
	m map[string]*Printer
}

// Named returns the process-wide simulated printer called name, creating it on first use. The agent's
// sim://name printers are these, so a test or demo can reach the same printer the agent prints to.
func Named(name string) *Printer {
	named.Lock()
	defer named.Unlock()
	if named.m == nil {
		named.m = map[string]*Printer{}
	}
	p, ok := named.m[name]
	if !ok {
		p = New(name)
		named.m[name] = p
	}
	return p
}

// Lookup returns the process-wide simulated printer called name, if Named created it.
func Lookup(name string) (*Printer, bool) {
	named.Lock()
	defer named.Unlock()
	p, ok := named.m[name]
	return p, ok
}

// Name returns the printer's name.
func (p *Printer) Name() string { return p.name }

// SetDialect makes the printer speak d from now on (jobs already received keep their count).
func (p *Printer) SetDialect(d Dialect) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dialect = d
	p.changedLocked()
}

// Dialect returns what the printer speaks.
func (p *Printer) Dialect() Dialect {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dialect
}

// Info implements printer.Printer. Every dialect is bidirectional, like a TCP printer: whether it
// answers is what the agent has to find out.
func (p *Printer) Info() printer.Info {
	d := p.Dialect()
	mk, model := d.model()
	return printer.Info{
		ID:            "sim://" + p.name,
		Name:          p.name,
		Make:          mk,
		Model:         model,
		Serial:        "SIM-" + p.name,
		Language:      d.language(),
		Bidirectional: true,
	}
}

// Write implements printer.Printer: the job is received into the printer's buffer and prints when the
// printer can. A Zebra executes the ~HS commands in data; the other dialects keep them in the job, but
// count data made only of ~HS commands as a status request instead of a job. It fails with printer.ErrDisconnected while unplugged, or when an UnplugAfter budget runs
// out in the middle of data (the part received is kept as an interrupted job).
func (p *Printer) Write(ctx context.Context, data []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sim %s: write: %w", p.name, &printer.WriteError{Total: len(data), Err: err})
	}
	d := data
	if p.Dialect().answersHS() {
		var (
			f  hsFilter
			hs int
		)
		d, hs = f.feed(data)
		d = append(d, f.flush()...)
		for range hs {
			_, _ = p.hsReply() // executed; a direct Write has nowhere to put the answer
		}
	} else if onlyPolls(data) {
		_, _ = p.hsReply()
		return nil
	}
	if len(d) == 0 {
		return nil
	}
	n, drop := p.take(len(d))
	if n > 0 {
		p.enqueue(d[:n], "direct", drop)
	}
	if drop {
		p.Unplug()
		return fmt.Errorf("sim %s: write: %w", p.name,
			&printer.WriteError{Written: n, Total: len(data), Err: printer.ErrDisconnected})
	}
	return nil
}

// Status implements printer.Printer by building the ~HS reply a Zebra would send and parsing it. Out of
// media or with the head open, or in a dialect other than ZPL, the printer is silent: Status returns
// state unknown and printer.ErrNoStatus at once (a real transport would wait for its timeout first).
func (p *Printer) Status(ctx context.Context) (printer.Status, error) {
	if err := ctx.Err(); err != nil {
		return printer.Status{State: printer.StateUnknown}, fmt.Errorf("sim %s: status: %w", p.name, err)
	}
	now := time.Now()
	reply, err := p.hsReply()
	if err != nil {
		st := printer.Status{State: printer.StateUnknown, Reason: zpl.ReasonNoReply, CheckedAt: now}
		if errors.Is(err, printer.ErrDisconnected) {
			st.State, st.Reason = printer.StateOffline, "unplugged"
		}
		return st, fmt.Errorf("sim %s: status: %w", p.name, err)
	}
	h, err := zpl.ParseHostStatus(reply)
	if err != nil {
		return printer.Status{State: printer.StateUnknown, CheckedAt: now}, fmt.Errorf("sim %s: status: %w", p.name, err)
	}
	return h.Status(now), nil
}

// Close implements printer.Printer. It does nothing: the simulated printer outlives its handles (stop a
// TCP listener with Server.Close).
func (p *Printer) Close() error { return nil }

// SetMediaOut runs the printer out of labels (true) or reloads it (false).
func (p *Printer) SetMediaOut(v bool) { p.set(&p.mediaOut, v) }

// SetHeadOpen opens (true) or closes (false) the print head.
func (p *Printer) SetHeadOpen(v bool) { p.set(&p.headOpen, v) }

// SetPaused pauses (true) or resumes (false) printing. A paused printer still answers ~HS.
func (p *Printer) SetPaused(v bool) { p.set(&p.paused, v) }

// SetRibbonOut runs the ribbon out (true) or replaces it (false). The printer still answers ~HS.
func (p *Printer) SetRibbonOut(v bool) { p.set(&p.ribbonOut, v) }

// SetSpeed sets the print speed in inches per second: each label then takes its length (^LL, else 6
// inches at 203 dpi) divided by ips to print. 0 (the default) prints instantly.
func (p *Printer) SetSpeed(ips float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ips = max(ips, 0)
	p.changedLocked()
}

func (p *Printer) set(field *bool, v bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	*field = v
	p.changedLocked()
	p.kickLocked()
}

// Unplug disconnects the printer: open TCP connections are reset, new ones are reset at once, Write
// and Status fail with printer.ErrDisconnected. Jobs already received keep printing.
func (p *Printer) Unplug() {
	p.mu.Lock()
	p.unplugged = true
	p.unplugAfter = -1
	servers := make([]*Server, 0, len(p.servers))
	for s := range p.servers {
		servers = append(servers, s)
	}
	p.changedLocked()
	p.mu.Unlock()
	for _, s := range servers {
		s.dropAll()
	}
}

// Replug connects the printer again.
func (p *Printer) Replug() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.unplugged = false
	p.changedLocked()
}

// UnplugAfter arms an unplug in the middle of a job: the printer accepts n more bytes of job data and
// is unplugged when the next byte arrives (so a job of exactly n bytes completes). n < 0 disarms it.
func (p *Printer) UnplugAfter(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.unplugAfter = max(n, -1)
}

// Plugged reports whether the printer is connected.
func (p *Printer) Plugged() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.unplugged
}

// Reset empties the buffer and the record of printed jobs and returns the printer to ready, plugged in,
// instant printing. It keeps the dialect.
func (p *Printer) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mediaOut, p.headOpen, p.paused, p.ribbonOut, p.unplugged = false, false, false, false, false
	p.ips, p.unplugAfter = 0, -1
	p.queue, p.jobs, p.labels, p.statusRequests = nil, nil, 0, 0
	p.printing = false
	p.gen++
	p.changedLocked()
}

// Jobs returns the jobs printed so far, in order.
func (p *Printer) Jobs() []Job {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.jobs)
}

// Labels returns the number of labels printed so far.
func (p *Printer) Labels() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.labels
}

// Pending returns the number of jobs received but not printed yet.
func (p *Printer) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.queue)
}

// StatusRequests returns how many ~HS requests (and Status calls) the printer has received, answered
// or not. For dialects other than ZPL these are the Status calls and the writes or connections that
// carried nothing but ~HS; a ~HS inside a job is not counted (it stays in the job's Data).
func (p *Printer) StatusRequests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.statusRequests
}

// HostStatus returns what the printer would answer to ~HS now (even when it would stay silent).
func (p *Printer) HostStatus() zpl.HostStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hostStatusLocked()
}

// WaitJobs waits until at least n jobs have printed and returns them all.
func (p *Printer) WaitJobs(ctx context.Context, n int) ([]Job, error) {
	var jobs []Job
	err := p.wait(ctx, func() bool {
		if len(p.jobs) < n {
			return false
		}
		jobs = slices.Clone(p.jobs)
		return true
	})
	return jobs, err
}

// WaitLabels waits until at least n labels have printed.
func (p *Printer) WaitLabels(ctx context.Context, n int) error {
	return p.wait(ctx, func() bool { return p.labels >= n })
}

// WaitPending waits until exactly n jobs are received but not printed.
func (p *Printer) WaitPending(ctx context.Context, n int) error {
	return p.wait(ctx, func() bool { return len(p.queue) == n })
}

// WaitStatusRequests waits until the printer has received at least n ~HS requests.
func (p *Printer) WaitStatusRequests(ctx context.Context, n int) error {
	return p.wait(ctx, func() bool { return p.statusRequests >= n })
}

// wait calls cond (with p.mu held) on every change until it is true or ctx ends.
func (p *Printer) wait(ctx context.Context, cond func() bool) error {
	for {
		p.mu.Lock()
		ok := cond()
		ch := p.changed
		p.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("sim %s: wait: %w", p.name, ctx.Err())
		}
	}
}

func (p *Printer) changedLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// take accounts for k bytes of job data arriving. It returns how many are accepted and whether the
// printer must now be unplugged (it is unplugged already, or the UnplugAfter budget ran out).
func (p *Printer) take(k int) (n int, drop bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.unplugged:
		return 0, true
	case p.unplugAfter < 0:
		return k, false
	case k <= p.unplugAfter:
		p.unplugAfter -= k
		return k, false
	default:
		n = p.unplugAfter
		p.unplugAfter = -1
		return n, true
	}
}

// enqueue puts a received job into the buffer and starts printing if the printer can.
func (p *Printer) enqueue(data []byte, via string, interrupted bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	labels, dots := p.dialect.count(data)
	j := &Job{Data: slices.Clone(data), Labels: labels, Interrupted: interrupted, Via: via, formatDots: dots}
	p.queue = append(p.queue, j)
	p.changedLocked()
	p.kickLocked()
}

func (p *Printer) canPrintLocked() bool {
	return !p.mediaOut && !p.headOpen && !p.paused && !p.ribbonOut
}

// kickLocked prints queued jobs while the printer can: at once at speed 0, else one job per timer.
func (p *Printer) kickLocked() {
	for !p.printing && len(p.queue) > 0 && p.canPrintLocked() {
		d := p.printTimeLocked(p.queue[0])
		if d <= 0 {
			p.finishHeadLocked()
			continue
		}
		p.printing = true
		gen := p.gen
		time.AfterFunc(d, func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.gen != gen {
				return
			}
			p.printing = false
			p.finishHeadLocked()
			p.kickLocked()
		})
		return
	}
}

func (p *Printer) printTimeLocked(j *Job) time.Duration {
	if p.ips <= 0 {
		return 0
	}
	dots := 0
	for _, d := range j.formatDots {
		dots += d
	}
	inches := float64(dots) / dotsPerInch
	return time.Duration(inches / p.ips * float64(time.Second))
}

func (p *Printer) finishHeadLocked() {
	j := p.queue[0]
	p.queue[0] = nil
	p.queue = p.queue[1:]
	j.Seq = len(p.jobs) + 1
	j.PrintedAt = time.Now()
	p.jobs = append(p.jobs, *j)
	p.labels += j.Labels
	p.changedLocked()
}

func (p *Printer) silentLocked() bool { return p.mediaOut || p.headOpen }

// hsReply counts a ~HS request and returns the reply, or printer.ErrDisconnected / printer.ErrNoStatus
// when the printer would not answer.
func (p *Printer) hsReply() ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.statusRequests++
	p.changedLocked()
	switch {
	case p.unplugged:
		return nil, printer.ErrDisconnected
	case p.silentLocked() || !p.dialect.answersHS():
		return nil, fmt.Errorf("%s: %w", zpl.ReasonNoReply, printer.ErrNoStatus)
	}
	return p.hostStatusLocked().Bytes(), nil
}

func (p *Printer) hostStatusLocked() zpl.HostStatus {
	h := zpl.HostStatus{
		CommSettings:        30,
		PaperOut:            p.mediaOut,
		Paused:              p.paused,
		LabelLength:         defaultLabelDots,
		FunctionSettings:    1,
		HeadUp:              p.headOpen,
		RibbonOut:           p.ribbonOut,
		PrintMode:           "2", // tear-off
		PrintWidthMode:      6,
		FormatWhilePrinting: true,
		Password:            "1234",
	}
	for _, j := range p.queue {
		h.FormatsInBuffer += len(j.formatDots)
		h.LabelsRemaining += j.Labels
	}
	h.FormatsInBuffer = min(h.FormatsInBuffer, 999)
	if n := len(p.jobs); n > 0 && len(p.jobs[n-1].formatDots) > 0 {
		h.LabelLength = p.jobs[n-1].formatDots[len(p.jobs[n-1].formatDots)-1]
	}
	return h
}
