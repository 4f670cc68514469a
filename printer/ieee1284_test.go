package printer

import (
	"errors"
	"reflect"
	"testing"
)

func withLen(s string) []byte {
	n := len(s) + 2
	return append([]byte{byte(n >> 8), byte(n)}, s...)
}

func withLenLE(s string) []byte {
	n := len(s) + 2
	return append([]byte{byte(n), byte(n >> 8)}, s...)
}

func TestParseDeviceID(t *testing.T) {
	zebra := "MANUFACTURER:Zebra Technologies ;COMMAND SET:ZPL;MODEL:ZTC ZD420-203dpi ZPL;CLASS:PRINTER;OPTIONS:XML;SERIALNUMBER:D4J123456789;"
	long := "MFG:Acme;MDL:" + string(make([]byte, 0)) + "LabelMaker 3000 with a rather long model name to push the length past 255 bytes......................................................................................................................................................................................;CMD:ZPL,EPL;"
	tests := []struct {
		name    string
		in      []byte
		want    DeviceID
		lang    Language
		wantErr bool
	}{
		{
			name: "zebra long keys",
			in:   withLen(zebra),
			want: DeviceID{Manufacturer: "Zebra Technologies", Model: "ZTC ZD420-203dpi ZPL", CommandSet: []string{"ZPL"},
				Serial: "D4J123456789", Class: "PRINTER"},
			lang: LangZPL,
		},
		{
			name: "short keys, several languages, no trailing semicolon",
			in:   withLen("MFG:HP;MDL:LaserJet 4;CMD:PJL, PCL ,POSTSCRIPT;SN:ABC;DES:HP LaserJet 4"),
			want: DeviceID{Manufacturer: "HP", Model: "LaserJet 4", CommandSet: []string{"PJL", "PCL", "POSTSCRIPT"},
				Serial: "ABC", Description: "HP LaserJet 4"},
			lang: LangUnknown,
		},
		{
			name: "little-endian length",
			in:   withLenLE("MFG:Zebra;CMD:ZPL II;"),
			want: DeviceID{Manufacturer: "Zebra", CommandSet: []string{"ZPL II"}},
			lang: LangZPL,
		},
		{
			name: "length over 255 big-endian",
			in:   withLen(long),
			want: DeviceID{Manufacturer: "Acme", Model: long[13 : len(long)-13], CommandSet: []string{"ZPL", "EPL"}},
			lang: LangZPL,
		},
		{
			name: "length longer than buffer is clamped",
			in:   append([]byte{0x7f, 0xff}, "MFG:Zebra;MDL:GK420d;"...),
			want: DeviceID{Manufacturer: "Zebra", Model: "GK420d"},
		},
		{
			name: "length shorter than text truncates",
			in:   append([]byte{0, 12}, "MFG:Zebra;MDL:GK420d;"...),
			want: DeviceID{Manufacturer: "Zebra"},
		},
		{
			name: "lower-case keys, value with colon, duplicates: first wins, NUL padding",
			in:   withLen("mfg:Zebra;url:http://x:80/;MFG:Other;cmd:ZPL;\x00\x00garbage"),
			want: DeviceID{Manufacturer: "Zebra", CommandSet: []string{"ZPL"}},
			lang: LangZPL,
		},
		{name: "empty", in: []byte{}, wantErr: true},
		{name: "one byte", in: []byte{0}, wantErr: true},
		{name: "prefix only", in: []byte{0, 2}, wantErr: true},
		{name: "no fields", in: withLen("hello world"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDeviceID(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrBadDeviceID) {
					t.Fatalf("err = %v, want ErrBadDeviceID", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			fields := got.Fields
			got.Fields = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if len(fields) == 0 {
				t.Error("Fields empty")
			}
			wantLang := tt.lang
			if wantLang == "" {
				wantLang = LangUnknown
			}
			if l := got.Language(); l != wantLang {
				t.Errorf("Language() = %q, want %q", l, wantLang)
			}
		})
	}
}

func TestDeviceIDFieldsAndSpeaks(t *testing.T) {
	id := ParseDeviceIDString("MFG:Zebra;CMD:EPL,zpl;OPTIONS:XML;")
	if id.Fields["OPTIONS"] != "XML" || id.Fields["MFG"] != "Zebra" {
		t.Errorf("Fields = %v", id.Fields)
	}
	if !id.Speaks("ZPL") || id.Speaks("PCL") {
		t.Errorf("Speaks wrong for %v", id.CommandSet)
	}
}

func FuzzParseDeviceID(f *testing.F) {
	f.Add(withLen("MFG:Zebra Technologies;CMD:ZPL;MDL:ZTC ZD420-203dpi;SN:XXQ;"))
	f.Add(withLenLE("MANUFACTURER:Zebra;COMMAND SET:ZPL,EPL;"))
	f.Add([]byte{0xff, 0xff, ':', ';'})
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := ParseDeviceID(b)
		if err != nil {
			if !errors.Is(err, ErrBadDeviceID) {
				t.Fatalf("error not ErrBadDeviceID: %v", err)
			}
			return
		}
		if len(id.Fields) == 0 {
			t.Fatal("nil error with no fields")
		}
		for _, c := range id.CommandSet {
			if c == "" {
				t.Fatal("empty command set entry")
			}
		}
		// Parsing is deterministic.
		again, _ := ParseDeviceID(b)
		if !reflect.DeepEqual(id, again) {
			t.Fatal("not deterministic")
		}
	})
}
