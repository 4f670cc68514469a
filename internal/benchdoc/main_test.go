package main

import "testing"

func TestParse(t *testing.T) {
	out := parse(`goos: linux
BenchmarkVerify-2          	  130000	     18800 ns/op	     512 B/op
BenchmarkJobDelivery-2   	       1	         0 ns/op	         4.2 job-p50-ms	        59.0 job-p99-ms
BenchmarkX/sub-case-2 1 5 ns/op
BenchmarkSplit-2   	2026/12/05 23:57:46 INFO raster: pdf engine started took=467ms workers=2
      20	        54.19 pdf-p50-ms	       343.5 pdf-p99-ms
PASS`)
	if out["BenchmarkVerify"]["ns/op"] != 18800 || out["BenchmarkVerify"]["B/op"] != 512 {
		t.Errorf("verify: %v", out["BenchmarkVerify"])
	}
	if out["BenchmarkJobDelivery"]["job-p99-ms"] != 59 {
		t.Errorf("delivery: %v", out["BenchmarkJobDelivery"])
	}
	if out["BenchmarkSplit"]["pdf-p50-ms"] != 54.19 {
		t.Errorf("a benchmark line split by a log line: %v", out)
	}
	if out["BenchmarkX/sub-case"]["ns/op"] != 5 {
		t.Errorf("sub-benchmark name: %v", out)
	}
}

func TestFmtValue(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		unit string
		want string
	}{
		{18800, "ns/op", "18.8 µs"},
		{56.2e6, "ns/op", "56.2 ms"},
		{48 * 1024, "B-RSS/conn", "48.0 KiB RSS/conn"},
		{4.5, "job-p99-ms", "4.5 job-p99-ms"},
	} {
		if got := fmtValue(tt.v, tt.unit); got != tt.want {
			t.Errorf("fmtValue(%v, %q) = %q, want %q", tt.v, tt.unit, got, tt.want)
		}
	}
}
