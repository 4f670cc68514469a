package sim

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"printdock/printer"
)

// Dialect is what a simulated printer speaks: the command language it counts labels in and whether it
// answers ~HS. Choose one by name with ParseDialect (sim://name?dialect=epl in a printer URI).
type Dialect string

const (
	// DialectZPL is a Zebra (the default): it executes and answers ~HS (removed from the job data) and
	// prints a label per complete ^XA…^XZ format.
	DialectZPL Dialect = "zpl"
	// DialectSilent accepts bytes and never answers, like a one-way print server in front of a ZPL
	// printer: it counts ^XA…^XZ formats but reports no language.
	DialectSilent Dialect = "silent"
	// DialectEPL is an EPL2 printer: it never answers ~HS and prints p1×p2 labels per "Pp1[,p2]" line.
	DialectEPL Dialect = "epl"
	// DialectTSPL is a TSPL/TSPL2 printer (TSC, Rollo, Xprinter): it never answers ~HS and prints m×n
	// labels per "PRINT m[,n]" line.
	DialectTSPL Dialect = "tspl"
)

// Dialects lists every dialect, the default first.
var Dialects = []Dialect{DialectZPL, DialectSilent, DialectEPL, DialectTSPL}

// ParseDialect accepts a dialect name (case-insensitive; "" is DialectZPL).
func ParseDialect(s string) (Dialect, error) {
	d := Dialect(strings.ToLower(strings.TrimSpace(s)))
	if d == "" {
		return DialectZPL, nil
	}
	for _, x := range Dialects {
		if d == x {
			return d, nil
		}
	}
	return DialectZPL, fmt.Errorf("sim: unknown dialect %q (want zpl, silent, epl or tspl)", s)
}

// answersHS reports whether the printer executes ~HS: only a Zebra does. The others keep every byte
// they receive in the job data.
func (d Dialect) answersHS() bool { return d == DialectZPL || d == "" }

// language is the command language the printer reports in its Info.
func (d Dialect) language() printer.Language {
	switch d {
	case DialectEPL:
		return printer.LangEPL
	case DialectTSPL:
		return printer.LangTSPL
	case DialectSilent:
		return printer.LangUnknown
	}
	return printer.LangZPL
}

// model is the simulated model name for Info.
func (d Dialect) model() (make, model string) {
	switch d {
	case DialectEPL:
		return "Zebra Technologies", "LP2844 EPL2 (simulated)"
	case DialectTSPL:
		return "TSC", "TE210 TSPL2 (simulated)"
	case DialectSilent:
		return "", "one-way print server (simulated)"
	}
	return "Zebra Technologies", "ZD420 (simulated)"
}

// maxCopies caps the quantity of one print command, so a hostile job cannot make the count overflow.
const maxCopies = 1_000_000

// count returns the labels a job prints and, per print command (ZPL: per format), the dots of paper
// it feeds, for the print time and the host status.
func (d Dialect) count(data []byte) (labels int, dots []int) {
	switch d {
	case DialectEPL:
		return printCommands(data, "P", true)
	case DialectTSPL:
		return printCommands(data, "PRINT", false)
	}
	dots = formats(data)
	return len(dots), dots
}

// printCommands counts the labels of the line-based languages: each line "<cmd>n[,m]" (EPL "P1",
// TSPL "PRINT 1,2") prints n×m labels (m defaults to 1). EPL commands are case-sensitive and take no
// space before the number; TSPL keywords are case-insensitive and may. A label is 6 inches long, or
// EPL's "Qp1" length in dots.
func printCommands(data []byte, cmd string, epl bool) (labels int, dots []int) {
	length := defaultLabelDots
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		s := strings.TrimRight(string(line), "\r \t")
		if epl && strings.HasPrefix(s, "Q") {
			if n, _, ok := quantity(s[1:]); ok && n > 0 {
				length = n
			}
			continue
		}
		if !epl {
			s = strings.TrimLeft(s, " \t")
		}
		if len(s) <= len(cmd) || !(s[:len(cmd)] == cmd || !epl && strings.EqualFold(s[:len(cmd)], cmd)) {
			continue
		}
		rest := s[len(cmd):]
		if !epl {
			if rest[0] != ' ' && rest[0] != '\t' {
				continue // PRINTER…, not PRINT
			}
			rest = strings.TrimLeft(rest, " \t")
		}
		n, m, ok := quantity(rest)
		if !ok {
			continue
		}
		q := min(n*max(m, 1), maxCopies)
		labels += q
		dots = append(dots, q*length)
	}
	return labels, dots
}

// quantity parses "n[,m]" (m 0 when absent), each at most maxCopies.
func quantity(s string) (n, m int, ok bool) {
	a, b, two := strings.Cut(s, ",")
	n, err := strconv.Atoi(strings.TrimSpace(a))
	if err != nil || n < 0 || n > maxCopies {
		return 0, 0, false
	}
	if two {
		m, err = strconv.Atoi(strings.TrimSpace(b))
		if err != nil || m < 0 || m > maxCopies {
			return 0, 0, false
		}
	}
	return n, m, true
}

// onlyPolls reports whether data is nothing but ~HS commands (and white space): what a transport sends
// to ask for the status. A printer that does not answer ~HS prints nothing for it, so the simulator
// counts it as a status request instead of recording a job.
func onlyPolls(data []byte) bool {
	var f hsFilter
	rest, hs := f.feed(data)
	rest = append(rest, f.flush()...)
	return hs > 0 && len(bytes.TrimSpace(rest)) == 0
}
