package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The hand-written notes at the end of docs/benchmarks.md survive a regeneration.
func TestKeptNotes(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, text, want string }{
		{"none", "# Benchmarks\n\n| a |\n", ""},
		{"notes", "# Benchmarks\n\n## Chaos suite\n\nx\n\n## Notes (hand-written: kept by benchdoc)\n\nwhy\n", "\n## Notes (hand-written: kept by benchdoc)\n\nwhy\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name+".md")
			if err := os.WriteFile(p, []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			if got := keptNotes(p); got != tc.want {
				t.Fatalf("keptNotes = %q, want %q", got, tc.want)
			}
		})
	}
	if got := keptNotes(filepath.Join(dir, "missing.md")); got != "" {
		t.Fatalf("keptNotes of a missing file = %q", got)
	}
}

// rewriteSections keeps the table, replaces the generated sections and keeps one copy of the notes after
// them, however often it runs.
func TestRewriteSectionsKeepsOrder(t *testing.T) {
	saved := sections
	defer func() { sections = saved }()
	sections = []section{{Title: "Chaos suite", Cmd: []string{"echo", "| table |"}}}
	p := filepath.Join(t.TempDir(), "b.md")
	if err := os.WriteFile(p, []byte("# Benchmarks\n\n| row |\n\n## Notes (hand-written: kept)\n\nwhy\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := rewriteSections(t.Context(), p); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(p)
	s := string(b)
	table, chaos, notes := strings.Index(s, "| row |"), strings.Index(s, "## Chaos suite"), strings.Index(s, "## Notes")
	if strings.Count(s, "## Chaos suite") != 1 || strings.Count(s, "## Notes") != 1 || !(table < chaos && chaos < notes) {
		t.Fatalf("rewritten twice:\n%s", s)
	}
}

// A section added before one the file already has: the old copy is replaced, not kept beside the new.
func TestRewriteSectionsNewSectionFirst(t *testing.T) {
	saved := sections
	defer func() { sections = saved }()
	sections = []section{{Title: "Chaos suite", Cmd: []string{"echo", "| chaos |"}}}
	p := filepath.Join(t.TempDir(), "b.md")
	if err := os.WriteFile(p, []byte("# Benchmarks\n\n| row |\n\n## Notes (hand-written: kept)\n\nwhy\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := rewriteSections(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	sections = append([]section{{Title: "Scale targets", Cmd: []string{"echo", "| targets |"}}}, sections...)
	if err := rewriteSections(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	s := string(b)
	targets, chaos, notes := strings.Index(s, "## Scale targets"), strings.Index(s, "## Chaos suite"), strings.Index(s, "## Notes")
	if strings.Count(s, "## Chaos suite") != 1 || strings.Count(s, "## Scale targets") != 1 || strings.Count(s, "## Notes") != 1 ||
		!(targets < chaos && chaos < notes) {
		t.Fatalf("after adding a first section:\n%s", s)
	}
}
