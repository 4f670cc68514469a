package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// cpuTimes is the machine's CPU time so far, all cores, in clock ticks: busy (user, nice, system, irq,
// softirq, steal) and all (busy plus idle and iowait).
type cpuTimes struct{ busy, all uint64 }

// readCPUTimes reads the first line of /proc/stat (Linux); ok is false elsewhere.
func readCPUTimes() (t cpuTimes, ok bool) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return t, false
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		return t, false
	}
	t, err = parseCPULine(line)
	return t, err == nil
}

// parseCPULine parses /proc/stat's "cpu" line: user nice system idle iowait irq softirq steal ...
// (guest time is already counted in user and nice).
func parseCPULine(line string) (cpuTimes, error) {
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return cpuTimes{}, fmt.Errorf("not a /proc/stat cpu line: %q", line)
	}
	var v [8]uint64
	for i := range v {
		n, err := strconv.ParseUint(f[i+1], 10, 64)
		if err != nil {
			return cpuTimes{}, fmt.Errorf("/proc/stat cpu line: %w", err)
		}
		v[i] = n
	}
	busy := v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
	return cpuTimes{busy: busy, all: busy + v[3] + v[4]}, nil
}

// busySince is the fraction of the machine's CPU time that was busy between from and now (0 when either
// reading failed).
func busySince(from cpuTimes, ok bool) float64 {
	to, ok2 := readCPUTimes()
	if !ok || !ok2 || to.all <= from.all {
		return 0
	}
	return float64(to.busy-from.busy) / float64(to.all-from.all)
}
