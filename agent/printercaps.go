package agent

import (
	"fmt"
	"strings"

	"printdock/printer"
	"printdock/printer/registry"
)

// PrinterSettings overrides what the agent knows of one printer (Config.PrinterSettings, the config
// file's "printers" map). Empty fields leave the printer's own values (URI query, IEEE 1284, learned).
type PrinterSettings struct {
	Language   string `json:"language,omitempty"`    // zpl, epl, tspl, dpl, escpos
	StatusMode string `json:"status_mode,omitempty"` // auto, zpl, none
	DPI        int    `json:"dpi,omitempty"`
}

// check validates s.
func (s PrinterSettings) check() error {
	if _, err := printer.ParseLanguage(s.Language); err != nil {
		return err
	}
	if _, err := printer.ParseStatusMode(s.StatusMode); err != nil {
		return err
	}
	if s.DPI < 0 || s.DPI > 2400 {
		return fmt.Errorf("dpi %d out of range", s.DPI)
	}
	return nil
}

// canonicalSettings keys settings by canonical printer ID, validating each entry.
func canonicalSettings(in map[string]PrinterSettings) (map[string]PrinterSettings, error) {
	out := map[string]PrinterSettings{}
	for uri, s := range in {
		if err := s.check(); err != nil {
			return nil, fmt.Errorf("agent: %w: printer %s: %v", ErrConfig, uri, err)
		}
		id := uri
		if u, err := registry.ParseURI(uri); err == nil {
			id = u.String()
		}
		out[id] = s
	}
	return out, nil
}

// caps is what the agent knows of a printer's language and status channel, all sources applied.
type caps struct {
	Language   printer.Language
	DPI        int
	Mode       printer.StatusMode
	Answered   bool // it has answered ~HS (now or before a restart): it speaks ZPL
	PortStatus bool // its transport has a status channel besides ~HS (USB GET_PORT_STATUS)
	LastSilent bool // the last status request (poll) got no answer
}

// capsOf applies the sources in order: configuration, the printer's own Info (URI query, IEEE 1284),
// the learned fact, then unknown.
func capsOf(id string, info printer.Info, set PrinterSettings, answered bool) caps {
	c := caps{Mode: printer.StatusAuto, Answered: answered, PortStatus: strings.HasPrefix(id, registry.SchemeUSB+"://")}
	if m, err := printer.ParseStatusMode(string(info.StatusMode)); err == nil && info.StatusMode != "" {
		c.Mode = m
	}
	if m, err := printer.ParseStatusMode(set.StatusMode); err == nil && set.StatusMode != "" {
		c.Mode = m
	}
	c.DPI = info.DPI
	if set.DPI > 0 {
		c.DPI = set.DPI
	}
	l, _ := printer.ParseLanguage(set.Language)
	switch {
	case set.Language != "" && l != printer.LangUnknown:
		c.Language = l
	case info.Language != "" && info.Language != printer.LangUnknown:
		c.Language = info.Language
	case answered:
		c.Language = printer.LangZPL
	default:
		c.Language = printer.LangUnknown
	}
	return c
}

// Status reasons that depend on the status mode.
const (
	reasonNotChecked  = "status not checked (status mode none): printing without asking"
	reasonNeverAnswer = "this printer has never answered a status request: printing without asking"
)

// caps returns printer id's capabilities (the zero caps, auto mode, when it is gone).
func (s *printerSet) caps(id string) caps {
	s.mu.Lock()
	defer s.mu.Unlock()
	var info printer.Info
	silent := false
	if ps, ok := s.st[id]; ok {
		info, silent = ps.info, ps.silent
	}
	c := s.capsLocked(id, info)
	c.LastSilent = silent
	return c
}

// noteSilent records whether the last status request of printer id got no answer.
func (s *printerSet) noteSilent(id string, silent bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ps, ok := s.st[id]; ok {
		ps.silent = silent
	}
}

// capsFor is caps with the printer's freshly read info.
func (s *printerSet) capsFor(id string, info printer.Info) caps {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.capsLocked(id, info)
}

func (s *printerSet) capsLocked(id string, info printer.Info) caps {
	set := s.settings[id]
	if set.StatusMode == "" && info.StatusMode == "" {
		set.StatusMode = s.mode
	}
	return capsOf(id, info, set, s.learned.answered(id))
}

// learn records that printer id answered a status request (it speaks ZPL), once, in the state
// directory. The caller may hold the printer's use lock, never s.mu.
func (s *printerSet) learn(id string) {
	isNew, err := s.learned.learnAnswered(id)
	if err != nil {
		s.log.Warn("agent: cannot record what was learnt about a printer", "printer", id, "error", err)
	}
	if isNew {
		s.log.Info("agent: printer answered a status request: it speaks ZPL", "printer", id)
	}
}
