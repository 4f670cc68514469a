package printer

import (
	"fmt"
	"strings"
)

// Language is a label printer's command language. The agent needs it to know what a printer can be asked
// (only ZPL printers answer ~HS) and the server needs it to encode a PDF or PNG label as a bitmap the
// printer understands.
type Language string

const (
	LangZPL     Language = "zpl"     // Zebra ZPL / ZPL II
	LangEPL     Language = "epl"     // Zebra/Eltron EPL2
	LangTSPL    Language = "tspl"    // TSC TSPL / TSPL2 (also many Rollo, Xprinter, Munbyn models)
	LangDPL     Language = "dpl"     // Datamax-O'Neil / Honeywell DPL
	LangESCPOS  Language = "escpos"  // Epson ESC/POS receipt and label printers
	LangUnknown Language = "unknown" // not configured, not reported and not learned yet
)

// Languages lists every known language, LangUnknown last.
var Languages = []Language{LangZPL, LangEPL, LangTSPL, LangDPL, LangESCPOS, LangUnknown}

// ParseLanguage accepts a language name as configured or sent on the wire (case-insensitive; "" means
// unknown).
func ParseLanguage(s string) (Language, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return LangUnknown, nil
	}
	for _, l := range Languages {
		if string(l) == s {
			return l, nil
		}
	}
	return LangUnknown, fmt.Errorf("printer: unknown language %q (want one of zpl, epl, tspl, dpl, escpos, unknown)", s)
}

// LanguageFromCommandSet maps the entries of an IEEE 1284 CMD / COMMAND SET field to a language. The
// strongest match wins, so "CMD:EPL,ZPL" (a Zebra that speaks both) is ZPL.
func LanguageFromCommandSet(cmds []string) Language {
	best := LangUnknown
	rank := map[Language]int{LangZPL: 5, LangTSPL: 4, LangEPL: 3, LangDPL: 2, LangESCPOS: 1, LangUnknown: 0}
	for _, c := range cmds {
		u := strings.ToUpper(strings.TrimSpace(c))
		var l Language
		switch {
		case strings.HasPrefix(u, "ZPL"):
			l = LangZPL
		case strings.HasPrefix(u, "TSPL"), u == "TSC":
			l = LangTSPL
		case strings.HasPrefix(u, "EPL"):
			l = LangEPL
		case strings.HasPrefix(u, "DPL"), u == "DATAMAX":
			l = LangDPL
		case strings.HasPrefix(u, "ESC/POS"), strings.HasPrefix(u, "ESCPOS"), u == "ESC":
			l = LangESCPOS
		default:
			continue
		}
		if rank[l] > rank[best] {
			best = l
		}
	}
	return best
}

// StatusMode says how the agent learns whether a printer can print.
type StatusMode string

const (
	// StatusAuto asks with ~HS; a printer that has never answered is printed to with its status shown as
	// unknown, one that answered before and is now silent is treated as out of media or head open.
	StatusAuto StatusMode = "auto"
	// StatusZPL always asks with ~HS; silence means out of media or head open.
	StatusZPL StatusMode = "zpl"
	// StatusNone never asks; the agent prints at once (USB GET_PORT_STATUS still counts where present).
	StatusNone StatusMode = "none"
)

// ParseStatusMode accepts "auto", "zpl" or "none" (case-insensitive; "" means auto).
func ParseStatusMode(s string) (StatusMode, error) {
	switch m := StatusMode(strings.ToLower(strings.TrimSpace(s))); m {
	case "":
		return StatusAuto, nil
	case StatusAuto, StatusZPL, StatusNone:
		return m, nil
	}
	return StatusAuto, fmt.Errorf("printer: unknown status mode %q (want auto, zpl or none)", s)
}
