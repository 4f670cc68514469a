package protocol

import (
	"reflect"
	"testing"
	"time"
)

// fastSamples are job_status and job_statuses texts, most in the fast path's subset, some just outside.
var fastSamples = []string{
	`{"type":"job_status","job_id":"j1","state":"done","at":"2026-01-01T00:00:00Z"}`,
	`{"type":"job_status","job_id":"j1","state":"failed","reason":"out of paper","retry":true,"at":"2026-01-01T00:00:00.123456789+02:00"}`,
	` { "at" : "2026-01-01T00:00:00Z" , "state":"done", "job_id":"j1","type":"job_status" } ` + "\n",
	`{"type":"job_statuses","statuses":[{"type":"job_status","job_id":"j","state":"received","at":"2026-01-01T00:00:00Z"},{"type":"job_status","job_id":"j","state":"printing","at":"2026-01-01T00:00:01Z"}]}`,
	`{"type":"job_statuses","statuses":[{"job_id":"j","state":"received","at":"2026-01-01T00:00:00Z"}]}`,
	`{"type":"job_statuses","statuses":[{"type":"ping","job_id":"j","state":"received","at":"2026-01-01T00:00:00Z"}]}`,
	`{"type":"job_statuses","statuses":[]}`,
	`{"type":"job_status","job_id":"j1","state":"done","at":"2026-01-01T00:00:00Z"} {}`,
	`{"type":"job_status","job_id":"j1","state":"nope","at":"2026-01-01T00:00:00Z"}`,
	`{"type":"job_status","job_id":"j1","state":"done","at":"yesterday"}`,
	`{"type":"job_status","job_id":"j\u00e9","state":"done","at":"2026-01-01T00:00:00Z"}`,
	`{"type":"job_status","job_id":"j1","job_id":"j2","state":"done","at":"2026-01-01T00:00:00Z"}`,
	`{"type":"job_status","Job_ID":"j1","state":"done","at":"2026-01-01T00:00:00Z"}`,
	`{"type":"job_status","job_id":"j1","state":"done","retry":null,"at":"2026-01-01T00:00:00Z"}`,
	`{"type":"job_status","job_id":"j1","state":"done"}`,
	`{"type":"job_status","job_id":"","state":"done","at":"2026-01-01T00:00:00Z"}`,
	`{"type":"job_status","job_id":"j1","state":"done","at":"2026-01-01T00:00:00Z","extra":1}`,
	`{"type":"job_status","job_id":"j1","state":"done","at":"2026-01-01T00:00:00Z"`,
	`{"type":"ping","nonce":1}`,
}

// TestDecodeFastTakesPlainStatuses checks the messages agents send per job take the fast path.
func TestDecodeFastTakesPlainStatuses(t *testing.T) {
	for _, s := range fastSamples[:5] {
		if _, ok := decodeFast([]byte(s)); !ok {
			t.Errorf("decodeFast refused %s", s)
		}
	}
	for _, m := range []Message{
		JobStatus{JobID: "j", State: JobDone, At: time.Now()},
		JobStatuses{Statuses: []JobStatus{{JobID: "j", State: JobReceived}, {JobID: "j", State: JobPrinting}}},
	} {
		b, err := Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := decodeFast(b); !ok {
			t.Errorf("decodeFast refused what Encode wrote: %s", b)
		}
	}
}

func TestDecodeFastMatchesGeneral(t *testing.T) {
	for _, s := range fastSamples {
		checkFastMatches(t, []byte(s))
	}
}

func FuzzDecodeFast(f *testing.F) {
	for _, s := range fastSamples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) <= MaxMessageSize {
			checkFastMatches(t, data)
		}
	})
}

// checkFastMatches fails when Decode (fast path first) and the general path disagree about data.
func checkFastMatches(t *testing.T, data []byte) {
	t.Helper()
	got, gerr := Decode(data)
	want, werr := decodeGeneral(data)
	if (gerr == nil) != (werr == nil) || (gerr != nil && gerr.Error() != werr.Error()) {
		t.Fatalf("%s: Decode err %v, general path err %v", data, gerr, werr)
	}
	g, gt := withoutTimes(got)
	w, wt := withoutTimes(want)
	if !reflect.DeepEqual(g, w) || !reflect.DeepEqual(gt, wt) {
		t.Fatalf("%s: Decode %#v, general path %#v", data, got, want)
	}
}

// withoutTimes returns m with its times cleared, and the times as text: two decodings of one offset make
// two time.Location values, which reflect.DeepEqual tells apart.
func withoutTimes(m Message) (Message, []string) {
	var times []string
	clear := func(st JobStatus) JobStatus {
		times = append(times, st.At.Format(time.RFC3339Nano)+" "+st.At.Location().String())
		st.At = time.Time{}
		return st
	}
	switch v := m.(type) {
	case JobStatus:
		return clear(v), times
	case JobStatuses:
		sts := make([]JobStatus, len(v.Statuses))
		for i, st := range v.Statuses {
			sts[i] = clear(st)
		}
		v.Statuses = sts
		return v, times
	}
	return m, nil
}

// BenchmarkDecodeJobStatuses: a job's two frames from an agent (job_statuses of received and printing,
// then job_status done) through Decode (the fast path) and through encoding/json alone (decodeGeneral).
func BenchmarkDecodeJobStatuses(b *testing.B) {
	frames := [][]byte{
		[]byte(`{"type":"job_statuses","statuses":[{"type":"job_status","job_id":"job_2abcdefghijklmnopqrstuvwx","state":"received","at":"2026-12-06T11:00:00.123456Z"},{"type":"job_status","job_id":"job_2abcdefghijklmnopqrstuvwx","state":"printing","at":"2026-12-06T11:00:00.124456Z"}]}`),
		[]byte(`{"type":"job_status","job_id":"job_2abcdefghijklmnopqrstuvwx","state":"done","at":"2026-12-06T11:00:00.125456Z"}`),
	}
	for _, bc := range []struct {
		name   string
		decode func([]byte) (Message, error)
	}{{"fast", Decode}, {"encoding-json", decodeGeneral}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, f := range frames {
					if _, err := bc.decode(f); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
