package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"printdock/agent/localapi"
	"printdock/printer"
	"printdock/printer/registry"
	"printdock/protocol"
)

// Printer timing.
const (
	printerOpenTimeout   = 10 * time.Second
	printerStatusTimeout = 5 * time.Second
)

// printerSet is the agent's printers: the configured URIs and the discovered ones (the printer
// registry), each polled for its status.
type printerSet struct {
	reg      *registry.Registry
	poll     time.Duration
	log      *slog.Logger
	onChange func()
	settings map[string]PrinterSettings // by canonical ID (configuration)
	mode     string                     // Config.StatusMode: for printers without their own
	// alertAfter is the portal's printer alert threshold from the server's welcome (nanoseconds; 0:
	// printer.DefaultAlertAfter).
	alertAfter atomic.Int64
	learned    *learned

	// Lock order: a printer's use lock (printerState.use) before mu, mu before learned's locks; mu is
	// never held across I/O, use is held across the device's I/O.
	mu         sync.Mutex               // protects the following
	configured []string                 // canonical IDs of configured printers, in configuration order
	bad        []localapi.Printer       // configured URIs that could not be parsed
	st         map[string]*printerState // by ID
	subs       map[chan struct{}]bool
}

type printerState struct {
	use    sync.Mutex // serialises the device: status queries and writes
	info   printer.Info
	status printer.Status
	since  time.Time // when status.State last changed (zero: not checked yet)
	silent bool      // the last status request got no answer (printer.ErrNoStatus)
}

// newPrinterSet returns the set; set onChange before starting it.
func newPrinterSet(uris []string, open func(context.Context, string) (printer.Printer, error), sources []registry.Source, poll time.Duration, log *slog.Logger) *printerSet {
	s := &printerSet{poll: poll, log: log, st: map[string]*printerState{}, subs: map[chan struct{}]bool{},
		settings: map[string]PrinterSettings{}, learned: &learned{}}
	s.reg = registry.New(registry.Options{Sources: sources, Open: open, Logger: log, OnChange: s.event, Interval: poll})
	for _, u := range uris {
		info, err := s.reg.Add(u)
		if err != nil {
			log.Error("agent: unusable printer URI", "uri", u, "error", err)
			s.bad = append(s.bad, localapi.Printer{ID: u, Name: u, State: string(printer.StateError),
				Reason: "this printer address cannot be used: " + err.Error(), CheckedAt: time.Now()})
			continue
		}
		s.configured = append(s.configured, info.ID)
	}
	return s
}

// event follows the registry: printers added, removed or changed.
func (s *printerSet) event(ev registry.Event) {
	s.mu.Lock()
	switch ev.Type {
	case registry.Added, registry.Changed:
		ps, ok := s.st[ev.Info.ID]
		if !ok {
			ps = &printerState{status: printer.Status{State: printer.StateUnknown, Reason: "not checked yet"}}
			s.st[ev.Info.ID] = ps
		}
		ps.info = ev.Info
	case registry.Removed:
		delete(s.st, ev.Info.ID)
	}
	s.mu.Unlock()
	s.log.Info("agent: printer "+string(ev.Type), "printer", ev.Info.ID, "name", ev.Info.Name)
	s.changed()
}

// ids lists the printers: configured ones in configuration order, then discovered ones by ID.
func (s *printerSet) ids() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for _, id := range s.configured {
		if _, ok := s.st[id]; ok && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, info := range s.reg.List() {
		if _, ok := s.st[info.ID]; ok && !seen[info.ID] {
			seen[info.ID] = true
			out = append(out, info.ID)
		}
	}
	return out
}

// configuredIDs lists the configured printers (canonical IDs), present or not.
func (s *printerSet) configuredIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.configured...)
}

// subscribe returns a channel that receives a value after each change of the printer list.
func (s *printerSet) subscribe() chan struct{} {
	c := make(chan struct{}, 1)
	s.mu.Lock()
	s.subs[c] = true
	s.mu.Unlock()
	return c
}

func (s *printerSet) unsubscribe(c chan struct{}) {
	s.mu.Lock()
	delete(s.subs, c)
	s.mu.Unlock()
}

func (s *printerSet) changed() {
	s.mu.Lock()
	for c := range s.subs {
		select {
		case c <- struct{}{}:
		default:
		}
	}
	s.mu.Unlock()
	if s.onChange != nil {
		s.onChange()
	}
}

// run discovers and polls printers until ctx is done.
func (s *printerSet) run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = s.reg.Run(ctx) }()
	defer wg.Wait()
	t := time.NewTicker(s.poll)
	defer t.Stop()
	for {
		s.refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// refresh checks every printer once (concurrently) and reports changes.
func (s *printerSet) refresh(ctx context.Context) {
	ids := s.ids()
	changed := make(chan bool, len(ids))
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			changed <- s.check(ctx, id)
		}()
	}
	wg.Wait()
	close(changed)
	anyChanged := false
	for c := range changed {
		anyChanged = anyChanged || c
	}
	if anyChanged {
		s.changed()
	}
}

func (s *printerSet) state(id string) *printerState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st[id]
}

// check asks printer id for its status; it reports whether what staff see changed.
func (s *printerSet) check(ctx context.Context, id string) bool {
	ps := s.state(id)
	if ps == nil {
		return false
	}
	ps.use.Lock()
	defer ps.use.Unlock()
	st, info := s.query(ctx, id)
	if ctx.Err() != nil {
		return false
	}
	return s.set(id, info, st)
}

// query opens printer id (through the registry) and asks for its status. The caller holds its use lock.
func (s *printerSet) query(ctx context.Context, id string) (printer.Status, *printer.Info) {
	st, info, _ := s.queryErr(ctx, id)
	return st, info
}

// queryErr is query that also returns the error of the open or the status request.
func (s *printerSet) queryErr(ctx context.Context, id string) (printer.Status, *printer.Info, error) {
	octx, cancel := context.WithTimeout(ctx, printerOpenTimeout)
	p, err := s.reg.Printer(octx, id)
	cancel()
	if err != nil {
		return printer.Status{State: printer.StateOffline, Reason: plainPrinterError(err), CheckedAt: time.Now()}, nil, err
	}
	info := p.Info()
	c := s.capsFor(id, info)
	if c.Mode == printer.StatusNone && !c.PortStatus {
		// Never asked: a printer without a status channel may print the request as text.
		return printer.Status{State: printer.StateUnknown, Reason: reasonNotChecked, CheckedAt: time.Now()}, &info, nil
	}
	sctx, cancel := context.WithTimeout(ctx, printerStatusTimeout)
	st, err := p.Status(sctx)
	cancel()
	if err == nil && st.State != printer.StateUnknown {
		s.learn(id)
	}
	s.noteSilent(id, errors.Is(err, printer.ErrNoStatus))
	if err != nil {
		got := st
		st = printer.Status{State: printer.StateOffline, Reason: plainPrinterError(err)}
		if errors.Is(err, printer.ErrNoStatus) {
			st.State = printer.StateUnknown
			switch {
			case got.Err() != nil && got.State != printer.StateOffline:
				// A silent printer whose other channel told why (USB port status: paper empty).
				st.State, st.Reason = got.State, plainPrinterError(got.Err())
			case c.Mode == printer.StatusNone:
				st.Reason = reasonNotChecked
			case c.Mode == printer.StatusAuto && !c.Answered:
				st.Reason = reasonNeverAnswer
			}
		}
	}
	if st.CheckedAt.IsZero() {
		st.CheckedAt = time.Now()
	}
	return st, &info, err
}

// set records a check's result.
func (s *printerSet) set(id string, info *printer.Info, st printer.Status) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps, ok := s.st[id]
	if !ok {
		return false
	}
	changed := ps.status.State != st.State || ps.status.Reason != st.Reason || ps.status.LabelsRemaining != st.LabelsRemaining
	if info != nil && info.ID != "" {
		i := *info
		i.ID = id
		if i.Name == "" {
			i.Name = ps.info.Name
		}
		changed = changed || ps.info != i
		ps.info = i
	}
	if changed {
		s.log.Info("agent: printer status", "printer", id, "state", st.State, "reason", st.Reason)
	}
	if ps.since.IsZero() || ps.status.State != st.State {
		ps.since = st.CheckedAt
		if ps.since.IsZero() {
			ps.since = time.Now()
		}
	}
	ps.status = st
	return changed
}

// alertSince is since when a printer in state since since is in alert at now (printer.InAlert with the
// threshold after, the portal's as the server's welcome gave it; 0: the default), or nil.
func alertSince(state printer.State, since, now time.Time, after time.Duration) *time.Time {
	if !printer.InAlert(state, true, since, now, after) {
		return nil
	}
	return &since
}

func plainPrinterError(err error) string {
	switch {
	case errors.Is(err, printer.ErrNotFound):
		return "printer not found"
	case errors.Is(err, printer.ErrDisconnected):
		return "printer disconnected"
	case errors.Is(err, printer.ErrNoStatus):
		return "the printer did not answer the status request (often: out of labels or head open)"
	case errors.Is(err, printer.ErrMediaOut):
		return "out of labels"
	case errors.Is(err, printer.ErrHeadOpen):
		return "print head open"
	case errors.Is(err, printer.ErrPaused):
		return "printer paused"
	case errors.Is(err, printer.ErrRibbonOut):
		return "ribbon out"
	}
	return err.Error()
}

// snapshot lists the printers for Status and the local API.
func (s *printerSet) snapshot() []localapi.Printer {
	ids := s.ids()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]localapi.Printer, 0, len(ids)+len(s.bad))
	now := time.Now()
	for _, id := range ids {
		ps, ok := s.st[id]
		if !ok {
			continue
		}
		name := ps.info.Name
		if name == "" {
			name = id
		}
		c := s.capsLocked(id, ps.info)
		out = append(out, localapi.Printer{
			Language:        string(c.Language),
			DPI:             c.DPI,
			StatusMode:      string(c.Mode),
			ID:              id,
			Name:            name,
			Make:            ps.info.Make,
			Model:           ps.info.Model,
			State:           string(ps.status.State),
			Reason:          ps.status.Reason,
			LabelsRemaining: ps.status.LabelsRemaining,
			CheckedAt:       ps.status.CheckedAt,
			AlertSince:      alertSince(ps.status.State, ps.since, now, time.Duration(s.alertAfter.Load())),
		})
	}
	return append(out, s.bad...)
}

// protocolList is the printers message's content.
func (s *printerSet) protocolList() []protocol.Printer {
	var out []protocol.Printer
	for _, p := range s.snapshot() {
		out = append(out, protocol.Printer{ID: p.ID, Name: p.Name, Make: p.Make, Model: p.Model, Status: p.State, Reason: p.Reason,
			Language: p.Language, DPI: p.DPI, StatusMode: p.StatusMode})
	}
	if out == nil {
		out = []protocol.Printer{}
	}
	return out
}

// find returns the canonical ID of printer id ("" = the first printer).
func (s *printerSet) find(id string) (string, error) {
	ids := s.ids()
	if len(ids) == 0 {
		return "", uerr(ErrPrinterNotFound, nil, "This agent has no printer (add one with --printer URI or in the config file)")
	}
	if id == "" {
		return ids[0], nil
	}
	for _, x := range ids {
		if x == id {
			return x, nil
		}
	}
	if u, err := registry.ParseURI(id); err == nil {
		for _, x := range ids {
			if x == u.String() {
				return x, nil
			}
		}
	}
	return "", uerr(ErrPrinterNotFound, nil, "This agent has no printer %q", id)
}

// write sends data to printer id and refreshes its status afterwards.
func (s *printerSet) write(ctx context.Context, id string, data []byte) (string, error) {
	id, err := s.find(id)
	if err != nil {
		return "", err
	}
	ps := s.state(id)
	if ps == nil {
		return id, uerr(ErrPrinterNotFound, nil, "The printer %s is gone", id)
	}
	ps.use.Lock()
	octx, cancel := context.WithTimeout(ctx, printerOpenTimeout)
	p, err := s.reg.Printer(octx, id)
	cancel()
	if err == nil {
		err = p.Write(ctx, data)
	}
	st, info := s.query(ctx, id)
	changed := s.set(id, info, st)
	ps.use.Unlock()
	if changed {
		s.changed()
	}
	if err != nil {
		return id, fmt.Errorf("agent: print on %s: %w", id, err)
	}
	return id, nil
}

// checkNow asks printer id for its status now (serialised with its other uses), records the result and
// returns it with the printer's capabilities and the error of the request, if any.
func (s *printerSet) checkNow(ctx context.Context, id string) (printer.Status, caps, error) {
	ps := s.state(id)
	if ps == nil {
		return printer.Status{State: printer.StateOffline, Reason: "printer not found"}, caps{}, printer.ErrNotFound
	}
	ps.use.Lock()
	st, info, err := s.queryErr(ctx, id)
	changed := ctx.Err() == nil && s.set(id, info, st)
	ps.use.Unlock()
	if changed {
		s.changed()
	}
	return st, s.caps(id), err
}

// send writes data to printer id (serialised with its other uses). Unlike write it does not ask for the
// status afterwards unless the write failed.
func (s *printerSet) send(ctx context.Context, id string, data []byte) error {
	ps := s.state(id)
	if ps == nil {
		return fmt.Errorf("agent: print on %s: %w", id, printer.ErrNotFound)
	}
	ps.use.Lock()
	octx, cancel := context.WithTimeout(ctx, printerOpenTimeout)
	p, err := s.reg.Printer(octx, id)
	cancel()
	if err == nil {
		err = p.Write(ctx, data)
	}
	changed := false
	if err != nil && ctx.Err() == nil {
		st, info := s.query(ctx, id)
		changed = s.set(id, info, st)
	}
	ps.use.Unlock()
	if changed {
		s.changed()
	}
	if err != nil {
		return fmt.Errorf("agent: print on %s: %w", id, err)
	}
	return nil
}

// close closes every printer the registry opened.
func (s *printerSet) close() { _ = s.reg.Close() }
