package agent

import (
	"bytes"
	"fmt"
	"image/png"
	"slices"
	"testing"
	"time"

	"printdock/internal/testenv"
	"printdock/printer"
	"printdock/printer/raster/rastertest"
	"printdock/printer/sim"
	"printdock/server/jobs"
	"printdock/server/keys"
	"printdock/server/servertest"
)

// TestDialectsPrintOverTCP: end to end (real server, real agent, the simulator over TCP 9100), printers
// that never answer ~HS — a silent one, an EPL and a TSPL printer — each receive their label byte-exact
// and once, with no status request mixed in.
func TestDialectsPrintOverTCP(t *testing.T) {
	for _, tt := range []struct {
		dialect sim.Dialect
		label   string
	}{
		{sim.DialectSilent, "^XA^FO20,20^A0N,40,40^FDone-way print server^FS^XZ\n"},
		{sim.DialectEPL, "N\nq812\nA20,20,0,4,1,1,N,\"EPL LABEL\"\nB20,80,0,1,2,6,100,B,\"1Z999AA1\"\nP1\n"},
		{sim.DialectTSPL, "SIZE 100 mm,150 mm\nGAP 3 mm,0 mm\nCLS\nTEXT 20,20,\"3\",0,1,1,\"TSPL LABEL\"\nPRINT 1,1\n"},
	} {
		t.Run(string(tt.dialect), func(t *testing.T) {
			s := simTCP(t)
			s.Printer().SetDialect(tt.dialect)
			r := newJobRigWith(t, s, nil)
			j := r.submit(t, []byte(tt.label), servertest.JobOptions{})
			r.waitJob(t, j.ID, "done", stateIsJob(jobs.Done))
			got := waitSimJobs(t, s.Printer(), 1)
			if len(s.Printer().Jobs()) != 1 || !bytes.Equal(got[0].Data, []byte(tt.label)) {
				t.Fatalf("the %s printer got %d jobs, first %q; want the label once", tt.dialect, len(s.Printer().Jobs()), got[0].Data)
			}
			if bytes.Contains(got[0].Data, []byte("~HS")) {
				t.Fatalf("a status request reached the %s printer's job data", tt.dialect)
			}
		})
	}
}

// TestPDFLabelToZPLAndTSPL: a carrier's 4×6 PDF (a Code 128 and a QR code) submitted as content_type pdf
// reaches a 203 dpi ZPL printer as ^GFA and a 300 dpi TSPL printer as BITMAP; both barcodes decode from
// what the printer received.
func TestPDFLabelToZPLAndTSPL(t *testing.T) {
	pdf := rastertest.CarrierPDF(t, 288, 432)
	for _, tt := range []struct {
		dialect sim.Dialect
		lang    printer.Language
		dpi     int
		want    string
	}{
		{sim.DialectZPL, printer.LangZPL, 203, "^GFA,"},
		{sim.DialectTSPL, printer.LangTSPL, 300, "BITMAP 0,0,"},
	} {
		t.Run(string(tt.lang), func(t *testing.T) {
			s := simTCP(t)
			s.Printer().SetDialect(tt.dialect)
			r := newJobRigWith(t, s, func(c *Config) {
				c.PrinterSettings = map[string]PrinterSettings{s.URI(): {Language: string(tt.lang), DPI: tt.dpi}}
			})
			testenv.WaitFor(t, "the server to know the printer's language", func() bool {
				for _, p := range r.ts.Printers(t) {
					if p.ID == r.printerID && p.Language == string(tt.lang) && p.DPI == tt.dpi {
						return true
					}
				}
				return false
			})
			j := r.submit(t, pdf, servertest.JobOptions{ContentType: jobs.ContentPDF})
			r.waitJob(t, j.ID, "done", stateIsJob(jobs.Done))
			got := waitSimJobs(t, s.Printer(), 1)[0].Data
			if !bytes.Contains(got, []byte(tt.want)) {
				t.Fatalf("the %s printer received no %q: %.200q", tt.lang, tt.want, got)
			}
			img := rastertest.PrintedImage(t, tt.lang, tt.dpi, got, 0)
			if c128, qr := rastertest.DecodeBarcodes(t, img); c128 != rastertest.Tracking || qr != rastertest.QRText {
				t.Errorf("decoded %q and %q from the printed label", c128, qr)
			}
			// The job keeps the preview rendered from the PDF, in any printer language.
			admin, err := r.ts.S.Keys.Authenticate(t.Context(), r.ts.AdminKey, "", "")
			if err != nil {
				t.Fatal(err)
			}
			b, err := r.ts.S.Jobs.Preview(t.Context(), keys.Actor{Principal: admin}, j.ID)
			if err != nil {
				t.Fatalf("the job's preview: %v", err)
			}
			pimg, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("the job's preview is no PNG: %v", err)
			}
			if c128, qr := rastertest.DecodeBarcodes(t, pimg); c128 != rastertest.Tracking || qr != rastertest.QRText {
				t.Errorf("decoded %q and %q from the stored preview", c128, qr)
			}
		})
	}
	// A printer whose language nobody knows: the submission is refused with 422 and a reason.
	s := simTCP(t)
	s.Printer().SetDialect(sim.DialectSilent)
	r := newJobRigWith(t, s, nil)
	r.submit(t, pdf, servertest.JobOptions{ContentType: jobs.ContentPDF, Want: 422})
}

// BenchmarkPDFJobEndToEnd: a carrier's 4×6 PDF submitted through the REST API until its ZPL is at a
// 203 dpi printer (real server, real agent, simulator over TCP), one job at a time; beside it, in the
// same run, the same path for the raw ZPL the PDF becomes (the baseline: what rendering adds).
//
//	go test -run '^$' -bench PDFJobEndToEnd -benchtime 20x ./agent/
func BenchmarkPDFJobEndToEnd(b *testing.B) {
	pdf := rastertest.CarrierPDF(b, 288, 432)
	s := simTCP(b)
	r := newJobRigWith(b, s, func(c *Config) {
		c.PrinterSettings = map[string]PrinterSettings{s.URI(): {Language: "zpl", DPI: 203}}
	})
	testenv.WaitFor(b, "the printer's language at the server", func() bool {
		for _, p := range r.ts.Printers(b) {
			if p.ID == r.printerID && p.Language == "zpl" {
				return true
			}
		}
		return false
	})
	run := func(content []byte, ct string) []time.Duration {
		var lat []time.Duration
		for i := range b.N {
			n := len(s.Printer().Jobs())
			start := time.Now()
			r.ts.SubmitJob(b, r.printerID, content, servertest.JobOptions{ContentType: ct, Title: fmt.Sprint(ct, i)})
			testenv.WaitFor(b, "the job at the printer", func() bool { return len(s.Printer().Jobs()) > n })
			lat = append(lat, time.Since(start))
		}
		slices.Sort(lat)
		return lat
	}
	pdfLat := run(pdf, jobs.ContentPDF)
	zplData := s.Printer().Jobs()[0].Data
	rawLat := run(zplData, jobs.ContentRaw)
	pct := func(l []time.Duration, p float64) float64 {
		return float64(l[min(len(l)-1, int(p*float64(len(l))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(pdfLat, 0.5), "pdf-p50-ms")
	b.ReportMetric(pct(pdfLat, 0.99), "pdf-p99-ms")
	b.ReportMetric(pct(rawLat, 0.5), "raw-p50-ms")
	b.ReportMetric(pct(rawLat, 0.99), "raw-p99-ms")
	b.ReportMetric(0, "ns/op")
}
