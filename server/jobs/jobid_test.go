package jobs

import (
	"regexp"
	"testing"
	"time"
)

// TestJobIDOrder: job IDs keep their format (job_ and 26 of base32's lowercase characters) and sort by
// creation time (the indexes keyed by job ID take new jobs at their end).
func TestJobIDOrder(t *testing.T) {
	format := regexp.MustCompile(`^job_[a-z2-7]{26}$`)
	prev := ""
	for i := range 1000 {
		id := newJobID(t0.Add(time.Duration(i) * time.Millisecond))
		if !format.MatchString(id) {
			t.Fatalf("ID %q does not match %v", id, format)
		}
		if id <= prev {
			t.Fatalf("ID %q of a later job sorts before %q", id, prev)
		}
		prev = id
	}
	if a, b := newJobID(t0), newJobID(t0); a == b {
		t.Errorf("two IDs at the same time are equal: %s", a)
	}
}
