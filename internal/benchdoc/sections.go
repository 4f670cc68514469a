package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// section is a part of docs/benchmarks.md written by a command of its own (its Markdown output), after
// the table of `go test` benchmarks.
type section struct {
	Title, Intro string
	Cmd          []string // run from the module root; its stdout is the section's body
	Root         bool     // needs root (network namespaces, tmpfs mounts): says so instead when not root
}

var sections = []section{
	{Title: "Scale targets (issue 13)", Cmd: []string{"go", "run", "./cmd/printdock-bench", "--mode", "targets", "--duration", "60s"},
		Intro: "Each target of issue 13 measured by printdock-bench in a child process of its own, beside its baseline " +
			"from the same run (a bare coder/websocket echo or broadcast, or the same operation without the part under " +
			"test). Servers run on the embedded SQLite unless the row says PostgreSQL; agents run in other processes. " +
			"Re-run one row with its command."},
	{Title: "Chaos suite", Cmd: []string{"go", "run", "./cmd/printdock-chaos"}, Root: true,
		Intro: "Real printdock-server and printdock-agent processes, simulated Zebras over tcp://, one fault per scenario " +
			"while jobs are submitted through the REST API (cmd/printdock-chaos; `scripts/test.d/80-chaos.sh` runs its " +
			"`--short` form in the test command). Lost: accepted (201) but never printed; printed twice: by the marker " +
			"each label carries; refused but printed: an error answer whose job printed anyway. \"No answer\": the " +
			"connection broke mid-request (the job may print, at most once)."},
}

// writeSections runs every section's command and appends its output under its title.
func writeSections(ctx context.Context, b *strings.Builder) error {
	for _, s := range sections {
		fmt.Fprintf(b, "\n## %s\n\n%s\n\nCommand: `%s`\n\n", s.Title, s.Intro, strings.Join(s.Cmd, " "))
		if s.Root && os.Geteuid() != 0 {
			b.WriteString("Not measured in this run: it needs root.\n")
			continue
		}
		fmt.Fprintf(os.Stderr, "benchdoc: %s\n", strings.Join(s.Cmd, " "))
		cmd := exec.CommandContext(ctx, s.Cmd[0], s.Cmd[1:]...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		b.Write(stdout.Bytes())
		if err != nil {
			// A failing scenario is a finding: the table says FAIL; the run goes on.
			fmt.Fprintf(os.Stderr, "benchdoc: %s: %v\n%s", s.Title, err, stderr.String())
			if stdout.Len() == 0 {
				return fmt.Errorf("%s: %w\n%s", s.Title, err, stderr.String())
			}
		}
	}
	return nil
}

// rewriteSections keeps path's text up to its first generated section and writes the sections again.
func rewriteSections(ctx context.Context, path string) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	text := string(old)
	notes := keptNotes(path)
	// Cut at the first generated section of any title (one added since the file was written included).
	heads := []string{notesHeading}
	for _, s := range sections {
		heads = append(heads, "\n## "+s.Title+"\n")
	}
	for _, h := range heads {
		if i := strings.Index(text, h); i >= 0 {
			text = text[:i]
		}
	}
	var b strings.Builder
	b.WriteString(strings.TrimRight(text, "\n") + "\n")
	if err := writeSections(ctx, &b); err != nil {
		return err
	}
	b.WriteString(notes)
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// notesHeading starts the hand-written part of docs/benchmarks.md (analysis, profiles), which benchdoc
// keeps as it is at the end of the file.
const notesHeading = "\n## Notes (hand-written"

// keptNotes is the hand-written part of the file at path, from notesHeading to the end ("" if none).
func keptNotes(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if i := strings.Index(string(b), notesHeading); i >= 0 {
		return string(b[i:])
	}
	return ""
}
