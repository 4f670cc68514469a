// Package cli holds what printdock's command-line binaries share to turn their command tables into
// usage and per-command help: a command's description and the formatting of flags.
package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// Command describes one entry of a binary's command table.
type Command struct {
	Name     string
	Synopsis string // the command's flags, as in the usage ("--server URL [--device-id ID]")
	Summary  string // one line, lower case, no final period
	Help     string // more for `COMMAND -h` ("" when the summary says it all)
	JSON     bool   // takes --json
}

// CommandName is the command's name (for Find).
func (c Command) CommandName() string { return c.Name }

// Find returns the entry named name of a command table (of types embedding Command), or the zero value.
func Find[T interface{ CommandName() string }](table []T, name string) T {
	for _, c := range table {
		if c.CommandName() == name {
			return c
		}
	}
	var zero T
	return zero
}

// entry is what List needs of a command table's entries (types embedding Command).
type entry interface {
	CommandName() string
	WriteEntry(w io.Writer)
}

// List returns head, the entries of table whose names start with prefix ("" for all), and tail: a
// usage's command list.
func List[T entry](head string, table []T, prefix, tail string) string {
	var b strings.Builder
	b.WriteString(head)
	for _, c := range table {
		if strings.HasPrefix(c.CommandName(), prefix) {
			c.WriteEntry(&b)
		}
	}
	b.WriteString(tail)
	return b.String()
}

// Line is the command with its synopsis: "status [--json]".
func (c Command) Line() string {
	s := c.Name
	if c.Synopsis != "" {
		s += " " + c.Synopsis
	}
	if c.JSON {
		s += " [--json]"
	}
	return s
}

// WriteEntry writes the command's line in a usage's command list, the summary aligned at column 27.
func (c Command) WriteEntry(w io.Writer) {
	if l := c.Line(); len(l) <= 23 {
		fmt.Fprintf(w, "  %-23s  %s\n", l, c.Summary)
	} else {
		fmt.Fprintf(w, "  %s\n  %-23s  %s\n", l, "", c.Summary)
	}
}

// WriteHelp writes `prog COMMAND -h`: the usage line (prefix is what comes before the command, e.g.
// "printdock-agent [global flags]"), the summary and help, then the command's own flags (fs) and tail.
func (c Command) WriteHelp(w io.Writer, prefix string, fs *flag.FlagSet, tail string) {
	fmt.Fprintf(w, "Usage: %s %s\n\n%s.\n", prefix, c.Line(), UpperFirst(c.Summary))
	if c.Help != "" {
		fmt.Fprintf(w, "%s\n", c.Help)
	}
	if fl := FlagLines(fs); fl != "" {
		fmt.Fprintf(w, "\nFlags:\n%s", fl)
	}
	if tail != "" {
		fmt.Fprintf(w, "\n%s", tail)
	}
}

// FlagLines lists a flag set's flags as "  --name VALUE   usage (default …)" lines; a `quoted` word
// in the usage names the value.
func FlagLines(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.VisitAll(func(f *flag.Flag) {
		arg, use := flag.UnquoteUsage(f)
		if arg == "value" {
			arg = "VALUE"
		}
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "0s" && f.DefValue != "[]" {
			use += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(&b, "  %-23s  %s\n", strings.TrimSpace(dash+f.Name+" "+arg), use)
	})
	return b.String()
}

// UpperFirst returns s with its first letter upper-cased.
func UpperFirst(s string) string {
	for i, r := range s {
		return string(unicode.ToUpper(r)) + s[i+len(string(r)):]
	}
	return s
}
