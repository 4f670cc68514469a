// Package registry knows which printers the agent has: the configured ones (tcp://, sim://,
// winspool://, usb://, cups:// URIs) and the discovered ones (USB, the Windows spooler), found by polling
// pluggable Sources. It notices printers arriving and leaving, reports each change to a callback, and
// opens printers by ID (Open is also usable on its own as the URI → printer.Printer factory).
package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"printdock/printer"
	"printdock/printer/cups"
	"printdock/printer/netraw"
	"printdock/printer/sim"
	"printdock/printer/usb"
	"printdock/printer/winspool"
)

// ErrBadURI is returned for a printer URI with an unknown scheme or a malformed body.
var ErrBadURI = errors.New("registry: bad printer URI")

// Scheme names.
const (
	SchemeTCP      = "tcp"
	SchemeSim      = "sim"
	SchemeUSB      = "usb"
	SchemeWinspool = "winspool"
	SchemeCUPS     = "cups"
)

// URI is a parsed printer URI.
type URI struct {
	Scheme string
	Addr   string // tcp: host:port
	Name   string // sim: the simulator's name; winspool: the Windows printer name; cups: the queue
	USB    usb.ID // usb
	// Settings are the options in the URI's query (?lang=epl&dpi=203&status=none); not part of the ID.
	Settings Settings
	Original string
}

// String returns the canonical form without the query, which is the printer's ID.
func (u URI) String() string {
	switch u.Scheme {
	case SchemeTCP:
		return "tcp://" + u.Addr
	case SchemeSim:
		return "sim://" + u.Name
	case SchemeUSB:
		return u.USB.String()
	case SchemeWinspool:
		return winspool.URI(u.Name)
	case SchemeCUPS:
		return cups.URI(u.Name)
	}
	return u.Original
}

// ParseURI parses tcp://host[:port] (port 9100 by default), sim://name, usb://VID:PID[/SERIAL],
// winspool://name and cups://QUEUE, each optionally followed by a query of Settings (?lang=epl&dpi=203&status=none;
// sim:// also takes dialect=).
func ParseURI(full string) (URI, error) {
	s, query, _ := strings.Cut(full, "?")
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return URI{}, fmt.Errorf("%w: %q: want scheme://…", ErrBadURI, full)
	}
	u := URI{Scheme: strings.ToLower(scheme), Original: full}
	var err error
	if u.Settings, err = parseSettings(full, u.Scheme, query); err != nil {
		return URI{}, err
	}
	switch u.Scheme {
	case SchemeTCP:
		addr, _, err := netraw.ParseURI(s)
		if err != nil {
			return URI{}, fmt.Errorf("%w: %w", ErrBadURI, err)
		}
		u.Addr = addr
	case SchemeSim:
		if rest == "" || strings.ContainsAny(rest, "/?#\x00") {
			return URI{}, fmt.Errorf("%w: %q: want sim://name", ErrBadURI, s)
		}
		u.Name = rest
	case SchemeUSB:
		id, err := usb.ParseID(s)
		if err != nil {
			return URI{}, fmt.Errorf("%w: %w", ErrBadURI, err)
		}
		u.USB = id
	case SchemeWinspool:
		name, err := winspool.ParseURI(s)
		if err != nil {
			return URI{}, fmt.Errorf("%w: %w", ErrBadURI, err)
		}
		u.Name = name
	case SchemeCUPS:
		q, err := cups.ParseURI(s)
		if err != nil {
			return URI{}, fmt.Errorf("%w: %w", ErrBadURI, err)
		}
		u.Name = q
	default:
		return URI{}, fmt.Errorf("%w: %q: unknown scheme %q (tcp, sim, usb, winspool, cups)", ErrBadURI, full, scheme)
	}
	return u, nil
}

// Open returns the printer a URI names: tcp:// a raw TCP printer (no connection yet), sim:// the
// process-wide simulator of that name (sim.Named, in the URI's dialect when given), usb:// the
// attached USB printer (claimed now), winspool:// a Windows spooler printer, cups:// a queue of the local
// CUPS server (not contacted yet). Its Info carries the URI's Settings.
func Open(ctx context.Context, uri string) (printer.Printer, error) {
	u, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	p, err := u.open(ctx)
	if err != nil || u.Settings.IsZero() {
		return p, err
	}
	return configured{p, u.Settings}, nil
}

func (u URI) open(ctx context.Context) (printer.Printer, error) {
	switch u.Scheme {
	case SchemeTCP:
		return netraw.New(u.String(), netraw.Options{})
	case SchemeSim:
		return u.sim(), nil
	case SchemeUSB:
		return usb.Open(ctx, u.String(), usb.Options{PortStatusOnly: u.Settings.noHostStatus()})
	case SchemeCUPS:
		return cups.Open(ctx, u.String(), cups.Options{})
	default: // SchemeWinspool
		return winspool.Open(ctx, u.String())
	}
}

// sim returns the process-wide simulator the URI names, switched to the URI's dialect when it has one.
func (u URI) sim() *sim.Printer {
	p := sim.Named(u.Name)
	if u.Settings.Dialect != "" {
		p.SetDialect(u.Settings.Dialect)
	}
	return p
}

// Describe returns what is known about the printer a URI names without talking to it: its ID (the URI
// without the query) and the URI's Settings. A tcp:// printer's language is unknown unless lang= says.
func Describe(uri string) (printer.Info, error) {
	u, err := ParseURI(uri)
	if err != nil {
		return printer.Info{}, err
	}
	info := printer.Info{ID: u.String(), Language: printer.LangUnknown}
	switch u.Scheme {
	case SchemeTCP:
		info.Name, info.Bidirectional = u.Addr, true
	case SchemeSim:
		info = u.sim().Info()
	case SchemeUSB:
		info.Name = fmt.Sprintf("USB printer %04x:%04x", u.USB.Vendor, u.USB.Product)
		info.Serial = u.USB.Serial
	case SchemeWinspool, SchemeCUPS:
		info.Name = u.Name
	}
	return u.Settings.Apply(info), nil
}
