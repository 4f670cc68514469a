package registry

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"printdock/printer"
	"printdock/printer/netraw"
	"printdock/printer/sim"
	"printdock/printer/usb"
	"printdock/printer/winspool"
)

func TestParseURI(t *testing.T) {
	tests := []struct {
		in, canon string
		scheme    string
		wantErr   bool
	}{
		{in: "tcp://10.0.0.5", canon: "tcp://10.0.0.5:9100", scheme: SchemeTCP},
		{in: "tcp://printer.local:9101", canon: "tcp://printer.local:9101", scheme: SchemeTCP},
		{in: "sim://dock1", canon: "sim://dock1", scheme: SchemeSim},
		{in: "SIM://dock1", canon: "sim://dock1", scheme: SchemeSim},
		{in: "usb://0A5F:0181/XXQ123456", canon: "usb://0a5f:0181/XXQ123456", scheme: SchemeUSB},
		{in: "usb://0a5f:0181", canon: "usb://0a5f:0181", scheme: SchemeUSB},
		{in: "winspool://ZDesigner%20ZD420", canon: "winspool://ZDesigner%20ZD420", scheme: SchemeWinspool},
		{in: "cups://Zebra_ZD420", canon: "cups://Zebra_ZD420", scheme: SchemeCUPS},
		{in: "cups://", wantErr: true},
		{in: "cups://a/b", wantErr: true},
		{in: "sim://", wantErr: true},
		{in: "sim://a/b", wantErr: true},
		{in: "tcp://", wantErr: true},
		{in: "usb://xyz", wantErr: true},
		{in: "winspool://", wantErr: true},
		{in: "lpd://host/queue", wantErr: true},
		{in: "dock1", wantErr: true},
	}
	for _, tt := range tests {
		u, err := ParseURI(tt.in)
		if tt.wantErr {
			if !errors.Is(err, ErrBadURI) {
				t.Errorf("%q: err = %v, want ErrBadURI", tt.in, err)
			}
			continue
		}
		if err != nil || u.String() != tt.canon || u.Scheme != tt.scheme {
			t.Errorf("%q: %+v (%s), %v; want %s", tt.in, u, u, err, tt.canon)
		}
	}
}

func TestOpen(t *testing.T) {
	ctx := t.Context()
	p, err := Open(ctx, "tcp://127.0.0.1:9")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.(*netraw.Printer); !ok || p.Info().ID != "tcp://127.0.0.1:9" {
		t.Fatalf("tcp: %T %+v", p, p.Info())
	}
	p, err = Open(ctx, "sim://registry-open")
	if err != nil || p != printer.Printer(sim.Named("registry-open")) {
		t.Fatalf("sim: %v %v", p, err)
	}
	_, err = Open(ctx, "usb://ffff:fffe/NOPE")
	if usb.Supported() && !errors.Is(err, printer.ErrNotFound) || !usb.Supported() && !errors.Is(err, usb.ErrNotBuiltIn) {
		t.Fatalf("usb: %v", err)
	}
	if _, err := Open(ctx, "winspool://Nope"); winspool.Supported() && !errors.Is(err, printer.ErrNotFound) ||
		!winspool.Supported() && !errors.Is(err, winspool.ErrNotSupported) {
		t.Fatalf("winspool: %v", err)
	}
	if p, err := Open(ctx, "cups://registry-open?lang=tspl"); err != nil || p.Info().ID != "cups://registry-open" ||
		p.Info().Language != printer.LangTSPL {
		t.Fatalf("cups: %v %v", p, err)
	}
	if _, err := Open(ctx, "nope://x"); !errors.Is(err, ErrBadURI) {
		t.Fatalf("bad: %v", err)
	}
}

// fakeSource is a discovery source whose printers the test sets.
type fakeSource struct {
	mu    sync.Mutex
	name  string
	infos []printer.Info
	err   error
}

func (f *fakeSource) Name() string { return f.name }
func (f *fakeSource) Scan(ctx context.Context) ([]printer.Info, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.infos), f.err
}
func (f *fakeSource) set(err error, infos ...printer.Info) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.infos, f.err = infos, err
}

// recorder collects events.
type recorder struct {
	mu     sync.Mutex
	events []Event
	ch     chan Event
}

func newRecorder() *recorder { return &recorder{ch: make(chan Event, 100)} }
func (r *recorder) on(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	r.ch <- e
}
func (r *recorder) take() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	ev := r.events
	r.events = nil
	for range ev {
		<-r.ch
	}
	return ev
}

func ev(typ EventType, id string) Event { return Event{Type: typ, Info: printer.Info{ID: id}} }

func sameEvents(got, want []Event) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].Type != want[i].Type || got[i].Info.ID != want[i].Info.ID {
			return false
		}
	}
	return true
}

const (
	usbA = "usb://0a5f:0181/A"
	usbB = "usb://0a5f:0181/B"
)

func TestScanAddsAndRemoves(t *testing.T) {
	src := &fakeSource{name: "fake"}
	rec := newRecorder()
	r := New(Options{Sources: []Source{src}, OnChange: rec.on})
	defer r.Close()
	ctx := t.Context()

	if _, err := r.Add("tcp://10.0.0.5"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Add("sim://dock1"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Add("bogus"); !errors.Is(err, ErrBadURI) {
		t.Fatalf("bad add: %v", err)
	}
	if got := rec.take(); !sameEvents(got, []Event{ev(Added, "tcp://10.0.0.5:9100"), ev(Added, "sim://dock1")}) {
		t.Fatalf("events %+v", got)
	}

	a := printer.Info{ID: usbA, Name: "Zebra ZD420", Bidirectional: true}
	b := printer.Info{ID: usbB, Name: "Zebra GK420d"}
	src.set(nil, a, b)
	if err := r.Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); !sameEvents(got, []Event{ev(Added, usbA), ev(Added, usbB)}) {
		t.Fatalf("events %+v", got)
	}
	ids := func() []string {
		var s []string
		for _, i := range r.List() {
			s = append(s, i.ID)
		}
		return s
	}
	if got := ids(); !slices.Equal(got, []string{"sim://dock1", "tcp://10.0.0.5:9100", usbA, usbB}) {
		t.Fatalf("list %v", got)
	}

	// Nothing changed: no events.
	if err := r.Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("events %+v", got)
	}

	// B unplugged, A's name changed.
	a.Name = "Zebra ZD421"
	src.set(nil, a)
	if err := r.Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); !sameEvents(got, []Event{ev(Removed, usbB), ev(Changed, usbA)}) {
		t.Fatalf("events %+v", got)
	}
	if info, ok := r.Lookup(usbA); !ok || info.Name != "Zebra ZD421" {
		t.Fatalf("lookup %+v %v", info, ok)
	}
	if _, ok := r.Lookup(usbB); ok {
		t.Fatal("B still there")
	}

	// A failing source keeps what it had.
	boom := errors.New("boom")
	src.set(boom)
	if err := r.Scan(ctx); !errors.Is(err, boom) {
		t.Fatalf("scan err %v", err)
	}
	if _, ok := r.Lookup(usbA); !ok || len(rec.take()) != 0 {
		t.Fatal("failing scan changed the registry")
	}

	// Remove a configured printer.
	if err := r.Remove("tcp://10.0.0.5:9100"); err != nil {
		t.Fatal(err)
	}
	if err := r.Remove("tcp://10.0.0.5:9100"); !errors.Is(err, printer.ErrNotFound) {
		t.Fatalf("second remove %v", err)
	}
	if got := rec.take(); !sameEvents(got, []Event{ev(Removed, "tcp://10.0.0.5:9100")}) {
		t.Fatalf("events %+v", got)
	}
}

func TestConfiguredAndDiscovered(t *testing.T) {
	src := &fakeSource{name: "fake"}
	rec := newRecorder()
	r := New(Options{Sources: []Source{src}, OnChange: rec.on})
	defer r.Close()
	if _, err := r.Add(usbA); err != nil { // configured before it is plugged in
		t.Fatal(err)
	}
	src.set(nil, printer.Info{ID: usbA, Name: "Zebra ZD420", Make: "Zebra"})
	if err := r.Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	src.set(nil)
	if err := r.Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Added (configured), Changed (discovered details); unplugging keeps a configured printer.
	if got := rec.take(); !sameEvents(got, []Event{ev(Added, usbA), ev(Changed, usbA)}) {
		t.Fatalf("events %+v", got)
	}
	if _, ok := r.Lookup(usbA); !ok {
		t.Fatal("configured printer dropped")
	}
	// Removing the configuration while discovered keeps it as discovered.
	src.set(nil, printer.Info{ID: usbA, Name: "Zebra ZD420"})
	if err := r.Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := r.Remove(usbA); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Lookup(usbA); !ok {
		t.Fatal("discovered printer dropped by Remove")
	}
}

// countingPrinter wraps a simulated printer to see Close calls.
type countingPrinter struct {
	printer.Printer
	mu     sync.Mutex
	closed int
}

func (c *countingPrinter) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed++
	return nil
}

func TestPrinterOpensOnceAndClosesOnLeave(t *testing.T) {
	src := &fakeSource{name: "fake"}
	var mu sync.Mutex
	opened := map[string]*countingPrinter{}
	r := New(Options{Sources: []Source{src}, Open: func(ctx context.Context, uri string) (printer.Printer, error) {
		mu.Lock()
		defer mu.Unlock()
		p := &countingPrinter{Printer: sim.New(uri)}
		opened[uri] = p
		return p, nil
	}})
	ctx := t.Context()
	if _, err := r.Printer(ctx, usbA); !errors.Is(err, printer.ErrNotFound) {
		t.Fatalf("unknown printer: %v", err)
	}
	src.set(nil, printer.Info{ID: usbA})
	if err := r.Scan(ctx); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	got := make([]printer.Printer, 8)
	for i := range got {
		wg.Go(func() {
			p, err := r.Printer(ctx, usbA)
			if err != nil {
				t.Error(err)
			}
			got[i] = p
		})
	}
	wg.Wait()
	for _, p := range got {
		if p != got[0] {
			t.Fatal("different printers for one ID")
		}
	}
	if err := got[0].Write(ctx, []byte("^XA^XZ")); err != nil {
		t.Fatal(err)
	}
	src.set(nil)
	if err := r.Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if c := got[0].(*countingPrinter); c.closed != 1 {
		t.Fatalf("closed %d times after leaving", c.closed)
	}
	// Registry.Close closes what is open.
	if _, err := r.Add("sim://x"); err != nil {
		t.Fatal(err)
	}
	p, err := r.Printer(ctx, "sim://x")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if p.(*countingPrinter).closed != 1 {
		t.Fatal("Close did not close open printers")
	}
	if _, err := r.Printer(ctx, "sim://x"); !errors.Is(err, printer.ErrNotFound) {
		t.Fatalf("after Close: %v", err)
	}
}

func TestRunPolls(t *testing.T) {
	src := &fakeSource{name: "fake"}
	rec := newRecorder()
	r := New(Options{Sources: []Source{src}, OnChange: rec.on, Interval: 5 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()

	next := func() Event {
		select {
		case e := <-rec.ch:
			return e
		case <-ctx.Done():
			t.Fatal("no event")
		}
		return Event{}
	}
	src.set(nil, printer.Info{ID: usbA})
	if e := next(); e.Type != Added || e.Info.ID != usbA {
		t.Fatalf("event %+v", e)
	}
	src.set(nil)
	if e := next(); e.Type != Removed || e.Info.ID != usbA {
		t.Fatalf("event %+v", e)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestDefaultSourcesWork(t *testing.T) {
	// On this machine USB finds nothing (no bus) and the spooler source finds nothing (not Windows);
	// neither may fail.
	r := New(Options{Sources: DefaultSources()})
	defer r.Close()
	if err := r.Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
}
