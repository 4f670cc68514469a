package protocol

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestJobStatusesRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	m := JobStatuses{Statuses: []JobStatus{
		{JobID: "job_1", State: JobReceived, At: at},
		{JobID: "job_1", State: JobPrinting, At: at},
		{JobID: "job_2", State: JobFailed, Reason: "printer out of media", Retry: true, At: at},
	}}
	b, err := Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), `{"type":"job_statuses","statuses":[{"type":"job_status",`) {
		t.Fatalf("wire format: %s", b)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatalf("Decode(%s): %v", b, err)
	}
	want := JobStatuses{Type: TypeJobStatuses, Statuses: make([]JobStatus, len(m.Statuses))}
	for i, st := range m.Statuses {
		st.Type = TypeJobStatus
		want.Statuses[i] = st
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip: got %#v, want %#v", got, want)
	}
	if m.Statuses[0].Type != "" {
		t.Fatal("Encode changed its argument")
	}
}

func TestJobStatusesDecode(t *testing.T) {
	st := `{"job_id":"j","state":"done"}`
	typed := `{"type":"job_status","job_id":"j","state":"done"}`
	many := func(n int) string {
		return `{"type":"job_statuses","statuses":[` + strings.Repeat(st+",", n-1) + st + `]}`
	}
	tests := []struct {
		name string
		in   string
		want error // nil: decodes
		n    int   // statuses decoded
	}{
		{"typed elements", `{"type":"job_statuses","statuses":[` + typed + `,` + typed + `]}`, nil, 2},
		{"untyped elements", many(2), nil, 2},
		{"at the limit", many(MaxStatuses), nil, MaxStatuses},
		{"one", many(1), nil, 1},
		{"no statuses field", `{"type":"job_statuses"}`, ErrInvalid, 0},
		{"empty statuses", `{"type":"job_statuses","statuses":[]}`, ErrInvalid, 0},
		{"null statuses", `{"type":"job_statuses","statuses":null}`, ErrInvalid, 0},
		{"too many", many(MaxStatuses + 1), ErrInvalid, 0},
		{"element without job", `{"type":"job_statuses","statuses":[{"state":"done"}]}`, ErrInvalid, 0},
		{"element bad state", `{"type":"job_statuses","statuses":[{"job_id":"j","state":"exploded"}]}`, ErrInvalid, 0},
		{"element other type", `{"type":"job_statuses","statuses":[{"type":"logout","job_id":"j","state":"done"}]}`, ErrInvalid, 0},
		{"element long reason", `{"type":"job_statuses","statuses":[{"job_id":"j","state":"failed","reason":"` +
			strings.Repeat("r", MaxReasonLen+1) + `"}]}`, ErrInvalid, 0},
		{"element long id", `{"type":"job_statuses","statuses":[{"job_id":"` + strings.Repeat("j", MaxIDLen+1) +
			`","state":"done"}]}`, ErrInvalid, 0},
		{"statuses not a list", `{"type":"job_statuses","statuses":{"job_id":"j"}}`, ErrMalformed, 0},
		{"element not an object", `{"type":"job_statuses","statuses":["done"]}`, ErrMalformed, 0},
		{"garbage", `{"type":"job_statuses","statuses":[` + "\x00", ErrMalformed, 0},
		{"trailing data", many(1) + ` {}`, ErrMalformed, 0},
		{"oversized", `{"type":"job_statuses","statuses":[{"job_id":"` + strings.Repeat("j", MaxMessageSize) + `"}]}`, ErrTooLarge, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Decode([]byte(tt.in))
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("Decode error = %v, want %v", err, tt.want)
				}
				if len(err.Error()) > 300 {
					t.Fatalf("error message echoes too much input (%d bytes)", len(err.Error()))
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			v := m.(JobStatuses)
			if len(v.Statuses) != tt.n {
				t.Fatalf("%d statuses, want %d", len(v.Statuses), tt.n)
			}
			for _, s := range v.Statuses {
				if s.Type != TypeJobStatus {
					t.Fatalf("element type %q", s.Type)
				}
			}
		})
	}
}

// A welcome's features: an older agent ignores the field; a newer one sees what the server takes.
func TestWelcomeFeatures(t *testing.T) {
	b, err := Encode(Welcome{ProtocolVersion: Version, ClientID: "cl_1", Features: []string{FeatureJobStatuses}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if w := m.(Welcome); !w.Has(FeatureJobStatuses) || w.Has(FeatureCancel) {
		t.Fatalf("features: %v", w.Features)
	}
	// An older server's welcome lists none.
	m, err = Decode([]byte(`{"type":"welcome","protocol_version":1,"client_id":"cl_1"}`))
	if err != nil || m.(Welcome).Has(FeatureJobStatuses) {
		t.Fatalf("old welcome: %v %#v", err, m)
	}
	// A newer server may list more features, and longer names, than hello may carry: the agent still
	// takes its welcome and finds the ones it knows.
	newer := `{"type":"welcome","protocol_version":1,"client_id":"c","features":[` + strings.Repeat(`"x",`, MaxFeatures) +
		`"` + strings.Repeat("y", MaxFeatureLen+1) + `","` + FeatureJobStatuses + `"]}`
	if m, err := Decode([]byte(newer)); err != nil || !m.(Welcome).Has(FeatureJobStatuses) {
		t.Fatalf("newer server's welcome: %v %#v", err, m)
	}
}
