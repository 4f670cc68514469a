package keys

import (
	"strings"
	"testing"
	"time"
)

func TestFailAuditAggregates(t *testing.T) {
	var f failAudit
	t0 := time.Date(2026, 12, 5, 14, 2, 10, 0, time.UTC)
	type step struct {
		at       time.Duration
		remote   string
		target   string
		write    bool
		noteHas  string
		noteNone bool
	}
	steps := []step{
		{0, "192.0.2.1", "", true, "", true},             // first failure of the minute: written
		{time.Second, "192.0.2.1", "", false, "", false}, // same address, same minute: counted
		{2 * time.Second, "192.0.2.1", "", false, "", false},
		{3 * time.Second, "192.0.2.2", "", true, "", true},             // another address: its own row
		{4 * time.Second, "192.0.2.1", "key1", true, "", true},         // same address, another target
		{70 * time.Second, "192.0.2.1", "", true, "and 2 more", false}, // next minute: written with the count
		{71 * time.Second, "192.0.2.1", "", false, "", false},
		{200 * time.Second, "192.0.2.1", "", true, "and 1 more", false},
		{201 * time.Second, "192.0.2.2", "", true, "", true}, // nothing suppressed for .2
	}
	for i, s := range steps {
		write, note := f.admit(s.remote, s.target, t0.Add(s.at))
		if write != s.write {
			t.Fatalf("step %d: write = %v, want %v", i, write, s.write)
		}
		if s.noteNone && note != "" {
			t.Errorf("step %d: note %q, want none", i, note)
		}
		if s.noteHas != "" && !strings.Contains(note, s.noteHas) {
			t.Errorf("step %d: note %q, want %q", i, note, s.noteHas)
		}
	}
}

// TestFailAuditFloodWritesOneRowPerMinute: 2,000 failures from one address within a minute cost one
// audit row.
func TestFailAuditFloodWritesOneRowPerMinute(t *testing.T) {
	var f failAudit
	t0 := time.Date(2026, 12, 5, 14, 2, 0, 0, time.UTC)
	rows := 0
	for i := range 2000 {
		if w, _ := f.admit("198.51.100.7", "", t0.Add(time.Duration(i)*20*time.Millisecond)); w {
			rows++
		}
	}
	if rows != 1 {
		t.Fatalf("%d rows for 2000 failures in one minute, want 1", rows)
	}
}
