package main

import (
	"fmt"
	"io"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
)

// The idle mode's RSS breakdown: where the resident memory of the connections goes, beyond the Go heap
// and stacks (written to stderr, so the mode's output stays as it was).

// memBreakdown is this process's memory by kind, in bytes.
type memBreakdown struct {
	rss, anon, file float64 // smaps_rollup: Rss, Anonymous, and the rest (file-backed: SQLite's mmap)
	fds             int     // open files
	goMapped        float64 // the Go runtime's mapped memory minus what it released to the OS
	m               map[string]float64
}

// breakdownMetrics are the runtime/metrics classes listed (every /memory/classes one).
var breakdownMetrics = []string{
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/released:bytes",
	"/memory/classes/heap/stacks:bytes",
	"/memory/classes/os-stacks:bytes",
	"/memory/classes/metadata/gc:bytes",
	"/memory/classes/metadata/mspan/inuse:bytes",
	"/memory/classes/metadata/mspan/free:bytes",
	"/memory/classes/metadata/mcache/inuse:bytes",
	"/memory/classes/metadata/other:bytes",
	"/memory/classes/profiling/buckets:bytes",
	"/memory/classes/other:bytes",
	"/memory/classes/total:bytes",
}

func sampleBreakdown() memBreakdown {
	b := memBreakdown{m: map[string]float64{}}
	data, _ := os.ReadFile("/proc/self/smaps_rollup")
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "Rss:":
			b.rss = kb * 1024
		case "Anonymous:":
			b.anon = kb * 1024
		}
	}
	b.file = b.rss - b.anon
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		b.fds = len(ents)
	}
	s := make([]metrics.Sample, len(breakdownMetrics))
	for i, name := range breakdownMetrics {
		s[i].Name = name
	}
	metrics.Read(s)
	for _, x := range s {
		if x.Value.Kind() == metrics.KindUint64 {
			b.m[x.Name] = float64(x.Value.Uint64())
		}
	}
	b.goMapped = b.m["/memory/classes/total:bytes"] - b.m["/memory/classes/heap/released:bytes"]
	return b
}

// writeBreakdown writes after−before per connection, in KiB.
func writeBreakdown(w io.Writer, title string, before, after memBreakdown, n int) {
	per := func(a, b float64) float64 { return (a - b) / float64(n) / 1024 }
	fmt.Fprintf(w, "%s: per connection (KiB): RSS %.2f = anonymous %.2f + file-backed %.2f; Go mapped (not released) %.2f; anonymous outside Go %.2f\n",
		title, per(after.rss, before.rss), per(after.anon, before.anon), per(after.file, before.file),
		per(after.goMapped, before.goMapped), per(after.anon-after.goMapped, before.anon-before.goMapped))
	fmt.Fprintf(w, "  open files: %d before the agents, %d with them\n", before.fds, after.fds)
	for _, name := range breakdownMetrics {
		fmt.Fprintf(w, "  %-45s %8.2f\n", name, per(after.m[name], before.m[name]))
	}
}
