package usb

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"printdock/printer"
	"printdock/printer/zpl"
)

func TestParseID(t *testing.T) {
	tests := []struct {
		in      string
		want    ID
		str     string
		wantErr bool
	}{
		{in: "usb://0a5f:0181/XXQ123456", want: ID{0x0a5f, 0x0181, "XXQ123456"}, str: "usb://0a5f:0181/XXQ123456"},
		{in: "USB://0A5F:0181/XXQ123456", want: ID{0x0a5f, 0x0181, "XXQ123456"}, str: "usb://0a5f:0181/XXQ123456"},
		{in: "usb://a5f:181", want: ID{0x0a5f, 0x0181, ""}, str: "usb://0a5f:0181"},
		{in: "usb://0a5f:0181/", want: ID{0x0a5f, 0x0181, ""}, str: "usb://0a5f:0181"},
		{in: "usb://0a5f:0181/SN%20with%20space", want: ID{0x0a5f, 0x0181, "SN with space"}, str: "usb://0a5f:0181/SN%20with%20space"},
		{in: "usb://0a5f", wantErr: true},
		{in: "usb://0a5f:", wantErr: true},
		{in: "usb://zz5f:0181", wantErr: true},
		{in: "usb://10a5f:0181", wantErr: true},
		{in: "usb://0a5f:0181/a/b", wantErr: true},
		{in: "usb://0a5f:0181/%zz", wantErr: true},
		{in: "tcp://0a5f:0181", wantErr: true},
		{in: "usb:", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseID(tt.in)
		if tt.wantErr {
			if !errors.Is(err, ErrBadID) {
				t.Errorf("%q: err = %v, want ErrBadID", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want || got.String() != tt.str {
			t.Errorf("%q: got %+v (%s), %v; want %+v (%s)", tt.in, got, got, err, tt.want, tt.str)
		}
	}
}

func FuzzParseID(f *testing.F) {
	f.Add("usb://0a5f:0181/XXQ123456")
	f.Add("usb://0:0/%2F")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseID(s)
		if err != nil {
			return
		}
		again, err := ParseID(id.String())
		if err != nil || again != id {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", s, id, id.String(), again, err)
		}
	})
}

func TestIDMatches(t *testing.T) {
	id := ID{0x0a5f, 0x0181, "A"}
	if !id.Matches(0x0a5f, 0x0181, "A") || id.Matches(0x0a5f, 0x0181, "B") || id.Matches(0x0a5f, 0x0182, "A") {
		t.Error("serial ID matching wrong")
	}
	if !(ID{0x0a5f, 0x0181, ""}).Matches(0x0a5f, 0x0181, "anything") {
		t.Error("serial-less ID should match any serial")
	}
}

func TestPortStatus(t *testing.T) {
	tests := []struct {
		b     PortStatus
		state printer.State
	}{
		{PortSelected | PortNotError, printer.StateReady},
		{PortSelected | PortNotError | PortPaperEmpty, printer.StateMediaOut},
		{PortPaperEmpty, printer.StateMediaOut},
		{PortSelected, printer.StateError},
		{PortNotError, printer.StatePaused},
		{0xff, printer.StateMediaOut},
		{0x18 | 0x07, printer.StateReady}, // reserved bits ignored
	}
	for _, tt := range tests {
		st, reason := tt.b.State()
		if st != tt.state || (st != printer.StateReady && reason == "") {
			t.Errorf("%08b: %s %q, want %s", byte(tt.b), st, reason, tt.state)
		}
	}
}

func TestDeviceIDIndex(t *testing.T) {
	if got := deviceIDIndex(0, 0); got != 0 {
		t.Errorf("0,0 -> %#x", got)
	}
	if got := deviceIDIndex(1, 2); got != 0x0102 {
		t.Errorf("1,2 -> %#x", got)
	}
}

func TestChooseSetting(t *testing.T) {
	uni := altSetting{Interface: 0, Alt: 0, Protocol: ProtocolUnidirectional, OutEP: 1}
	bi := altSetting{Interface: 0, Alt: 1, Protocol: ProtocolBidirectional, OutEP: 1, InEP: 2}
	biNoIn := altSetting{Interface: 0, Alt: 2, Protocol: ProtocolBidirectional, OutEP: 1}
	ieee := altSetting{Interface: 0, Alt: 3, Protocol: Protocol1284_4, OutEP: 1, InEP: 2}
	noOut := altSetting{Interface: 1, Protocol: ProtocolBidirectional, InEP: 2}
	tests := []struct {
		name string
		in   []altSetting
		want altSetting
		ok   bool
	}{
		{"none", nil, altSetting{}, false},
		{"no out endpoint", []altSetting{noOut}, altSetting{}, false},
		{"uni only", []altSetting{uni}, uni, true},
		{"bidirectional preferred", []altSetting{uni, ieee, bi}, bi, true},
		{"bidirectional without IN counts as uni", []altSetting{biNoIn, uni}, biNoIn, true},
		{"1284.4 as last resort", []altSetting{noOut, ieee}, ieee, true},
		{"uni over 1284.4", []altSetting{ieee, uni}, uni, true},
	}
	for _, tt := range tests {
		got, ok := chooseSetting(tt.in)
		if ok != tt.ok || got != tt.want {
			t.Errorf("%s: got %+v %v, want %+v %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
	if !bi.bidirectional() || biNoIn.bidirectional() || uni.bidirectional() {
		t.Error("bidirectional() wrong")
	}
}

func TestTransferSize(t *testing.T) {
	tests := []struct{ pkt, want int }{{0, 16384}, {64, 16384}, {512, 16384}, {1024, 16384}, {1000, 16000}, {65536, 65536}}
	for _, tt := range tests {
		if got := transferSize(tt.pkt); got != tt.want || (tt.pkt > 0 && got%tt.pkt != 0) {
			t.Errorf("transferSize(%d) = %d, want %d", tt.pkt, got, tt.want)
		}
	}
}

// fakeOut is a bulk OUT endpoint: it takes up to limit bytes per transfer (0 = all), fails transfer
// number failAt with err, or blocks until the transfer's context ends when block is set.
type fakeOut struct {
	got     []byte
	sizes   []int
	limit   int
	failAt  int
	failErr error
	failN   int
	block   bool
}

func (f *fakeOut) WriteContext(ctx context.Context, b []byte) (int, error) {
	f.sizes = append(f.sizes, len(b))
	if f.block {
		<-ctx.Done()
		return 0, errors.New("cancelled")
	}
	if f.failErr != nil && len(f.sizes) == f.failAt {
		f.got = append(f.got, b[:f.failN]...)
		return f.failN, f.failErr
	}
	n := len(b)
	if f.limit > 0 {
		n = min(n, f.limit)
	}
	f.got = append(f.got, b[:n]...)
	return n, nil
}

func fakeClassify(ctx, tctx context.Context, err error) error {
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case tctx.Err() != nil:
		return errTimeout
	}
	return err
}

func TestWriteAll(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 1000) // 10000 bytes
	gone := errors.Join(errGone)
	tests := []struct {
		name  string
		ep    *fakeOut
		n     int
		err   error
		sizes []int
	}{
		{"all", &fakeOut{}, 10000, nil, []int{4096, 4096, 1808}},
		{"short write", &fakeOut{limit: 4000}, 4000, errShort, []int{4096}},
		{"gone on second transfer", &fakeOut{failAt: 2, failErr: gone, failN: 100}, 4196, errGone, []int{4096, 4096}},
		{"timeout", &fakeOut{block: true}, 0, errTimeout, []int{4096}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := writeAll(t.Context(), tt.ep, data, 4096, 50*time.Millisecond, fakeClassify)
			if n != tt.n || (tt.err == nil) != (err == nil) || (tt.err != nil && !errors.Is(err, tt.err)) {
				t.Fatalf("n=%d err=%v, want %d %v", n, err, tt.n, tt.err)
			}
			if !bytes.Equal(tt.ep.got, data[:n]) {
				t.Fatal("device got different bytes")
			}
			if len(tt.ep.sizes) != len(tt.sizes) {
				t.Fatalf("transfers %v, want %v", tt.ep.sizes, tt.sizes)
			}
		})
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := writeAll(ctx, &fakeOut{}, data, 4096, time.Second, fakeClassify); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

// fakeIn returns the queued pieces one per read, then blocks until the context ends.
type fakeIn struct{ pieces [][]byte }

func (f *fakeIn) ReadContext(ctx context.Context, b []byte) (int, error) {
	if len(f.pieces) == 0 {
		<-ctx.Done()
		return 0, errors.New("cancelled")
	}
	n := copy(b, f.pieces[0])
	f.pieces = f.pieces[1:]
	return n, nil
}

func TestReadHostStatus(t *testing.T) {
	reply := zpl.HostStatus{PrintMode: "2", Password: "1234", FormatWhilePrinting: true}.Bytes()
	in := &fakeIn{pieces: [][]byte{reply[:10], reply[10:40], reply[40:]}}
	got, err := readHostStatus(t.Context(), in, 64, time.Second, fakeClassify)
	if err != nil || !bytes.Equal(got, reply) {
		t.Fatalf("got %q, %v", got, err)
	}
	got, err = readHostStatus(t.Context(), &fakeIn{}, 64, 20*time.Millisecond, fakeClassify)
	if !errors.Is(err, errTimeout) || len(got) != 0 {
		t.Fatalf("silent: %q, %v", got, err)
	}
}

func TestStatusFrom(t *testing.T) {
	now := time.Unix(1, 0)
	ready := PortSelected | PortNotError
	paused := zpl.HostStatus{Paused: true, PrintMode: "2"}.Bytes()
	tests := []struct {
		name     string
		reply    []byte
		silent   bool
		port     PortStatus
		havePort bool
		state    printer.State
		err      error
	}{
		{"reply wins", paused, false, ready, true, printer.StatePaused, nil},
		{"silent, port fine", nil, true, ready, true, printer.StateUnknown, printer.ErrNoStatus},
		{"silent, paper empty", nil, true, ready | PortPaperEmpty, true, printer.StateMediaOut, printer.ErrNoStatus},
		{"silent, no port", nil, true, 0, false, printer.StateUnknown, printer.ErrNoStatus},
		{"unidirectional", nil, false, ready, true, printer.StateReady, nil},
		{"garbage reply, port", []byte("\x02x\x03\x02y\x03"), false, ready | PortPaperEmpty, true, printer.StateMediaOut, nil},
		{"garbage reply, no port", []byte("\x02x\x03\x02y\x03"), false, 0, false, printer.StateUnknown, zpl.ErrBadHostStatus},
	}
	for _, tt := range tests {
		st, err := statusFrom(tt.reply, tt.silent, tt.port, tt.havePort, now)
		if st.State != tt.state || (tt.err == nil) != (err == nil) || (tt.err != nil && !errors.Is(err, tt.err)) {
			t.Errorf("%s: %+v, %v; want %s, %v", tt.name, st, err, tt.state, tt.err)
		}
		if errors.Is(err, printer.ErrNoStatus) && st.State == printer.StateUnknown && st.Reason != zpl.ReasonNoReply {
			t.Errorf("%s: reason %q", tt.name, st.Reason)
		}
	}
}

func TestMakeInfo(t *testing.T) {
	id := printer.ParseDeviceIDString("MFG:Zebra Technologies;CMD:ZPL;MDL:ZTC ZD420-203dpi ZPL;SN:D4J1;")
	tests := []struct {
		name                 string
		mfr, product, serial string
		devID                printer.DeviceID
		wantID, wantName     string
		lng                  printer.Language
	}{
		{"descriptor serial wins", "Zebra", "ZD420", "XXQ1", id, "usb://0a5f:0181/XXQ1", "Zebra Technologies ZTC ZD420-203dpi ZPL", printer.LangZPL},
		{"device ID serial", "", "", "", id, "usb://0a5f:0181/D4J1", "Zebra Technologies ZTC ZD420-203dpi ZPL", printer.LangZPL},
		{"descriptors only, Zebra", "Zebra Technologies ", "ZTC GK420d", "", printer.DeviceID{}, "usb://0a5f:0181", "Zebra Technologies ZTC GK420d", printer.LangZPL},
		{"nothing", "", "", "", printer.DeviceID{}, "usb://0a5f:0181", "USB printer 0a5f:0181", printer.LangUnknown},
	}
	for _, tt := range tests {
		info := makeInfo(0x0a5f, 0x0181, tt.mfr, tt.product, tt.serial, tt.devID, true)
		if info.ID != tt.wantID || info.Name != tt.wantName || info.Language != tt.lng || !info.Bidirectional {
			t.Errorf("%s: %+v", tt.name, info)
		}
	}
}

func TestAsksHostStatus(t *testing.T) {
	tests := []struct {
		lang printer.Language
		opts Options
		want bool
	}{
		{printer.LangZPL, Options{}, true},
		{printer.LangUnknown, Options{}, true},
		{"", Options{}, true},
		{printer.LangTSPL, Options{}, false},
		{printer.LangEPL, Options{}, false},
		{printer.LangESCPOS, Options{}, false},
		{printer.LangZPL, Options{PortStatusOnly: true}, false},
	}
	for _, tt := range tests {
		if got := asksHostStatus(printer.Info{Language: tt.lang}, tt.opts); got != tt.want {
			t.Errorf("asksHostStatus(%q, %+v) = %v", tt.lang, tt.opts, got)
		}
	}
}
