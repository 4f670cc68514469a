package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"printdock/printer"
	"printdock/printer/usb"
	"printdock/printer/winspool"
)

// Source discovers printers: each Scan returns the printers present now.
type Source interface {
	Name() string
	Scan(ctx context.Context) ([]printer.Info, error)
}

// SourceFunc makes a Source from a name and a function.
func SourceFunc(name string, scan func(ctx context.Context) ([]printer.Info, error)) Source {
	return funcSource{name, scan}
}

type funcSource struct {
	name string
	scan func(ctx context.Context) ([]printer.Info, error)
}

func (s funcSource) Name() string                                     { return s.name }
func (s funcSource) Scan(ctx context.Context) ([]printer.Info, error) { return s.scan(ctx) }

// USB discovers USB printers (usb.Scan). In builds without USB support it finds nothing.
var USB Source = SourceFunc("usb", func(ctx context.Context) ([]printer.Info, error) {
	infos, err := usb.Scan(ctx)
	if errors.Is(err, usb.ErrNotBuiltIn) {
		return nil, nil
	}
	return infos, err
})

// Winspool discovers the printers installed in Windows. Elsewhere it finds nothing.
var Winspool Source = SourceFunc("winspool", func(ctx context.Context) ([]printer.Info, error) {
	infos, err := winspool.Scan(ctx)
	if errors.Is(err, winspool.ErrNotSupported) {
		return nil, nil
	}
	return infos, err
})

// DefaultSources are the discovery sources for this system.
func DefaultSources() []Source { return []Source{USB, Winspool} }

// EventType says what happened to a printer.
type EventType string

const (
	Added   EventType = "added"   // configured, or discovered by a scan
	Removed EventType = "removed" // removed from the configuration, or gone from its source
	Changed EventType = "changed" // its Info changed
)

// Event is one change in the set of printers.
type Event struct {
	Type EventType
	Info printer.Info
}

// Options configure a Registry; zero values take the defaults.
type Options struct {
	Sources  []Source                                                       // default none: pass DefaultSources() for USB and the spooler
	Interval time.Duration                                                  // between scans in Run; default 3 s
	OnChange func(Event)                                                    // called for each change, in order, never concurrently
	Open     func(ctx context.Context, uri string) (printer.Printer, error) // default Open
	Logger   *slog.Logger                                                   // default slog.Default()
}

type entry struct {
	info       printer.Info
	uri        string   // what Open gets: the configured URI with its query, else the ID
	settings   Settings // the configured URI's settings, laid over what the source reports
	configured bool
	source     string // discovering source, "" if only configured
	p          printer.Printer
}

// Registry holds the agent's printers. It is safe for concurrent use.
type Registry struct {
	opts Options

	scanMu sync.Mutex // one Scan at a time, so events keep their order
	mu     sync.Mutex
	m      map[string]*entry
	closed bool
}

// New returns an empty registry.
func New(opts Options) *Registry {
	if opts.Interval <= 0 {
		opts.Interval = 3 * time.Second
	}
	if opts.Open == nil {
		opts.Open = Open
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Registry{opts: opts, m: map[string]*entry{}}
}

func (r *Registry) emit(events []Event) {
	if r.opts.OnChange == nil {
		return
	}
	for _, e := range events {
		r.opts.OnChange(e)
	}
}

// Add configures a printer by URI (it is not contacted) and returns its Info. The printer's ID is the
// URI without its query; the query's Settings (lang, dpi, status) override what discovery reports.
// Adding a URI already present marks it configured and applies its settings.
func (r *Registry) Add(uri string) (printer.Info, error) {
	info, err := Describe(uri)
	if err != nil {
		return printer.Info{}, err
	}
	u, _ := ParseURI(uri) // Describe parsed it
	r.scanMu.Lock()
	defer r.scanMu.Unlock()
	r.mu.Lock()
	e, ok := r.m[info.ID]
	if ok {
		e.configured, e.uri, e.settings = true, uri, u.Settings
		old := e.info
		e.info = u.Settings.Apply(e.info)
		info = e.info
		r.mu.Unlock()
		if info != old {
			r.emit([]Event{{Changed, info}})
		}
		return info, nil
	}
	r.m[info.ID] = &entry{info: info, uri: uri, settings: u.Settings, configured: true}
	r.mu.Unlock()
	r.emit([]Event{{Added, info}})
	return info, nil
}

// Remove drops a configured printer. A printer its source still reports stays (as discovered).
func (r *Registry) Remove(id string) error {
	r.scanMu.Lock()
	defer r.scanMu.Unlock()
	r.mu.Lock()
	e, ok := r.m[id]
	if !ok || !e.configured {
		r.mu.Unlock()
		return fmt.Errorf("registry: remove %s: %w", id, printer.ErrNotFound)
	}
	e.configured, e.uri, e.settings = false, "", Settings{} // the next scan reports the discovered Info without them
	var p printer.Printer
	gone := e.source == ""
	if gone {
		delete(r.m, id)
		p = e.p
	}
	r.mu.Unlock()
	if p != nil {
		_ = p.Close()
	}
	if gone {
		r.emit([]Event{{Removed, e.info}})
	}
	return nil
}

// List returns the printers, sorted by ID.
func (r *Registry) List() []printer.Info {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]printer.Info, 0, len(r.m))
	for _, e := range r.m {
		out = append(out, e.info)
	}
	slices.SortFunc(out, func(a, b printer.Info) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Lookup returns one printer's Info.
func (r *Registry) Lookup(id string) (printer.Info, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.m[id]
	if !ok {
		return printer.Info{}, false
	}
	return e.info, true
}

// Printer returns the open printer with this ID, opening it on first use. The registry owns it: do not
// Close it; it is closed when the printer leaves or the registry closes.
func (r *Registry) Printer(ctx context.Context, id string) (printer.Printer, error) {
	r.mu.Lock()
	e, ok := r.m[id]
	if !ok || r.closed {
		r.mu.Unlock()
		return nil, fmt.Errorf("registry: printer %s: %w", id, printer.ErrNotFound)
	}
	if e.p != nil {
		p := e.p
		r.mu.Unlock()
		return p, nil
	}
	uri := e.uri
	if uri == "" {
		uri = id
	}
	r.mu.Unlock()

	p, err := r.opts.Open(ctx, uri) // outside the lock: opening USB takes time
	if err != nil {
		return nil, fmt.Errorf("registry: open %s: %w", id, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok = r.m[id]
	switch {
	case !ok || r.closed: // left meanwhile
		_ = p.Close()
		return nil, fmt.Errorf("registry: printer %s: %w", id, printer.ErrNotFound)
	case e.p != nil: // another caller won
		_ = p.Close()
		return e.p, nil
	}
	e.p = p
	return p, nil
}

// Scan asks every source once and applies the differences: new printers are added, printers a source
// no longer reports are removed (unless configured), changed Info is updated. A source that fails keeps
// its previous printers; its error is returned (joined) after the others were applied.
func (r *Registry) Scan(ctx context.Context) error {
	r.scanMu.Lock()
	defer r.scanMu.Unlock()
	var errs []error
	var events []Event
	var toClose []printer.Printer
	for _, src := range r.opts.Sources {
		infos, err := src.Scan(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("registry: scan %s: %w", src.Name(), err))
			continue
		}
		ev, cl := r.apply(src.Name(), infos)
		events = append(events, ev...)
		toClose = append(toClose, cl...)
	}
	for _, p := range toClose {
		_ = p.Close()
	}
	r.emit(events)
	return errors.Join(errs...)
}

// apply makes the registry's view of one source equal to infos.
func (r *Registry) apply(source string, infos []printer.Info) (events []Event, toClose []printer.Printer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := map[string]printer.Info{}
	for _, info := range infos {
		if info.ID != "" {
			now[info.ID] = info
		}
	}
	for _, id := range slices.Sorted(maps.Keys(r.m)) {
		e := r.m[id]
		if e.source != source {
			continue
		}
		if _, still := now[id]; still {
			continue
		}
		e.source = ""
		if !e.configured {
			delete(r.m, id)
			if e.p != nil {
				toClose = append(toClose, e.p)
			}
			events = append(events, Event{Removed, e.info})
		}
	}
	for _, id := range slices.Sorted(maps.Keys(now)) {
		info := now[id]
		e, ok := r.m[id]
		switch {
		case !ok:
			r.m[id] = &entry{info: info, source: source}
			events = append(events, Event{Added, info})
		case e.source == "" || e.source == source:
			e.source = source
			info = e.settings.Apply(info)
			if e.info != info {
				e.info = info
				events = append(events, Event{Changed, info})
			}
		}
	}
	return events, toClose
}

// Run scans now and then every Interval until ctx ends; scan errors are logged. It returns nil when
// ctx ends.
func (r *Registry) Run(ctx context.Context) error {
	t := time.NewTicker(r.opts.Interval)
	defer t.Stop()
	for {
		if err := r.Scan(ctx); err != nil && ctx.Err() == nil {
			r.opts.Logger.Warn("printer scan failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Close closes every printer the registry opened. The registry is unusable afterwards.
func (r *Registry) Close() error {
	r.mu.Lock()
	r.closed = true
	var ps []printer.Printer
	for _, e := range r.m {
		if e.p != nil {
			ps = append(ps, e.p)
			e.p = nil
		}
	}
	r.mu.Unlock()
	var errs []error
	for _, p := range ps {
		errs = append(errs, p.Close())
	}
	return errors.Join(errs...)
}
