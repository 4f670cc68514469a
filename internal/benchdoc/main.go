// Command benchdoc regenerates docs/benchmarks.md: it runs printdock's benchmarks, each beside the
// baseline it is judged against, measured in the same run (this machine is shared and noisy, so the
// ratio is the figure that travels, not the absolute time), and writes one table; then the sections
// written by commands of their own (sections.go: the chaos suite's table).
//
//	go run ./internal/benchdoc [-out docs/benchmarks.md] [-no-sections | -sections-only]
//
// `make bench` runs it. Every row names the command that produced it, so anyone can re-run one figure.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// figure is one row of the table: a metric of one benchmark, compared with a baseline metric measured in
// the same `go test` run (or "" when the figure stands alone, e.g. memory per connection).
type figure struct {
	Title    string
	Pkg      string
	Bench    string // -bench regexp; must match the benchmark (and the baseline's) names
	Time     string // -benchtime
	Metric   metricRef
	Baseline metricRef // zero: no baseline
	Target   string    // what the issue asks, in words
	Lower    bool      // lower is better (latency, memory); for the ratio's wording
}

// metricRef names one benchmark's reported unit, e.g. {"BenchmarkVerify", "ns/op"}.
type metricRef struct {
	Bench, Unit string
}

var figures = []figure{
	{Title: "Key verification (in process)", Pkg: "./server/keys/", Bench: "^(BenchmarkVerify|BenchmarkBcryptCost10)$", Time: "2s",
		Metric: metricRef{"BenchmarkVerify", "ns/op"}, Baseline: metricRef{"BenchmarkBcryptCost10", "ns/op"},
		Target: "≥ 500,000/s (≤ 2 µs) and ≥ 1,000× faster than a bcrypt (cost 10) check", Lower: true},
	{Title: "Job submit → agent ack, p50, 100 jobs/s offered (server, 50 fake agents)", Pkg: "./server/", Bench: "^BenchmarkJobDelivery$", Time: "1x",
		Metric: metricRef{"BenchmarkJobDelivery/rate=100", "job-p50-ms"}, Baseline: metricRef{"BenchmarkJobDelivery/rate=100", "ping-p50-ms"},
		Target: "baseline: a websocket ping round trip on the same connections", Lower: true},
	{Title: "Job submit → agent ack, p99, 100 jobs/s offered", Pkg: "./server/", Bench: "^BenchmarkJobDelivery$", Time: "1x",
		Metric: metricRef{"BenchmarkJobDelivery/rate=100", "job-p99-ms"}, Baseline: metricRef{"BenchmarkJobDelivery/rate=100", "ping-p99-ms"},
		Lower: true},
	{Title: "Jobs delivered per second at 1,000 jobs/s offered", Pkg: "./server/", Bench: "^BenchmarkJobDelivery$", Time: "1x",
		Metric: metricRef{"BenchmarkJobDelivery/rate=1000", "delivered-jobs/s"}, Baseline: metricRef{"BenchmarkJobDelivery/rate=1000", "offered-jobs/s"},
		Target: "1,000 jobs/s sustained (issue 13)"},
	{Title: "Job submit → agent ack, p99, 1,000 jobs/s offered", Pkg: "./server/", Bench: "^BenchmarkJobDelivery$", Time: "1x",
		Metric: metricRef{"BenchmarkJobDelivery/rate=1000", "job-p99-ms"}, Baseline: metricRef{"BenchmarkJobDelivery/rate=1000", "ping-p99-ms"},
		Target: "p99 < 10 ms (issue 13)", Lower: true},
	{Title: "Rotate → logout at the agent, p99 after the call returns", Pkg: "./server/", Bench: "^BenchmarkRotateToLogout$", Time: "1x",
		Metric: metricRef{"BenchmarkRotateToLogout", "p99-µs-after-return"}, Target: "within milliseconds", Lower: true},
	{Title: "Shared-secret reset: last device logged out after the call", Pkg: "./server/", Bench: "^BenchmarkSharedResetLogout$", Time: "1x",
		Metric: metricRef{"BenchmarkSharedResetLogout", "ms-last-logout-after-call"}, Lower: true},
	{Title: "Server memory per idle authenticated agent (RSS)", Pkg: "./server/", Bench: "^BenchmarkIdleConnectionMemory$", Time: "1x",
		Metric: metricRef{"BenchmarkIdleConnectionMemory/10000", "B-RSS/conn"}, Target: "≤ 32 KiB at 20,000 (issue 13)", Lower: true},
	{Title: "PDF 4×6 → ZPL, 203 dpi (render + encode)", Pkg: "./printer/raster/", Bench: "^Benchmark(PDF|PNG)ToZPL$", Time: "10x",
		Metric: metricRef{"BenchmarkPDFToZPL/4x6-203dpi", "ns/op"}, Baseline: metricRef{"BenchmarkPNGToZPL/4x6-203dpi-same-size", "ns/op"},
		Target: "baseline: a PNG of the label's exact size", Lower: true},
	{Title: "PDF 4×6 → ZPL, 300 dpi (render + encode)", Pkg: "./printer/raster/", Bench: "^Benchmark(PDF|PNG)ToZPL$", Time: "10x",
		Metric: metricRef{"BenchmarkPDFToZPL/4x6-300dpi", "ns/op"}, Baseline: metricRef{"BenchmarkPNGToZPL/4x6-300dpi-same-size", "ns/op"},
		Lower: true},
	{Title: "PDF 4×6 → ZPL, 300 dpi, peak RSS growth", Pkg: "./printer/raster/", Bench: "^Benchmark(PDF|PNG)ToZPL$", Time: "10x",
		Metric: metricRef{"BenchmarkPDFToZPL/4x6-300dpi", "peakRSS-MiB"}, Lower: true},
	{Title: "PDF job submit → ZPL at the printer, p50 (server, agent, TCP simulator)", Pkg: "./agent/", Bench: "^BenchmarkPDFJobEndToEnd$", Time: "20x",
		Metric: metricRef{"BenchmarkPDFJobEndToEnd", "pdf-p50-ms"}, Baseline: metricRef{"BenchmarkPDFJobEndToEnd", "raw-p50-ms"},
		Target: "baseline: the same label submitted as raw ZPL", Lower: true},
	{Title: "PDF job submit → ZPL at the printer, p99", Pkg: "./agent/", Bench: "^BenchmarkPDFJobEndToEnd$", Time: "20x",
		Metric: metricRef{"BenchmarkPDFJobEndToEnd", "pdf-p99-ms"}, Baseline: metricRef{"BenchmarkPDFJobEndToEnd", "raw-p99-ms"},
		Lower: true},
	{Title: "Agent idle RSS (connected printdock-agent run)", Pkg: "./agent/", Bench: "^BenchmarkIdleRSS$", Time: "1x",
		Metric: metricRef{"BenchmarkIdleRSS", "RSS-KiB"}, Lower: true},
	{Title: "Webhook: job state change → receiver, p50, 200 events/s (SQLite)", Pkg: "./server/", Bench: "^BenchmarkWebhookDelivery$", Time: "1x",
		Metric: metricRef{"BenchmarkWebhookDelivery", "hook-p50-ms"}, Baseline: metricRef{"BenchmarkWebhookDelivery", "post-p50-ms"},
		Target: "baseline: a bare HTTP POST round trip to the same receiver", Lower: true},
	{Title: "Webhook: job state change → receiver, p99, 200 events/s", Pkg: "./server/", Bench: "^BenchmarkWebhookDelivery$", Time: "1x",
		Metric: metricRef{"BenchmarkWebhookDelivery", "hook-p99-ms"}, Baseline: metricRef{"BenchmarkWebhookDelivery", "post-p99-ms"},
		Lower: true},
	{Title: "Event stream: state change → each of 100 subscribers, p50, 50 events/s", Pkg: "./server/", Bench: "^BenchmarkEventStreamFanout$", Time: "1x",
		Metric: metricRef{"BenchmarkEventStreamFanout/subs=100", "p50-ms"}, Baseline: metricRef{"BenchmarkEventStreamFanout/subs=1", "p50-ms"},
		Target: "baseline: one subscriber", Lower: true},
	{Title: "Event stream: state change → each of 100 subscribers, p99", Pkg: "./server/", Bench: "^BenchmarkEventStreamFanout$", Time: "1x",
		Metric: metricRef{"BenchmarkEventStreamFanout/subs=100", "p99-ms"}, Baseline: metricRef{"BenchmarkEventStreamFanout/subs=1", "p99-ms"},
		Lower: true},
}

// result is one benchmark line: its metrics by unit.
type result map[string]float64

func main() {
	out := flag.String("out", "docs/benchmarks.md", "where to write the table")
	noSections := flag.Bool("no-sections", false, "only the benchmark table (not the chaos suite)")
	sectionsOnly := flag.Bool("sections-only", false, "keep the benchmark table of -out and rewrite only the sections (the chaos suite)")
	flag.Parse()
	if *sectionsOnly {
		if err := rewriteSections(context.Background(), *out); err != nil {
			fmt.Fprintln(os.Stderr, "benchdoc:", err)
			os.Exit(1)
		}
		return
	}
	ctx := context.Background()
	runs := map[string]map[string]result{} // pkg+bench+time → benchmark name → metrics
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\nGenerated by `make bench` (`go run ./internal/benchdoc`) on %s, %s/%s, %d CPUs, %s.\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	b.WriteString("Each figure is measured beside its baseline in the same run; on a shared, noisy machine the ratio is\n")
	b.WriteString("what carries over, not the absolute value. Re-run one row with its command.\n\n")
	b.WriteString("| figure | value | baseline (same run) | ratio | target | command |\n|---|---|---|---|---|---|\n")
	for _, f := range figures {
		key := f.Pkg + "|" + f.Bench + "|" + f.Time
		res, ok := runs[key]
		cmd := fmt.Sprintf("go test -run '^$' -bench '%s' -benchtime %s %s", f.Bench, f.Time, f.Pkg)
		if !ok {
			fmt.Fprintf(os.Stderr, "benchdoc: %s\n", cmd)
			var err error
			res, err = runBench(ctx, f.Pkg, f.Bench, f.Time)
			if err != nil {
				fmt.Fprintf(os.Stderr, "benchdoc: %v\n", err)
				os.Exit(1)
			}
			runs[key] = res
		}
		v, okv := res[f.Metric.Bench][f.Metric.Unit]
		value, base, ratio := "missing", "—", "—"
		if okv {
			value = fmtValue(v, f.Metric.Unit)
		}
		if f.Baseline.Bench != "" {
			if bv, okb := res[f.Baseline.Bench][f.Baseline.Unit]; okb {
				base = fmt.Sprintf("%s (%s)", fmtValue(bv, f.Baseline.Unit), strings.TrimPrefix(f.Baseline.Bench, "Benchmark"))
				if okv && v > 0 && bv > 0 {
					switch {
					case f.Lower && bv >= v:
						ratio = fmt.Sprintf("%.0f× faster", bv/v)
					case f.Lower:
						ratio = fmt.Sprintf("%.1f× slower", v/bv)
					default:
						ratio = fmt.Sprintf("%.1f×", v/bv)
					}
				}
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | `%s` |\n", f.Title, value, base, ratio, f.Target, cmd)
	}
	if !*noSections {
		if err := writeSections(ctx, &b); err != nil {
			fmt.Fprintln(os.Stderr, "benchdoc:", err)
			os.Exit(1)
		}
	}
	b.WriteString(keptNotes(*out))
	if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "benchdoc:", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "benchdoc: wrote", *out)
}

func runBench(ctx context.Context, pkg, bench, benchtime string) (map[string]result, error) {
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", bench, "-benchtime", benchtime, "-count", "1", pkg)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %w\n%s%s", pkg, bench, err, stdout.String(), stderr.String())
	}
	return parse(stdout.String()), nil
}

// parse reads `go test -bench` output lines: "BenchmarkX-2   1   123 ns/op   4.5 p99-ms ...". A log line
// printed while the benchmark ran can split one: "BenchmarkX-2  \t2026/… INFO …" then "  1  123 ns/op …".
func parse(s string) map[string]result {
	out := map[string]result{}
	sc := bufio.NewScanner(strings.NewReader(s))
	pending := ""
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 1 && strings.HasPrefix(f[0], "Benchmark") && (len(f) < 2 || !isNumber(f[1])) {
			pending = f[0]
			continue
		}
		if pending != "" && len(f) >= 3 && isNumber(f[0]) {
			f = append([]string{pending}, f...)
		}
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		pending = ""
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		r := result{}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			r[f[i+1]] = v
		}
		out[name] = r
	}
	return out
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

func fmtValue(v float64, unit string) string {
	switch {
	case unit == "ns/op" && v >= 1e6:
		return fmt.Sprintf("%.1f ms", v/1e6)
	case unit == "ns/op" && v >= 1e3:
		return fmt.Sprintf("%.1f µs", v/1e3)
	case unit == "ns/op":
		return fmt.Sprintf("%.0f ns", v)
	case strings.HasPrefix(unit, "B-"):
		return fmt.Sprintf("%.1f KiB %s", v/1024, strings.TrimPrefix(unit, "B-"))
	}
	return strconv.FormatFloat(v, 'f', -1, 64) + " " + unit
}
