package protocol

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 23, 14, 2, 0, 0, time.UTC)
	msgs := []Message{
		Hello{ProtocolVersion: Version, AgentVersion: "1.0.0", Hostname: "dock-pc-3", OS: "linux", InstallationID: "inst-1", Features: []string{FeatureCancel}},
		Welcome{ProtocolVersion: Version, ClientID: "cl_1", KeyID: "key_1", KeyKind: "print_client", KeyDescription: "Zebra dock 3", HeartbeatSeconds: 15},
		Printers{Printers: []Printer{{ID: "usb://0a5f:0181/XXQ1", Name: "ZD421", Status: "ready", Language: "zpl", DPI: 203, StatusMode: "auto"}}},
		Cancel{JobID: "job_1"},
		JobStatus{JobID: "job_1", State: JobCancelled, At: at},
		Job{JobID: "job_1", PrinterID: "sim://dock", Content: []byte("^XA^FDhello^FS^XZ"), Copies: 2, ExpiresAt: at},
		JobStatus{JobID: "job_1", State: JobFailed, Reason: "printer out of media", Retry: true, At: at},
		Logout{Reason: ReasonRotated},
		Logout{Reason: ReasonOwnSecret},
		Logout{Reason: ReasonSharedSecret},
		Logout{Reason: ReasonExpired},
		Ping{Nonce: 7},
		Pong{Nonce: 7},
		Error{Code: "bad_message", Message: "unknown printer"},
	}
	for _, m := range msgs {
		t.Run(m.MessageType(), func(t *testing.T) {
			b, err := Encode(m)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if !bytes.Contains(b, []byte(`"type":"`+m.MessageType()+`"`)) {
				t.Fatalf("encoded %s lacks its type field: %s", m.MessageType(), b)
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatalf("Decode(%s): %v", b, err)
			}
			if got.MessageType() != m.MessageType() {
				t.Fatalf("type = %s, want %s", got.MessageType(), m.MessageType())
			}
			// Compare with the type field the encoder filled in.
			want, _ := Decode(b)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round trip changed the message: %#v vs %#v", got, want)
			}
		})
	}
}

func TestLogoutWireFormat(t *testing.T) {
	// The contract in DESIGN §3.
	m, err := Decode([]byte(`{"type":"logout","reason":"revoked"}`))
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := m.(Logout); !ok || l.Reason != ReasonRevoked {
		t.Fatalf("got %#v", m)
	}
}

func TestDecodeRejects(t *testing.T) {
	big := `{"type":"job","job_id":"j","printer_id":"p","copies":1,"content":"` + strings.Repeat("A", MaxMessageSize) + `"}`
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", ``, ErrMalformed},
		{"not json", `hello`, ErrMalformed},
		{"array", `[1,2]`, ErrMalformed},
		{"no type", `{"reason":"rotated"}`, ErrMalformed},
		{"unknown type", `{"type":"format_disk"}`, ErrUnknownType},
		{"wrong field type", `{"type":"ping","nonce":"x"}`, ErrMalformed},
		{"trailing data", `{"type":"ping","nonce":1} {"type":"ping"}`, ErrMalformed},
		{"oversized", big, ErrTooLarge},
		{"hello without version", `{"type":"hello","installation_id":"i"}`, ErrInvalid},
		{"hello without installation", `{"type":"hello","protocol_version":1}`, ErrInvalid},
		{"job without content", `{"type":"job","job_id":"j","printer_id":"p","copies":1}`, ErrInvalid},
		{"cancel without job", `{"type":"cancel"}`, ErrInvalid},
		{"printer dpi negative", `{"type":"printers","printers":[{"id":"p","dpi":-1}]}`, ErrInvalid},
		{"too many features", `{"type":"hello","protocol_version":1,"installation_id":"i","features":[` + strings.Repeat(`"x",`, MaxFeatures) + `"x"]}`, ErrInvalid},
		{"job zero copies", `{"type":"job","job_id":"j","printer_id":"p","copies":0,"content":"Xg=="}`, ErrInvalid},
		{"job bad base64", `{"type":"job","job_id":"j","printer_id":"p","copies":1,"content":"%%%"}`, ErrMalformed},
		{"job long id", `{"type":"job","job_id":"` + strings.Repeat("j", 300) + `","printer_id":"p","copies":1,"content":"Xg=="}`, ErrInvalid},
		{"job status unknown state", `{"type":"job_status","job_id":"j","state":"exploded"}`, ErrInvalid},
		{"logout unknown reason", `{"type":"logout","reason":"because"}`, ErrInvalid},
		{"printer without id", `{"type":"printers","printers":[{"name":"x"}]}`, ErrInvalid},
		// Text fields the server keeps in memory are bounded (each could otherwise be ~8 MB).
		{"hello long hostname", hello("hostname", MaxHostnameLen+1), ErrInvalid},
		{"hello long agent_version", hello("agent_version", MaxAgentVersionLen+1), ErrInvalid},
		{"hello long os", hello("os", MaxOSLen+1), ErrInvalid},
		{"hello huge hostname", hello("hostname", MaxMessageSize-200), ErrInvalid},
		{"printer long name", printer("name", MaxPrinterTextLen+1), ErrInvalid},
		{"printer long make", printer("make", MaxPrinterTextLen+1), ErrInvalid},
		{"printer long model", printer("model", MaxPrinterTextLen+1), ErrInvalid},
		{"printer long status", printer("status", MaxPrinterTextLen+1), ErrInvalid},
		{"printer long reason", printer("reason", MaxReasonLen+1), ErrInvalid},
		{"too many printers", `{"type":"printers","printers":[` +
			strings.TrimSuffix(strings.Repeat(`{"id":"sim://a"},`, MaxPrinters+1), ",") + `]}`, ErrInvalid},
		{"job long title", `{"type":"job","job_id":"j","printer_id":"p","copies":1,"content":"Xg==","title":"` +
			strings.Repeat("t", MaxTitleLen+1) + `"}`, ErrInvalid},
		{"job status long reason", `{"type":"job_status","job_id":"j","state":"failed","reason":"` +
			strings.Repeat("r", MaxReasonLen+1) + `"}`, ErrInvalid},
		{"error long message", `{"type":"error","code":"c","message":"` + strings.Repeat("m", MaxErrorMessageLen+1) + `"}`, ErrInvalid},
		{"error long code", `{"type":"error","code":"` + strings.Repeat("c", MaxErrorCodeLen+1) + `"}`, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.in))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode error = %v, want %v", err, tt.want)
			}
			if len(err.Error()) > 300 {
				t.Fatalf("error message echoes too much input (%d bytes)", len(err.Error()))
			}
		})
	}
}

// hello returns a hello whose field is n bytes long.
func hello(field string, n int) string {
	return `{"type":"hello","protocol_version":1,"installation_id":"i","` + field + `":"` + strings.Repeat("h", n) + `"}`
}

// printer returns a printers message whose one printer's field is n bytes long.
func printer(field string, n int) string {
	return `{"type":"printers","printers":[{"id":"sim://a","` + field + `":"` + strings.Repeat("p", n) + `"}]}`
}

// Every field at its limit decodes: the limits refuse only what is longer.
func TestDecodeAcceptsFieldsAtTheirLimits(t *testing.T) {
	msgs := []Message{
		Hello{ProtocolVersion: Version, InstallationID: strings.Repeat("i", MaxIDLen),
			Hostname: strings.Repeat("h", MaxHostnameLen), AgentVersion: strings.Repeat("v", MaxAgentVersionLen),
			OS: strings.Repeat("o", MaxOSLen)},
		Printers{Printers: slices.Repeat([]Printer{{ID: strings.Repeat("i", MaxIDLen),
			Name: strings.Repeat("n", MaxPrinterTextLen), Make: strings.Repeat("m", MaxPrinterTextLen),
			Model: strings.Repeat("m", MaxPrinterTextLen), Status: strings.Repeat("s", MaxPrinterTextLen),
			Reason: strings.Repeat("r", MaxReasonLen)}}, MaxPrinters)},
		Job{JobID: "j", PrinterID: "p", Title: strings.Repeat("t", MaxTitleLen), Content: []byte("^XA^XZ"), Copies: 1},
		JobStatus{JobID: "j", State: JobFailed, Reason: strings.Repeat("r", MaxReasonLen)},
		Error{Code: strings.Repeat("c", MaxErrorCodeLen), Message: strings.Repeat("m", MaxErrorMessageLen)},
	}
	for _, m := range msgs {
		t.Run(m.MessageType(), func(t *testing.T) {
			b, err := Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Decode(b); err != nil {
				t.Fatalf("Decode: %v", err)
			}
		})
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"", 3, ""},
		{"abc", 3, "abc"},
		{"abcd", 3, "abc"},
		{"abc", 0, ""},
		{"abc", -1, ""},
		{"aé", 2, "a"},    // é is 2 bytes: not cut in half
		{"aé", 3, "aé"},   //
		{"a€b", 3, "a"},   // € is 3 bytes
		{"a€b", 4, "a€"},  //
		{"😀x", 3, ""},     // 4-byte character
		{"ab😀", 5, "ab"},  //
		{"ab😀", 6, "ab😀"}, //
	}
	for _, tt := range tests {
		got := Clip(tt.in, tt.n)
		if got != tt.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("Clip(%q, %d) = %q is not valid UTF-8", tt.in, tt.n, got)
		}
	}
}

func TestEncodeRejectsOversized(t *testing.T) {
	_, err := Encode(Job{JobID: "j", PrinterID: "p", Copies: 1, Content: bytes.Repeat([]byte{'A'}, MaxMessageSize)})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"type":"logout","reason":"rotated"}`,
		`{"type":"hello","protocol_version":1,"installation_id":"x"}`,
		`{"type":"job","job_id":"j","printer_id":"p","copies":1,"content":"Xg=="}`,
		`{"type":"printers","printers":[{"id":"sim://a","name":"a","status":"ready"}]}`,
		`{"type":"job_status","job_id":"j","state":"done","at":"2026-01-01T00:00:00Z"}`,
		`{"type":"ping","nonce":1}`,
		`{"type":"job_statuses","statuses":[{"job_id":"j","state":"received"},{"type":"job_status","job_id":"j","state":"printing"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err != nil {
			if m != nil {
				t.Fatalf("Decode returned a message with an error")
			}
			return
		}
		// Whatever decodes must re-encode and decode to the same thing.
		b, err := Encode(m)
		if err != nil {
			t.Fatalf("Encode of decoded %T: %v", m, err)
		}
		m2, err := Decode(b)
		if err != nil {
			t.Fatalf("re-decode: %v (%s)", err, b)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("decode/encode not stable: %#v vs %#v", m, m2)
		}
	})
}
