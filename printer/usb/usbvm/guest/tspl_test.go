//go:build linux && cgo && !nousb

package guest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"printdock/printer"
	"printdock/printer/usb"
	"printdock/printer/usb/usbvm/gadget"
)

// tscID is the URI printer/usb must give the gadget as the TSC profile.
var tscID = usb.ID{Vendor: gadget.TSC.Vendor, Product: gadget.TSC.Product, Serial: gadget.TSC.Serial}.String()

// tsplLabel is a 4×6 inch TSPL label with text, a Code 128 barcode and a QR code.
const tsplLabel = "SIZE 101.6 mm, 152.4 mm\r\nGAP 3 mm, 0 mm\r\nDIRECTION 1\r\nCLS\r\n" +
	"TEXT 40,40,\"4\",0,1,1,\"printdock usbvm TSPL\"\r\n" +
	"BARCODE 40,120,\"128\",120,1,0,3,3,\"PD-0001-TSPL\"\r\n" +
	"QRCODE 40,320,L,8,A,0,\"https://example.com/parcel/PD-0001\"\r\n" +
	"PRINT 1,1\r\n"

// TestTSPLPrinter: the gadget re-plugged as a TSC TE210 whose 1284 ID names only TSPL2. Discovery
// reports language tspl (from CMD:, the USB strings say nothing of it); a label arrives byte-exact; and
// neither Write nor Status sends ~HS (a TSPL printer would print it): Status comes from GET_PORT_STATUS.
func TestTSPLPrinter(t *testing.T) {
	z := zebra(t)
	ctx := t.Context()
	start := time.Now()
	if _, err := z.SetProfile(ctx, "tsc"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
		defer cancel()
		if _, err := z.SetProfile(cctx, "zebra"); err != nil {
			t.Errorf("back to the Zebra profile: %v", err)
		}
	})
	var info printer.Info
	poll(t, 30*time.Second, "scan for the TSC printer", func() (bool, error) {
		infos, err := usb.Scan(ctx)
		i := slices.IndexFunc(infos, func(i printer.Info) bool { return i.ID == tscID })
		if i >= 0 {
			info = infos[i]
		}
		return i >= 0, err
	})
	fmt.Printf("USBVM_TIMING tspl_discovery %.0f ms from the profile switch (unplug, TSPL 1284 ID, plug) until Scan listed it\n",
		ms(time.Since(start)))
	want := printer.Info{
		ID:            tscID,
		Name:          "TSC TE210",
		Make:          "TSC",
		Model:         "TE210",
		Serial:        gadget.TSC.Serial,
		Language:      printer.LangTSPL,
		Bidirectional: true,
	}
	if info != want {
		t.Fatalf("Scan info\n got %+v\nwant %+v", info, want)
	}

	var p printer.Printer
	poll(t, 20*time.Second, "open "+tscID, func() (bool, error) {
		var err error
		p, err = usb.Open(ctx, tscID, usb.Options{})
		return err == nil, err
	})
	defer p.Close()
	if p.Info().Language != printer.LangTSPL {
		t.Fatalf("opened printer info %+v", p.Info())
	}
	before := state(t, z)
	if err := p.Write(ctx, []byte(tsplLabel)); err != nil {
		t.Fatal(err)
	}
	if got := received(t, z, len(tsplLabel)); !bytes.Equal(got, []byte(tsplLabel)) {
		t.Fatalf("printer got %d bytes, want the %d-byte label byte-exact (first difference at %d)",
			len(got), len(tsplLabel), firstDiff(got, []byte(tsplLabel)))
	}
	for range 3 {
		st, err := p.Status(ctx)
		if err != nil || st.State != printer.StateReady {
			t.Fatalf("status %+v, %v; want ready from the port status", st, err)
		}
	}
	do(t, z, gadget.OpMediaOut, 0)
	if st, err := p.Status(ctx); err != nil || st.State != printer.StateMediaOut {
		t.Fatalf("media out: status %+v, %v", st, err)
	}
	do(t, z, gadget.OpMediaIn, 0)
	after := state(t, z)
	if after.HSIgnored != before.HSIgnored || after.HSAnswered != before.HSAnswered || after.Pending != 0 ||
		after.Received != before.Received+int64(len(tsplLabel)) {
		t.Fatalf("the TSPL printer got more than its label (a ~HS?): before %+v, after %+v", before, after)
	}
}
