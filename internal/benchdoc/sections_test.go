package main

import (
	"os"
	"path/filepath"
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
