package raster

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"

	"printdock/printer"
)

// The conversion benchmarks report, besides time and allocations per conversion, the process's peak
// resident memory over the run above what it used before (peakRSS-MiB: VmHWM after, with the peak reset
// through /proc/self/clear_refs, minus VmRSS before), after one warm-up conversion so that the PDF
// engine's start is not counted (BenchmarkPDFEngineStart measures it):
//
//	go test -run XXX -bench 'ToZPL|EngineStart' -benchtime 20x ./printer/raster/

func BenchmarkPDFToZPL(b *testing.B) {
	pdf := labelPDF(b, 288, 432)
	for _, dpi := range []int{203, 300} {
		b.Run(fmt.Sprintf("4x6-%ddpi", dpi), func(b *testing.B) { benchConvert(b, testConverter(), pdf, "pdf", dpi) })
	}
}

func BenchmarkPNGToZPL(b *testing.B) {
	for _, dpi := range []int{203, 300} {
		// A PNG made for the printer (a carrier's 4×6 at the printer's dpi) and one that must be scaled.
		same := labelPNG(b, 4*dpi, 6*dpi, dpi/100)
		other := labelPNG(b, 4*(503-dpi), 6*(503-dpi), (503-dpi)/100)
		b.Run(fmt.Sprintf("4x6-%ddpi-same-size", dpi), func(b *testing.B) { benchConvert(b, pngConverter, same, "png", dpi) })
		b.Run(fmt.Sprintf("4x6-%ddpi-scaled", dpi), func(b *testing.B) { benchConvert(b, pngConverter, other, "png", dpi) })
	}
}

func benchConvert(b *testing.B, c *Converter, content []byte, kind string, dpi int) {
	t := Target{Language: printer.LangZPL, DPI: dpi}
	ctx := context.Background()
	res, err := c.Convert(ctx, content, kind, t) // warm up: engine started, worker memory grown
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	before := procStatus(b, "VmRSS")
	resetPeakRSS(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Convert(ctx, content, kind, t); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(procStatus(b, "VmHWM")-before)/(1<<20), "peakRSS-MiB")
	b.ReportMetric(float64(len(res.Data)), "zpl-bytes")
}

// BenchmarkPDFEngineStart measures starting the PDF engine: compiling PDFium's WebAssembly (no cache)
// or loading the compiled code (with Limits.CacheDir, after a first start filled it).
func BenchmarkPDFEngineStart(b *testing.B) {
	for _, cached := range []bool{false, true} {
		b.Run(fmt.Sprintf("cache=%v", cached), func(b *testing.B) {
			lim := Limits{}
			if cached {
				lim.CacheDir = b.TempDir()
				c := New(lim)
				if err := c.Start(context.Background()); err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
			for b.Loop() {
				c := New(lim)
				if err := c.Start(context.Background()); err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
		})
	}
}

// procStatus reads a memory figure of /proc/self/status in bytes.
func procStatus(b *testing.B, field string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc/self/status: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) >= 2 && string(f[0]) == field+":" {
			kb, _ := strconv.ParseInt(string(f[1]), 10, 64)
			return kb << 10
		}
	}
	b.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// resetPeakRSS makes VmHWM start again from the current RSS (Linux 4.0+).
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Skipf("cannot reset the peak RSS: %v", err)
	}
}
