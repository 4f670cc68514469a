package sim

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"printdock/printer"
	"printdock/printer/netraw"
)

const (
	eplLabel  = "\nN\nq812\nQ1218,24\nA50,50,0,4,1,1,N,\"Hello EPL\"\nB50,150,0,1,3,7,100,B,\"PD-1\"\nP1\n"
	tsplLabel = "SIZE 100 mm, 150 mm\r\nGAP 3 mm, 0 mm\r\nCLS\r\nTEXT 50,50,\"3\",0,1,1,\"Hello TSPL\"\r\nPRINT 1,1\r\n"
)

func TestParseDialect(t *testing.T) {
	tests := []struct {
		in      string
		want    Dialect
		wantErr bool
	}{
		{"", DialectZPL, false},
		{"zpl", DialectZPL, false},
		{" EPL ", DialectEPL, false},
		{"Tspl", DialectTSPL, false},
		{"silent", DialectSilent, false},
		{"dpl", DialectZPL, true},
	}
	for _, tt := range tests {
		got, err := ParseDialect(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseDialect(%q) = %q, %v", tt.in, got, err)
		}
	}
}

func TestDialectCount(t *testing.T) {
	tests := []struct {
		name     string
		d        Dialect
		data     string
		labels   int
		commands int
	}{
		{"zpl two formats", DialectZPL, label + label, 2, 2},
		{"silent counts zpl", DialectSilent, label, 1, 1},
		{"epl one", DialectEPL, eplLabel, 1, 1},
		{"epl sets and copies", DialectEPL, "N\nA1,1,0,1,1,1,N,\"x\"\nP3,2\n", 6, 1},
		{"epl crlf", DialectEPL, "N\r\nP1\r\nN\r\nP2\r\n", 3, 2},
		{"epl lower p is not print", DialectEPL, "N\np1\n", 0, 0},
		{"epl PA is not print", DialectEPL, "N\nPA\n", 0, 0},
		{"epl zpl bytes print nothing", DialectEPL, label, 0, 0},
		{"tspl one", DialectTSPL, tsplLabel, 1, 1},
		{"tspl sets", DialectTSPL, "CLS\nprint 2\n", 2, 1},
		{"tspl sets and copies", DialectTSPL, "CLS\n  PRINT 2, 3\n", 6, 1},
		{"tspl PRINTER is not print", DialectTSPL, "PRINTER 1\n", 0, 0},
		{"tspl copies capped", DialectTSPL, "PRINT 1000000,1000000\n", maxCopies, 1},
		{"tspl bad number", DialectTSPL, "PRINT x\n", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			labels, dots := tt.d.count([]byte(tt.data))
			if labels != tt.labels || len(dots) != tt.commands {
				t.Fatalf("count = %d labels, %d commands; want %d, %d", labels, len(dots), tt.labels, tt.commands)
			}
		})
	}
}

func TestOnlyPolls(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"~HS", true}, {"~hs\r\n~HS", true}, {"", false}, {"~HS^XA^XZ", false}, {"~H", false}, {eplLabel, false},
	}
	for _, tt := range tests {
		if got := onlyPolls([]byte(tt.in)); got != tt.want {
			t.Errorf("onlyPolls(%q) = %v", tt.in, got)
		}
	}
}

// TestDialects sends each dialect a label of its language, in process and over TCP 9100, then asks
// for the status: only the Zebra answers, and every other dialect keeps exactly the bytes it got.
func TestDialects(t *testing.T) {
	tests := []struct {
		d      Dialect
		label  string
		lang   printer.Language
		answer bool
	}{
		{DialectZPL, label, printer.LangZPL, true},
		{DialectSilent, label, printer.LangUnknown, false},
		{DialectEPL, eplLabel, printer.LangEPL, false},
		{DialectTSPL, tsplLabel, printer.LangTSPL, false},
	}
	for _, tt := range tests {
		for _, via := range []string{"direct", "tcp"} {
			t.Run(string(tt.d)+"/"+via, func(t *testing.T) {
				ctx := testCtx(t)
				p := New(string(tt.d) + "-" + via)
				p.SetDialect(tt.d)
				if got := p.Info(); got.Language != tt.lang || !got.Bidirectional || got.ID != "sim://"+p.Name() {
					t.Fatalf("info %+v", got)
				}
				send, poll := func(b []byte) ([]byte, error) { return nil, p.Write(ctx, b) }, []byte("~HS")
				if via == "tcp" {
					srv, err := p.Listen(ctx, "127.0.0.1:0")
					if err != nil {
						t.Fatal(err)
					}
					defer srv.Close()
					send = func(b []byte) ([]byte, error) { return dialJob(t, srv.Addr(), b) }
				}
				if back, err := send([]byte(tt.label)); err != nil || len(back) != 0 {
					t.Fatalf("send: %q, %v", back, err)
				}
				back, err := send(poll)
				if err != nil {
					t.Fatal(err)
				}
				if via == "direct" {
					_, err = p.Status(ctx)
					if answered := err == nil; answered != tt.answer {
						t.Fatalf("Status answered %v, want %v (%v)", answered, tt.answer, err)
					}
					if !tt.answer && !errors.Is(err, printer.ErrNoStatus) {
						t.Fatalf("Status err = %v, want ErrNoStatus", err)
					}
				} else if answered := len(back) > 0; answered != tt.answer {
					t.Fatalf("~HS over TCP answered %q, want answer %v", back, tt.answer)
				}
				wantPolls := 1
				if via == "direct" {
					wantPolls = 2 // the ~HS write and the Status call
				}
				if err := p.WaitStatusRequests(ctx, wantPolls); err != nil {
					t.Fatal(err)
				}
				jobs := p.Jobs()
				if len(jobs) != 1 || jobs[0].Labels != 1 || jobs[0].Via != via || !bytes.Equal(jobs[0].Data, []byte(tt.label)) {
					t.Fatalf("jobs = %+v, want the label once, byte-exact", jobs)
				}
				if p.StatusRequests() != wantPolls {
					t.Fatalf("status requests %d, want %d", p.StatusRequests(), wantPolls)
				}
			})
		}
	}
}

// TestDialectKeepsInlinePolls: a printer that does not speak ZPL records a ~HS sent inside a job
// byte-exact (a test can see that polls were mixed into a label), and does not answer it.
func TestDialectKeepsInlinePolls(t *testing.T) {
	for _, d := range []Dialect{DialectSilent, DialectEPL, DialectTSPL} {
		t.Run(string(d), func(t *testing.T) {
			ctx := testCtx(t)
			p := New("inline-" + string(d))
			p.SetDialect(d)
			srv, err := p.Listen(ctx, "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			job := []byte("~HS" + tsplLabel + "~HS")
			if back, err := dialJob(t, srv.Addr(), job); err != nil || len(back) != 0 {
				t.Fatalf("job: %q, %v", back, err)
			}
			jobs, err := p.WaitJobs(ctx, 1)
			if err != nil || !bytes.Equal(jobs[0].Data, job) || p.StatusRequests() != 0 {
				t.Fatalf("jobs %+v, %d status requests, %v", jobs, p.StatusRequests(), err)
			}
		})
	}
}

// TestDialectsWithNetraw: the real raw TCP transport against each dialect. Its ~HS connection is a
// status request (answered by the Zebra only), never a job; the label arrives once, byte-exact.
func TestDialectsWithNetraw(t *testing.T) {
	for _, tt := range []struct {
		d      Dialect
		label  string
		answer bool
	}{
		{DialectZPL, label, true},
		{DialectSilent, label, false},
		{DialectEPL, eplLabel, false},
		{DialectTSPL, tsplLabel, false},
	} {
		t.Run(string(tt.d), func(t *testing.T) {
			ctx := testCtx(t)
			p := New("netraw-" + string(tt.d))
			p.SetDialect(tt.d)
			srv, err := p.Listen(ctx, "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			np, err := netraw.New(srv.URI(), netraw.Options{StatusTimeout: 300 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			_, err = np.Status(ctx)
			if answered := err == nil; answered != tt.answer {
				t.Fatalf("status answered %v, want %v (%v)", answered, tt.answer, err)
			}
			if err := np.Write(ctx, []byte(tt.label)); err != nil {
				t.Fatal(err)
			}
			if _, err := p.WaitJobs(ctx, 1); err != nil {
				t.Fatal(err)
			}
			if err := p.WaitStatusRequests(ctx, 1); err != nil {
				t.Fatal(err)
			}
			jobs := p.Jobs() // the poll's connection is closed and counted by now: it must not be a job
			if len(jobs) != 1 || !bytes.Equal(jobs[0].Data, []byte(tt.label)) || jobs[0].Labels != 1 {
				t.Fatalf("jobs %+v, want the label once", jobs)
			}
		})
	}
}
