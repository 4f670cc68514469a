package main

import "testing"

func TestParseCPULine(t *testing.T) {
	for _, c := range []struct {
		line      string
		busy, all uint64
		bad       bool
	}{
		// user nice system idle iowait irq softirq steal guest guest_nice
		{line: "cpu  100 5 40 800 30 2 3 1 7 0\n", busy: 100 + 5 + 40 + 2 + 3 + 1, all: 100 + 5 + 40 + 2 + 3 + 1 + 800 + 30},
		{line: "cpu 1 0 0 1 0 0 0 0", busy: 1, all: 2},
		{line: "cpu0 1 2 3 4 5 6 7 8", bad: true},
		{line: "cpu 1 2 3", bad: true},
		{line: "cpu 1 x 3 4 5 6 7 8", bad: true},
	} {
		got, err := parseCPULine(c.line)
		if (err != nil) != c.bad {
			t.Errorf("%q: error %v, want error %v", c.line, err, c.bad)
			continue
		}
		if !c.bad && (got.busy != c.busy || got.all != c.all) {
			t.Errorf("%q: busy %d of %d, want %d of %d", c.line, got.busy, got.all, c.busy, c.all)
		}
	}
}
