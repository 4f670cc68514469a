package registry

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"printdock/printer"
	"printdock/printer/sim"
)

// Settings are what a printer URI's query configures about a printer the transport cannot be asked
// about: tcp://10.0.0.5:9100?status=none&lang=epl&dpi=203. They are not part of the printer's ID (the
// URI without its query), so adding or changing them keeps the printer's ID, its job history and the
// server's routes to it. Zero values leave what the transport or discovery reports.
type Settings struct {
	Language   printer.Language   // lang=zpl|epl|tspl|dpl|escpos|unknown
	DPI        int                // dpi=100…1200
	StatusMode printer.StatusMode // status=auto|zpl|none
	Dialect    sim.Dialect        // dialect=zpl|silent|epl|tspl, sim:// only
}

// DPI bounds for dpi=: label printers print at 152, 203, 300 or 600 dpi.
const (
	MinDPI = 100
	MaxDPI = 1200
)

// IsZero reports whether no setting is given.
func (s Settings) IsZero() bool { return s == Settings{} }

// Apply returns info with the configured settings in place of what was reported: the configuration
// comes first. A configured dialect decides the language only when lang= is not given.
func (s Settings) Apply(info printer.Info) printer.Info {
	if s.Language != "" {
		info.Language = s.Language
	}
	if s.DPI != 0 {
		info.DPI = s.DPI
	}
	if s.StatusMode != "" {
		info.StatusMode = s.StatusMode
	}
	return info
}

// noHostStatus reports whether the settings forbid asking with ~HS: status=none, or a language other
// than ZPL (the printer would print the "~HS" or choke on it).
func (s Settings) noHostStatus() bool {
	return s.StatusMode == printer.StatusNone ||
		s.Language != "" && s.Language != printer.LangZPL && s.Language != printer.LangUnknown
}

// parseSettings returns the settings in a URI's raw query; uri is the whole URI, for the error messages.
func parseSettings(uri, scheme, rawQuery string) (Settings, error) {
	var s Settings
	if rawQuery == "" {
		return s, nil
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return s, fmt.Errorf("%w: %q: unreadable query: %v", ErrBadURI, uri, err)
	}
	keys := []string{"lang", "dpi", "status"}
	if scheme == SchemeSim {
		keys = append(keys, "dialect")
	}
	for _, k := range slices.Sorted(maps.Keys(q)) {
		v := q[k]
		if !slices.Contains(keys, k) {
			return s, fmt.Errorf("%w: %q: unknown option %q (want %s)", ErrBadURI, uri, k, strings.Join(keys, ", "))
		}
		if len(v) != 1 {
			return s, fmt.Errorf("%w: %q: option %q given %d times", ErrBadURI, uri, k, len(v))
		}
		if err := s.set(k, v[0]); err != nil {
			return s, fmt.Errorf("%w: %q: %w", ErrBadURI, uri, err)
		}
	}
	return s, nil
}

func (s *Settings) set(k, v string) error {
	switch k {
	case "lang":
		if strings.TrimSpace(v) == "" {
			return fmt.Errorf("lang is empty (want one of %s)", languageNames())
		}
		l, err := printer.ParseLanguage(v)
		if err != nil {
			return fmt.Errorf("lang=%s: want one of %s", v, languageNames())
		}
		s.Language = l
	case "dpi":
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < MinDPI || n > MaxDPI {
			return fmt.Errorf("dpi=%s: want a whole number from %d to %d (152, 203, 300, 600)", v, MinDPI, MaxDPI)
		}
		s.DPI = n
	case "status":
		m, err := printer.ParseStatusMode(v)
		if err != nil || strings.TrimSpace(v) == "" {
			return fmt.Errorf("status=%s: want auto, zpl or none", v)
		}
		s.StatusMode = m
	case "dialect":
		d, err := sim.ParseDialect(v)
		if err != nil || strings.TrimSpace(v) == "" {
			return fmt.Errorf("dialect=%s: want zpl, silent, epl or tspl", v)
		}
		s.Dialect = d
	}
	return nil
}

func languageNames() string {
	names := make([]string, len(printer.Languages))
	for i, l := range printer.Languages {
		names[i] = string(l)
	}
	return strings.Join(names, ", ")
}

// configured is an open printer whose Info carries the URI's settings.
type configured struct {
	printer.Printer
	s Settings
}

func (c configured) Info() printer.Info { return c.s.Apply(c.Printer.Info()) }
