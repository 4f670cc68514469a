package keys

import (
	"fmt"
	"sync"
	"time"
)

// failAudit keeps failed authentications from flooding the audit log (and the database's write-ahead
// log): per client address and target, the first failure of each minute is written, the rest of that
// minute are only counted, and the count rides along on the next row written for the pair ("and 1,979
// more since 14:02"). A guesser therefore costs at most one audit row per address, target and minute,
// while an administrator still sees every address that tried and how hard.
//
// Its zero value is ready to use.
type failAudit struct {
	mu     sync.Mutex
	minute time.Time // the minute the entries belong to; an older minute's entries are folded on change
	seen   map[string]int
	// carried holds the suppressed counts of the previous minutes, reported with the pair's next row.
	carried map[string]carry
}

type carry struct {
	n     int
	since time.Time
}

// maxFailPairs bounds the memory of failAudit; past it, new pairs of the minute are written without
// aggregation state (a flood of distinct addresses is bounded by the API's limiter instead).
const maxFailPairs = 50_000

// admit reports whether the failure of (remote, target) at now should be written to the audit log, and
// if so a note on the failures suppressed before it ("" when none).
func (f *failAudit) admit(remote, target string, now time.Time) (write bool, note string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := now.Truncate(time.Minute)
	if !m.Equal(f.minute) {
		f.fold()
		f.minute = m
	}
	if f.seen == nil {
		f.seen = make(map[string]int)
	}
	key := remote + "|" + target
	if n, ok := f.seen[key]; ok {
		f.seen[key] = n + 1
		return false, ""
	}
	if len(f.seen) < maxFailPairs {
		f.seen[key] = 1
	}
	if c, ok := f.carried[key]; ok {
		delete(f.carried, key)
		return true, fmt.Sprintf(" (and %d more from this address since %s, not listed)", c.n, c.since.UTC().Format("15:04 MST"))
	}
	return true, ""
}

// fold moves the minute's suppressed counts into carried.
func (f *failAudit) fold() {
	for key, n := range f.seen {
		if n <= 1 {
			continue
		}
		if f.carried == nil {
			f.carried = make(map[string]carry)
		}
		c, ok := f.carried[key]
		if !ok {
			c.since = f.minute
		}
		c.n += n - 1
		if len(f.carried) < maxFailPairs || ok {
			f.carried[key] = c
		}
	}
	f.seen = nil
}
