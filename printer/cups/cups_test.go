package cups

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"printdock/printer"
)

func TestParseURI(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"cups://Zebra_ZD420", "Zebra_ZD420", true},
		{"CUPS://tsc-te210", "tsc-te210", true},
		{"cups://label%40dock", "label@dock", true},
		{"cups://", "", false},
		{"cups://a/b", "", false},
		{"cups://a b", "", false},
		{"cups://a%20b", "", false},
		{"cups://a#b", "", false},
		{"cups://a%00b", "", false},
		{"cups://%zz", "", false},
		{"ipp://host/printers/a", "", false},
	}
	for _, tt := range tests {
		got, err := ParseURI(tt.in)
		if (err == nil) != tt.ok || got != tt.want || (err != nil && !errors.Is(err, ErrBadURI)) {
			t.Errorf("ParseURI(%q) = %q, %v", tt.in, got, err)
		}
		if back, err := ParseURI(URI(got)); tt.ok && (err != nil || back != got) {
			t.Errorf("URI(%q) = %q does not parse back: %q, %v", got, URI(got), back, err)
		}
	}
}

func TestStateOf(t *testing.T) {
	tests := []struct {
		name string
		q    queueState
		want printer.State
	}{
		{"idle", queueState{state: stateIdle, reasons: []string{"none"}, accepting: true}, printer.StateReady},
		{"printing", queueState{state: stateProcessing, accepting: true, jobs: 2}, printer.StateBusy},
		{"jobs waiting", queueState{state: stateIdle, accepting: true, jobs: 1}, printer.StateBusy},
		{"media empty", queueState{state: stateProcessing, reasons: []string{"media-empty-error"}, accepting: true}, printer.StateMediaOut},
		{"media needed", queueState{state: stateStopped, reasons: []string{"media-needed-warning"}, accepting: true}, printer.StateMediaOut},
		{"cover open", queueState{state: stateIdle, reasons: []string{"cover-open"}, accepting: true}, printer.StateHeadOpen},
		{"ribbon", queueState{state: stateIdle, reasons: []string{"marker-supply-empty-error"}, accepting: true}, printer.StateRibbonOut},
		{"jam", queueState{state: stateStopped, reasons: []string{"media-jam-error"}, accepting: true}, printer.StateError},
		{"offline", queueState{state: stateProcessing, reasons: []string{"offline-report"}, accepting: true}, printer.StateOffline},
		{"media before offline", queueState{reasons: []string{"offline-report", "media-empty"}, accepting: true}, printer.StateMediaOut},
		{"paused", queueState{state: stateStopped, reasons: []string{"paused"}, accepting: true}, printer.StatePaused},
		{"stopped", queueState{state: stateStopped, message: "backend failed", accepting: true}, printer.StateError},
		{"rejecting", queueState{state: stateIdle, accepting: false}, printer.StatePaused},
		{"unknown reason", queueState{state: stateIdle, reasons: []string{"toner-low-report"}, accepting: true}, printer.StateReady},
	}
	for _, tt := range tests {
		if got, reason := stateOf(tt.q); got != tt.want {
			t.Errorf("%s: %s (%q), want %s", tt.name, got, reason, tt.want)
		}
	}
}

// encodeResponse builds a response the way cupsd sends one.
func encodeResponse(status uint16, attrs ...attr) []byte {
	var b bytes.Buffer
	b.Write([]byte{2, 0})
	_ = binary.Write(&b, binary.BigEndian, status)
	_ = binary.Write(&b, binary.BigEndian, uint32(7))
	b.WriteByte(tagOperation)
	r := request{}
	r.add(tagCharset, "attributes-charset", "utf-8")
	b.Write(r.buf.Bytes())
	b.WriteByte(tagPrinter)
	for _, a := range attrs {
		for i, v := range a.values {
			b.WriteByte(a.tag)
			name := a.name
			if i > 0 {
				name = ""
			}
			writeString(&b, name)
			switch v := v.(type) {
			case int:
				_ = binary.Write(&b, binary.BigEndian, uint16(4))
				_ = binary.Write(&b, binary.BigEndian, int32(v))
			case bool:
				_ = binary.Write(&b, binary.BigEndian, uint16(1))
				if v {
					b.WriteByte(1)
				} else {
					b.WriteByte(0)
				}
			case string:
				writeString(&b, v)
			}
		}
	}
	b.WriteByte(tagEnd)
	return b.Bytes()
}

func TestParseResponse(t *testing.T) {
	b := encodeResponse(0,
		attr{tag: tagEnum, name: "printer-state", values: []any{5}},
		attr{tag: tagKeyword, name: "printer-state-reasons", values: []any{"paused", "media-empty-error"}},
		attr{tag: tagBoolean, name: "printer-is-accepting-jobs", values: []any{false}},
		attr{tag: tagText, name: "printer-state-message", values: []any{"Paused"}})
	r, err := parseResponse(b)
	if err != nil || !r.ok() || r.id != 7 {
		t.Fatalf("%+v, %v", r, err)
	}
	if n, ok := r.num(tagPrinter, "printer-state"); !ok || n != 5 {
		t.Fatalf("printer-state %d %v", n, ok)
	}
	if a, _ := r.find(tagPrinter, "printer-state-reasons"); len(a.values) != 2 || a.values[1] != "media-empty-error" {
		t.Fatalf("reasons %+v", a)
	}
	if r.str(tagPrinter, "printer-state-message") != "Paused" || r.str(tagOperation, "attributes-charset") != "utf-8" {
		t.Fatalf("strings: %+v", r.groups)
	}
	for i := range len(b) - 1 { // every truncation is an error, never a panic
		if _, err := parseResponse(b[:i]); err == nil {
			t.Fatalf("truncated at %d: no error", i)
		}
	}
	if r, _ := parseResponse(encodeResponse(statusNotFound)); r.ok() || !errors.Is(statusError("q", r), printer.ErrNotFound) {
		t.Fatalf("not found: %+v", r)
	}
}

func FuzzParseResponse(f *testing.F) {
	f.Add(encodeResponse(0, attr{tag: tagEnum, name: "printer-state", values: []any{3}}))
	f.Add([]byte{2, 0, 0, 0, 0, 0, 0, 1, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseResponse(b)
		if err == nil {
			_, _ = r.num(tagPrinter, "printer-state")
			_ = r.str(tagPrinter, "printer-state-message")
		}
	})
}
