// Command manpages writes a roff man page for one of printdock's commands from the built binary's own
// help: `BIN --help` and, for every command listed under "Commands:", `BIN COMMAND -h`. It owns only
// the rendering; the help text stays the commands' (cmd/*), so the man pages never drift from it.
// scripts/package.sh runs it and ships the result gzipped in the .debs (docs/packaging.md):
//
//	go run ./internal/manpages -bin dist/bin/printdock-agent -section 1 \
//	    -summary "prints label jobs on this PC's printers" -version 1.2.3 -o printdock-agent.1
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "manpages:", err)
		os.Exit(1)
	}
}

type page struct {
	name, section, summary, version, date string
	seeAlso                               []string
	help                                  string    // BIN --help
	commands                              []command // BIN COMMAND -h, in the order --help lists them
}

type command struct {
	name, help string
}

func run(args []string) error {
	fs := flag.NewFlagSet("manpages", flag.ContinueOnError)
	bin := fs.String("bin", "", "the built binary whose help becomes the page (required)")
	name := fs.String("name", "", "the command's name (default: the binary's base name)")
	section := fs.String("section", "1", "man section: 1 (user commands) or 8 (administration)")
	summary := fs.String("summary", "", "one line for NAME (required)")
	version := fs.String("version", "", "the version in the page's footer")
	seeAlso := fs.String("see-also", "", "comma-separated NAME(SECTION) references")
	out := fs.String("o", "", "output file (default stdout)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *bin == "" || *summary == "" {
		return fmt.Errorf("-bin and -summary are required")
	}
	p := page{name: *name, section: *section, summary: *summary, version: *version, date: pageDate()}
	if p.name == "" {
		p.name = strings.TrimSuffix(filepath.Base(*bin), ".exe")
	}
	if *seeAlso != "" {
		p.seeAlso = strings.Split(*seeAlso, ",")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var err error
	if p.help, err = helpOf(ctx, *bin, "--help"); err != nil {
		return err
	}
	for _, c := range commandNames(p.help) {
		args := append(strings.Fields(c), "-h")
		h, err := helpOf(ctx, *bin, args...)
		if err != nil {
			return err
		}
		p.commands = append(p.commands, command{name: c, help: h})
	}
	text := render(p)
	if *out == "" {
		_, err = os.Stdout.WriteString(text)
		return err
	}
	if err := os.WriteFile(*out, []byte(text), 0o644); err != nil {
		return fmt.Errorf("write man page: %w", err)
	}
	return nil
}

// pageDate is the page's date: SOURCE_DATE_EPOCH's (reproducible packages), else today.
func pageDate() string {
	t := time.Now()
	if s, err := strconv.ParseInt(os.Getenv("SOURCE_DATE_EPOCH"), 10, 64); err == nil {
		t = time.Unix(s, 0)
	}
	return t.UTC().Format("2006-01-02")
}

// helpOf runs the binary with args and returns what it printed (stdout and stderr; the commands print
// their usage to either), without log lines. A help request should exit 0; one that exits otherwise
// (a program using flag's default -h handling) still counts when it printed a usage.
func helpOf(ctx context.Context, bin string, args ...string) (string, error) {
	var buf bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &buf, &buf
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	err := cmd.Run()
	text := cleanHelp(buf.String())
	if err != nil && (ctx.Err() != nil || !usageLine.MatchString(text)) {
		return "", fmt.Errorf("%s %s: %w: %s", bin, strings.Join(args, " "), err, buf.String())
	}
	return text, nil
}

var (
	usageLine = regexp.MustCompile(`(?m)^Usage( of [^:]+)?:`)
	// log lines (the standard logger's timestamp and what follows it indented) and flag's
	// "flag: help requested" error are not help.
	logLine = regexp.MustCompile(`^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d |: flag: help requested$`)
)

func cleanHelp(out string) string {
	var keep []string
	for _, line := range strings.Split(out, "\n") {
		if !logLine.MatchString(line) {
			keep = append(keep, line)
		}
	}
	return strings.TrimRight(strings.Join(keep, "\n"), "\n")
}

var commandLine = regexp.MustCompile(`^  ([a-z][a-z-]*(?: [a-z][a-z-]*)*)`)

// commandNames lists the commands of a --help's "Commands:" section: the leading lowercase words of its
// two-space-indented lines ("users list --portal ID" → "users list").
func commandNames(help string) []string {
	var names []string
	seen := map[string]bool{}
	in := false
	for _, line := range strings.Split(help, "\n") {
		switch {
		case strings.HasPrefix(line, "Commands:"):
			in = true
			continue
		case in && strings.TrimSpace(line) == "":
			if len(names) > 0 {
				in = false
			}
			continue
		case !in:
			continue
		}
		m := commandLine.FindStringSubmatch(line)
		if m == nil || seen[m[1]] {
			continue
		}
		seen[m[1]] = true
		names = append(names, m[1])
	}
	return names
}

// render writes the page: NAME, SYNOPSIS (the usage line), DESCRIPTION (the whole --help, verbatim),
// COMMANDS (each command's -h, verbatim), SEE ALSO.
func render(p page) string {
	var b strings.Builder
	title := strings.ToUpper(p.name)
	fmt.Fprintf(&b, ".\\\" Generated by internal/manpages from %s's help; do not edit.\n", p.name)
	fmt.Fprintf(&b, ".TH %s %s %s %s %s\n", quote(title), p.section, quote(p.date),
		quote(strings.TrimSpace("printdock "+p.version)), quote("printdock manual"))
	fmt.Fprintf(&b, ".SH NAME\n%s \\- %s\n", escape(p.name), escape(p.summary))
	b.WriteString(".SH SYNOPSIS\n")
	usage := strings.TrimSpace(strings.TrimPrefix(firstUsage(p.help), p.name))
	if usage == "" {
		usage = "[flags]"
	}
	fmt.Fprintf(&b, ".B %s\n%s\n", escape(p.name), escape(usage))
	b.WriteString(".SH DESCRIPTION\n")
	verbatim(&b, p.help)
	if len(p.commands) > 0 {
		b.WriteString(".SH COMMANDS\n")
		for _, c := range p.commands {
			fmt.Fprintf(&b, ".SS %s\n", escape(c.name))
			verbatim(&b, c.help)
		}
	}
	if len(p.seeAlso) > 0 {
		b.WriteString(".SH SEE ALSO\n")
		for i, ref := range p.seeAlso {
			sep := ","
			if i == len(p.seeAlso)-1 {
				sep = ""
			}
			n, sec, _ := strings.Cut(strings.TrimSuffix(strings.TrimSpace(ref), ")"), "(")
			fmt.Fprintf(&b, ".BR %s (%s)%s\n", escape(n), sec, sep)
		}
		b.WriteString(".PP\n/usr/share/doc/ holds the full documentation of each package.\n")
	}
	return b.String()
}

// firstUsage is the first "Usage: NAME …" line of a help text without "Usage:", else "".
func firstUsage(help string) string {
	for _, line := range strings.Split(help, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "Usage:"); ok {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}

// verbatim writes text as a no-fill block (.nf/.fi), escaped, blank lines kept.
func verbatim(b *strings.Builder, text string) {
	b.WriteString(".nf\n")
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			b.WriteString("\n")
			continue
		}
		b.WriteString(escape(line) + "\n")
	}
	b.WriteString(".fi\n")
}

// escape makes text safe in roff: backslashes, minus signs, and a control character (. or ') at the
// start of a line.
func escape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// quote is a .TH argument in double quotes (a roff string cannot hold a double quote: they become ').
func quote(s string) string {
	return `"` + strings.ReplaceAll(escape(s), `"`, `'`) + `"`
}
