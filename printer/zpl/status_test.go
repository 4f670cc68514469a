package zpl

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"printdock/printer"
)

// A reply captured from a ZD420 in tear-off mode, idle.
const idleReply = "\x02030,0,0,1218,000,0,0,0,000,0,0,0\x03\r\n\x02001,0,0,0,1,2,6,0,00000000,1,000\x03\r\n\x021234,0\x03\r\n"

func TestParseHostStatus(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    HostStatus
		state   printer.State
		wantErr bool
	}{
		{
			name: "idle",
			in:   idleReply,
			want: HostStatus{CommSettings: 30, LabelLength: 1218, FunctionSettings: 1, ThermalTransfer: true, PrintMode: "2",
				PrintWidthMode: 6, FormatWhilePrinting: true, Password: "1234"},
			state: printer.StateReady,
		},
		{
			name: "paper out and paused",
			in:   "\x02030,1,1,1218,000,0,0,0,000,0,0,0\x03\r\n\x02001,0,0,0,1,2,6,0,00000000,1,000\x03\r\n\x021234,0\x03\r\n",
			want: HostStatus{CommSettings: 30, PaperOut: true, Paused: true, LabelLength: 1218, FunctionSettings: 1,
				ThermalTransfer: true, PrintMode: "2", PrintWidthMode: 6, FormatWhilePrinting: true, Password: "1234"},
			state: printer.StateMediaOut,
		},
		{
			name: "head up wins over everything",
			in:   "\x02030,1,1,1218,000,1,0,0,000,1,0,0\x03\r\n\x02001,0,1,1,1,2,6,0,00000000,1,000\x03\r\n\x021234,0\x03\r\n",
			want: HostStatus{CommSettings: 30, PaperOut: true, Paused: true, LabelLength: 1218, BufferFull: true,
				CorruptRAM: true, FunctionSettings: 1, HeadUp: true, RibbonOut: true, ThermalTransfer: true,
				PrintMode: "2", PrintWidthMode: 6, FormatWhilePrinting: true, Password: "1234"},
			state: printer.StateHeadOpen,
		},
		{
			name:  "ribbon out",
			in:    "\x02030,0,0,1218,000,0,0,0,000,0,0,0\x03\r\n\x02001,0,0,1,1,2,6,0,00000000,1,000\x03\r\n\x021234,0\x03\r\n",
			state: printer.StateRibbonOut,
		},
		{
			name:  "paused",
			in:    "\x02030,0,1,1218,000,0,0,0,000,0,0,0\x03\r\n\x02001,0,0,0,1,2,6,0,00000000,1,000\x03\r\n\x021234,0\x03\r\n",
			state: printer.StatePaused,
		},
		{
			name:  "over temperature",
			in:    "\x02030,0,0,1218,000,0,0,0,000,0,0,1\x03\r\n\x02001,0,0,0,1,2,6,0,00000000,1,000\x03\r\n\x021234,0\x03\r\n",
			state: printer.StateError,
		},
		{
			name:  "under temperature",
			in:    "\x02030,0,0,1218,000,0,0,0,000,0,1,0\x03\r\n\x02001,0,0,0,1,2,6,0,00000000,1,000\x03\r\n\x021234,0\x03\r\n",
			state: printer.StateError,
		},
		{
			name: "busy with labels in batch, no string 3, noise around",
			in:   "junk\r\n\x02030,0,0,1218,002,0,0,1,000,0,0,0\x03\r\n\x02001,0,0,0,0,2,6,0,00000005,1,003\x03\r\n",
			want: HostStatus{CommSettings: 30, LabelLength: 1218, FormatsInBuffer: 2, PartialFormat: true, FunctionSettings: 1,
				PrintMode: "2", PrintWidthMode: 6, LabelsRemaining: 5, FormatWhilePrinting: true, GraphicsStored: 3},
			state: printer.StateBusy,
		},
		{
			name:  "extra fields are ignored",
			in:    "\x02030,0,0,1218,000,0,0,0,000,0,0,0,9,9\x03\x02001,0,0,0,1,2,6,0,00000000,1,000,7\x03\x021234,0,1\x03",
			state: printer.StateReady,
		},
		{
			name:  "restart on a second STX",
			in:    "\x02garbage\x02030,0,0,1218,000,0,0,0,000,0,0,0\x03\x02001,0,0,0,1,2,6,0,00000000,1,000\x03\x021234,0\x03",
			state: printer.StateReady,
		},
		{name: "empty", in: "", wantErr: true},
		{name: "one string", in: "\x02030,0,0,1218,000,0,0,0,000,0,0,0\x03\r\n", wantErr: true},
		{name: "unterminated second", in: "\x02030,0,0,1218,000,0,0,0,000,0,0,0\x03\r\n\x02001,0,0,0,1,2,6,0,0", wantErr: true},
		{name: "short string 1", in: "\x02030,0,0\x03\x02001,0,0,0,1,2,6,0,00000000,1,000\x03\x021234,0\x03", wantErr: true},
		{name: "short string 2", in: "\x02030,0,0,1218,000,0,0,0,000,0,0,0\x03\x02001,0,0\x03\x021234,0\x03", wantErr: true},
		{name: "short string 3", in: "\x02030,0,0,1218,000,0,0,0,000,0,0,0\x03\x02001,0,0,0,1,2,6,0,00000000,1,000\x03\x021234\x03", wantErr: true},
		{name: "flag not 0/1", in: "\x02030,2,0,1218,000,0,0,0,000,0,0,0\x03\x02001,0,0,0,1,2,6,0,00000000,1,000\x03\x021234,0\x03", wantErr: true},
		{name: "negative number", in: "\x02030,0,0,-1,000,0,0,0,000,0,0,0\x03\x02001,0,0,0,1,2,6,0,00000000,1,000\x03\x021234,0\x03", wantErr: true},
		{name: "huge number", in: "\x02030,0,0,99999999999999999999,000,0,0,0,000,0,0,0\x03\x02001,0,0,0,1,2,6,0,00000000,1,000\x03\x021234,0\x03", wantErr: true},
		{name: "empty number", in: "\x02030,0,0,,000,0,0,0,000,0,0,0\x03\x02001,0,0,0,1,2,6,0,00000000,1,000\x03\x021234,0\x03", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHostStatus([]byte(tt.in))
			if tt.wantErr {
				if !errors.Is(err, ErrBadHostStatus) {
					t.Fatalf("err = %v, want ErrBadHostStatus", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != (HostStatus{}) && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			now := time.Unix(1700000000, 0)
			st := got.Status(now)
			if st.State != tt.state {
				t.Errorf("State = %s, want %s (reason %q)", st.State, tt.state, st.Reason)
			}
			if st.State != printer.StateReady && st.Reason == "" {
				t.Error("no reason for a non-ready state")
			}
			if !st.CheckedAt.Equal(now) || st.LabelsRemaining != got.LabelsRemaining || st.BufferFull != got.BufferFull {
				t.Errorf("status fields not carried: %+v", st)
			}
		})
	}
}

func TestHostStatusComplete(t *testing.T) {
	for i := range len(idleReply) {
		if HostStatusComplete([]byte(idleReply[:i])) && i < len(idleReply)-2 {
			t.Fatalf("complete after %d of %d bytes", i, len(idleReply))
		}
	}
	if !HostStatusComplete([]byte(idleReply)) {
		t.Fatal("full reply not complete")
	}
}

func TestHostStatusBytesRoundTrip(t *testing.T) {
	h := HostStatus{CommSettings: 30, PaperOut: true, LabelLength: 1218, FormatsInBuffer: 3, BufferFull: true,
		PartialFormat: true, FunctionSettings: 1, RibbonOut: true, PrintMode: "2", PrintWidthMode: 6,
		LabelsRemaining: 12345678, FormatWhilePrinting: true, GraphicsStored: 4, Password: "1234", StaticRAM: true}
	b := h.Bytes()
	if !HostStatusComplete(b) {
		t.Fatalf("Bytes() incomplete: %q", b)
	}
	got, err := ParseHostStatus(b)
	if err != nil {
		t.Fatal(err)
	}
	if got != h {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, h)
	}
	if want := "\x02030,1,0,1218,003,1,0,1,000,0,0,0\x03\r\n"; string(b[:len(want)]) != want {
		t.Errorf("string 1 = %q, want %q", b[:len(want)], want)
	}
}

func FuzzParseHostStatus(f *testing.F) {
	f.Add([]byte(idleReply))
	f.Add([]byte("\x02030,1,1,1218,000,0,0,0,000,0,0,0\x03\x02001,0,1,1,1,2,6,0,00000000,1,000\x03"))
	f.Add([]byte("\x02\x03\x02\x03\x02\x03"))
	f.Add([]byte("\x02,,,,,,,,,,,\x03\x02,,,,,,,,,,\x03\x02,\x03"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHostStatus(b)
		if err != nil {
			if !errors.Is(err, ErrBadHostStatus) {
				t.Fatalf("error not ErrBadHostStatus: %v", err)
			}
			return
		}
		// What parses, formats back to a reply that parses to the same thing.
		again, err := ParseHostStatus(h.Bytes())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", h.Bytes(), err)
		}
		if again != h {
			t.Fatalf("round trip changed:\n%+v\n%+v", h, again)
		}
		st := h.Status(time.Time{})
		switch st.State {
		case printer.StateReady, printer.StateBusy, printer.StateHeadOpen, printer.StateMediaOut,
			printer.StateRibbonOut, printer.StateError, printer.StatePaused:
		default:
			t.Fatalf("unexpected state %q", st.State)
		}
		if h.LabelsRemaining < 0 || h.FormatsInBuffer < 0 || h.LabelLength < 0 {
			t.Fatal("negative count")
		}
	})
}
