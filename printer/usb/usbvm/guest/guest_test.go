//go:build linux && cgo && !nousb

package guest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/gousb"

	"printdock/printer"
	"printdock/printer/usb"
	"printdock/printer/usb/usbvm/gadget"
)

var (
	dialOnce sync.Once
	ctl      *gadget.Client
	dialErr  error
)

// printerID is the URI printer/usb must give the gadget.
var printerID = usb.ID{Vendor: gadget.Zebra.Vendor, Product: gadget.Zebra.Product, Serial: gadget.Zebra.Serial}.String()

// zebra returns the control client of the guest's printer, in its normal state (plugged in, media
// loaded, not paused, reading, nothing recorded). Outside the guest it skips t.
func zebra(t *testing.T) *gadget.Client {
	t.Helper()
	if os.Getenv("PRINTDOCK_USBVM_GUEST") != "1" {
		t.Skip("runs only inside the usbvm QEMU guest: scripts/usb-qemu.sh, or PRINTDOCK_USB_QEMU=1 go test ./printer/usb/usbvm")
	}
	dialOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		ctl, dialErr = gadget.Dial(ctx, os.Getenv("PRINTDOCK_USBVM_CTL"))
	})
	if dialErr != nil {
		t.Fatalf("gadget control socket: %v", dialErr)
	}
	ctx := t.Context()
	for _, op := range []string{gadget.OpMediaIn, gadget.OpUnpause, gadget.OpResume, gadget.OpPlug, gadget.OpTake} {
		if _, err := ctl.Do(ctx, op, 0); err != nil {
			t.Fatalf("reset printer: %v", err)
		}
	}
	return ctl
}

// poll calls f every 50 ms until it reports done or d passes; it returns f's last error.
func poll(t *testing.T, d time.Duration, what string, f func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		done, err := f()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v (last error: %v)", what, d, err)
		}
		<-tick.C
	}
}

// scanFor scans (a fresh libusb context each time) until the printer is listed, or, with present false,
// until it is not.
func scanFor(t *testing.T, present bool, d time.Duration) []printer.Info {
	t.Helper()
	var infos []printer.Info
	poll(t, d, fmt.Sprintf("scan for the printer (present=%v)", present), func() (bool, error) {
		var err error
		infos, err = usb.Scan(t.Context())
		found := slices.ContainsFunc(infos, func(i printer.Info) bool { return i.ID == printerID })
		return err == nil && found == present, err
	})
	return infos
}

// open opens the gadget printer with printer/usb, waiting for the host to have enumerated it.
func open(t *testing.T, opts usb.Options) printer.Printer {
	t.Helper()
	var p printer.Printer
	poll(t, 20*time.Second, "open "+printerID, func() (bool, error) {
		var err error
		p, err = usb.Open(t.Context(), printerID, opts)
		return err == nil, err
	})
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// received waits until the printer has recorded n job bytes since the last take and takes them.
func received(t *testing.T, z *gadget.Client, n int) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if s, err := z.WaitFor(ctx, func(s gadget.State) bool { return s.Pending >= n }); err != nil {
		t.Fatalf("printer received %d of %d bytes: %v", s.Pending, n, err)
	}
	data, err := z.Take(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func state(t *testing.T, z *gadget.Client) gadget.State {
	t.Helper()
	s, err := z.State(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func do(t *testing.T, z *gadget.Client, op string, n int64) {
	t.Helper()
	if _, err := z.Do(t.Context(), op, n); err != nil {
		t.Fatal(err)
	}
}

// label4x6 is a 4×6 inch shipping label at 203 dpi (812×1218 dots) whose upper part is a 812×1000-dot
// ^GF graphic in ASCII hex (102,000 bytes of bitmap, 204,000 hex digits), the way a carrier label with
// an embedded logo and barcode image arrives, plus a text field. Deterministic.
func label4x6() []byte {
	const width, rows = 812, 1000
	const bytesPerRow = (width + 7) / 8
	rng := rand.New(rand.NewPCG(4, 6))
	bitmap := make([]byte, bytesPerRow*rows)
	for i := range bitmap {
		row, col := i/bytesPerRow, i%bytesPerRow
		switch {
		case row < 200: // noise: a photo-like logo
			bitmap[i] = byte(rng.Uint32())
		case col%4 < 2: // bars
			bitmap[i] = 0xff
		}
	}
	var b bytes.Buffer
	b.WriteString("^XA^PW812^LL1218^LH0,0\n")
	fmt.Fprintf(&b, "^FO0,0^GFA,%d,%d,%d,", len(bitmap), len(bitmap), bytesPerRow)
	const hexDigits = "0123456789ABCDEF"
	for _, c := range bitmap {
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	b.WriteString("^FS\n^FO40,1060^A0N,50,50^FDprintdock usbvm 4x6^FS\n^XZ\n")
	return b.Bytes()
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func TestDiscovery(t *testing.T) {
	zebra(t)
	start := time.Now()
	infos := scanFor(t, true, 30*time.Second)
	t.Logf("Scan found %+v after %v", infos, time.Since(start).Round(time.Millisecond))
	if len(infos) != 1 {
		t.Fatalf("Scan found %d printers, want 1: %+v", len(infos), infos)
	}
	want := printer.Info{
		ID:            printerID,
		Name:          "Zebra Technologies ZTC ZD420-203dpi ZPL",
		Make:          "Zebra Technologies",
		Model:         "ZTC ZD420-203dpi ZPL", // from the 1284 ID's MDL, not the USB product string
		Serial:        gadget.Zebra.Serial,
		Language:      printer.LangZPL,
		Bidirectional: true,
	}
	if infos[0] != want {
		t.Errorf("Scan info\n got %+v\nwant %+v", infos[0], want)
	}

	// The raw GET_DEVICE_ID answer, parsed with printer.ParseDeviceID: every field of the gadget's
	// 1284 ID must come through.
	c := gousb.NewContext()
	defer c.Close()
	dev, err := c.OpenDeviceWithVIDPID(gousb.ID(gadget.Zebra.Vendor), gousb.ID(gadget.Zebra.Product))
	if err != nil || dev == nil {
		t.Fatalf("open with gousb: %v", err)
	}
	defer dev.Close()
	alt := dev.Desc.Configs[1].Interfaces[0].AltSettings[0]
	if alt.Class != gousb.ClassPrinter || alt.SubClass != usb.SubClassPrinter || alt.Protocol != usb.ProtocolBidirectional {
		t.Errorf("interface %d.%d class/subclass/protocol = %v/%v/%v, want 7/1/2", alt.Number, alt.Alternate, alt.Class, alt.SubClass, alt.Protocol)
	}
	buf := make([]byte, 1024)
	n, err := dev.Control(0xA1, 0, 0, 0, buf) // GET_DEVICE_ID, config 0, interface 0 alt 0
	if err != nil {
		t.Fatalf("GET_DEVICE_ID: %v", err)
	}
	t.Logf("GET_DEVICE_ID: %d bytes, length prefix %#04x: %q", n, int(buf[0])<<8|int(buf[1]), buf[2:n])
	id, err := printer.ParseDeviceID(buf[:n])
	if err != nil {
		t.Fatalf("ParseDeviceID: %v", err)
	}
	want1284 := printer.ParseDeviceIDString(gadget.Zebra.DeviceID)
	if id.Manufacturer != want1284.Manufacturer || id.Model != want1284.Model || !slices.Equal(id.CommandSet, want1284.CommandSet) ||
		id.Class != want1284.Class || id.Description != want1284.Description {
		t.Errorf("1284 ID over the wire\n got %+v\nwant %+v", id, want1284)
	}
	if !id.Speaks("ZPL") || id.Language() != printer.LangZPL {
		t.Errorf("1284 ID does not speak ZPL: %+v", id)
	}
	fmt.Printf("USBVM_TIMING discovery %.0f ms until Scan listed the printer (from the first test's start)\n",
		float64(time.Since(start).Microseconds())/1000)
}

func TestLabel4x6(t *testing.T) {
	z := zebra(t)
	label := label4x6()
	if len(label) < 100_000 {
		t.Fatalf("label is %d bytes, want ≥ 100 KB", len(label))
	}
	p := open(t, usb.Options{})
	before := state(t, z)

	const runs = 5
	var ds []time.Duration
	for i := range runs {
		start := time.Now()
		if err := p.Write(t.Context(), label); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		ds = append(ds, time.Since(start))
		got := received(t, z, len(label))
		if !bytes.Equal(got, label) {
			t.Fatalf("write %d: printer received %d bytes, not the %d-byte label (first difference at %d)",
				i, len(got), len(label), firstDiff(got, label))
		}
	}
	// A scan while the printer is open here must not touch it, and still list it.
	if infos, err := usb.Scan(t.Context()); err != nil || len(infos) != 1 || infos[0].ID != printerID || infos[0].Model == "" {
		t.Errorf("scan while open: %+v, %v", infos, err)
	}
	if s := state(t, z); s.Jobs-before.Jobs != runs {
		t.Errorf("printer counted %d jobs, want %d", s.Jobs-before.Jobs, runs)
	}
	m := median(ds)
	fmt.Printf("USBVM_TIMING label_write %.2f MB/s (%d-byte 4x6 label with a 102,000-byte ^GF graphic; median Write of %d: %.1f ms; first %.1f ms)\n",
		float64(len(label))/m.Seconds()/1e6, len(label), runs, ms(m), ms(ds[0]))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestHostStatus(t *testing.T) {
	z := zebra(t)
	p := open(t, usb.Options{})
	before := state(t, z)
	const runs = 20
	var ds []time.Duration
	for i := range runs {
		start := time.Now()
		st, err := p.Status(t.Context())
		ds = append(ds, time.Since(start))
		if err != nil || st.State != printer.StateReady {
			t.Fatalf("status %d: %+v, %v; want ready", i, st, err)
		}
	}
	if s := state(t, z); s.HSAnswered-before.HSAnswered != runs {
		t.Errorf("printer answered %d ~HS, want %d", s.HSAnswered-before.HSAnswered, runs)
	}
	if got := received(t, z, 0); len(got) != 0 {
		t.Errorf("~HS leaked into the job stream: %q", got)
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	fmt.Printf("USBVM_TIMING hs_rtt %.1f ms median, %.1f ms p90, %.1f ms min (Status = GET_PORT_STATUS + ~HS over bulk OUT + 3-string reply over bulk IN; n=%d)\n",
		ms(s[len(s)/2]), ms(s[len(s)*9/10]), ms(s[0]), runs)

	// Paused: the ~HS reply says so.
	do(t, z, gadget.OpPause, 0)
	st, err := p.Status(t.Context())
	if err != nil || st.State != printer.StatePaused || !errors.Is(st.Err(), printer.ErrPaused) {
		t.Fatalf("paused: %+v, %v", st, err)
	}
	do(t, z, gadget.OpUnpause, 0)
	if st, err := p.Status(t.Context()); err != nil || st.State != printer.StateReady {
		t.Fatalf("unpaused: %+v, %v", st, err)
	}
}

func TestMediaOut(t *testing.T) {
	z := zebra(t)
	p := open(t, usb.Options{StatusTimeout: time.Second, TransferTimeout: 2 * time.Second})
	do(t, z, gadget.OpMediaOut, 0)
	before := state(t, z)

	// A Zebra out of media stays silent to ~HS; the port status says paper empty.
	st, err := p.Status(t.Context())
	if !errors.Is(err, printer.ErrNoStatus) {
		t.Errorf("status err = %v, want ErrNoStatus", err)
	}
	if st.State != printer.StateMediaOut || !errors.Is(st.Err(), printer.ErrMediaOut) || !strings.Contains(st.Reason, "port status") {
		t.Errorf("status = %+v, want media out from the port status", st)
	}
	if s := state(t, z); s.HSIgnored-before.HSIgnored != 1 || s.Port != gadget.PortPaperEmpty|gadget.PortSelected {
		t.Errorf("printer state %+v: want one ignored ~HS and port status %#02x", s, gadget.PortPaperEmpty|gadget.PortSelected)
	}
	t.Logf("media out: %+v, %v", st, err)

	// It still buffers a small job.
	small := []byte("^XA^FO50,50^A0N,40,40^FDwhile out of media^FS^XZ\n")
	if err := p.Write(t.Context(), small); err != nil {
		t.Fatalf("small job while out of media: %v", err)
	}
	if got := received(t, z, len(small)); !bytes.Equal(got, small) {
		t.Fatalf("got %q", got)
	}

	// With its receive buffer full it stops taking data: the transfer times out and the port status
	// tells why. The bytes Write reports as handed on are exactly what reaches the printer.
	do(t, z, gadget.OpStall, 0)
	label := label4x6()
	start := time.Now()
	err = p.Write(t.Context(), label)
	t.Logf("write into a full buffer: %v after %v", err, time.Since(start).Round(time.Millisecond))
	if !errors.Is(err, printer.ErrMediaOut) {
		t.Fatalf("write err = %v, want ErrMediaOut", err)
	}
	n, ok := printer.Written(err)
	if !ok || n <= 0 || n >= len(label) {
		t.Fatalf("written = %d, %v; want part of %d", n, ok, len(label))
	}
	// Out of media with a full buffer, ~HS cannot even get in: Status still answers, within the
	// transfer timeout, from the port status.
	start = time.Now()
	st, err = p.Status(t.Context())
	t.Logf("status with a full buffer: %+v, %v after %v", st, err, time.Since(start).Round(time.Millisecond))
	if !errors.Is(err, printer.ErrNoStatus) || st.State != printer.StateMediaOut {
		t.Errorf("status with a full buffer: %+v, %v; want media out, ErrNoStatus", st, err)
	}
	do(t, z, gadget.OpResume, 0)
	if got := received(t, z, n); !bytes.Equal(got, label[:n]) {
		t.Fatalf("printer got %d bytes after the timeout, Write reported %d handed on (first difference at %d)", len(got), n, firstDiff(got, label[:n]))
	}

	// Media loaded: ready again.
	do(t, z, gadget.OpMediaIn, 0)
	if st, err := p.Status(t.Context()); err != nil || st.State != printer.StateReady {
		t.Fatalf("after loading media: %+v, %v", st, err)
	}
}

// Cancelling the context aborts a transfer the printer is not taking, promptly, and Write reports
// exactly what was handed on.
func TestCancelMidJob(t *testing.T) {
	z := zebra(t)
	label := label4x6()
	// A transfer timeout far beyond the test's: only the context can end this write, so a cancellation
	// that does not work hangs the test (and fails it) instead of passing late.
	p := open(t, usb.Options{TransferTimeout: time.Hour})
	do(t, z, gadget.OpStall, 0)
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := p.Write(ctx, label)
	// How long the cancellation took is a reported figure, not an assertion (no timed assertions in tests).
	t.Logf("write cancelled by its context: %v after %v", err, time.Since(start).Round(time.Millisecond))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("write err = %v, want the context's deadline", err)
	}
	n, ok := printer.Written(err)
	if !ok || n <= 0 || n >= len(label) {
		t.Fatalf("written = %d, %v; want part of %d", n, ok, len(label))
	}
	do(t, z, gadget.OpResume, 0)
	if got := received(t, z, n); !bytes.Equal(got, label[:n]) {
		t.Fatalf("printer got %d bytes, Write reported %d handed on", len(got), n)
	}
	// The printer takes the next job whole (it prints the partial one and this one, as a Zebra would).
	if err := p.Write(t.Context(), label); err != nil {
		t.Fatal(err)
	}
	if got := received(t, z, len(label)); !bytes.Equal(got, label) {
		t.Fatalf("next job: got %d bytes", len(got))
	}
}

func TestUnplugMidJob(t *testing.T) {
	z := zebra(t)
	label := label4x6()
	p := open(t, usb.Options{})
	if err := p.Write(t.Context(), label); err != nil { // warm: the printer works before the pull
		t.Fatal(err)
	}
	received(t, z, len(label))

	do(t, z, gadget.OpUnplugAfter, 64<<10)
	err := p.Write(t.Context(), label)
	t.Logf("write with the cable pulled after 64 KiB: %v", err)
	if !errors.Is(err, printer.ErrDisconnected) || !strings.Contains(err.Error(), "printer disconnected") {
		t.Fatalf("write err = %v, want printer.ErrDisconnected", err)
	}
	n, ok := printer.Written(err)
	if !ok || n <= 0 || n >= len(label) {
		t.Fatalf("written = %d, %v; want part of %d", n, ok, len(label))
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := z.WaitFor(ctx, func(s gadget.State) bool { return !s.Plugged }); err != nil {
		t.Fatal(err)
	}
	got, err := z.Take(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) > n || !bytes.Equal(got, label[:len(got)]) {
		t.Fatalf("printer got %d bytes, Write reported %d handed on (must be ≥ what arrived)", len(got), n)
	}
	t.Logf("printer got %d bytes before the pull; Write reported %d", len(got), n)

	// Unplugged: status says so, a scan no longer lists it.
	st, err := p.Status(t.Context())
	if !errors.Is(err, printer.ErrDisconnected) || st.State != printer.StateOffline {
		t.Errorf("status while unplugged: %+v, %v; want offline, ErrDisconnected", st, err)
	}
	scanFor(t, false, 10*time.Second)

	// Plugged back in: a fresh scan finds it, and the same Printer prints again.
	start := time.Now()
	do(t, z, gadget.OpPlug, 0)
	scanFor(t, true, 30*time.Second)
	back := time.Since(start)
	if err := p.Write(t.Context(), label); err != nil {
		t.Fatalf("write after re-plug: %v", err)
	}
	if got := received(t, z, len(label)); !bytes.Equal(got, label) {
		t.Fatalf("after re-plug the printer got %d bytes, not the label", len(got))
	}
	if st, err := p.Status(t.Context()); err != nil || st.State != printer.StateReady {
		t.Fatalf("status after re-plug: %+v, %v", st, err)
	}
	fmt.Printf("USBVM_TIMING replug %.0f ms from plug-in until Scan listed the printer again\n", ms(back))
}

// A printer re-plugged while idle leaves the open Printer with a dead handle: the next Status and the
// next Write must reopen it, and the Write must send the job exactly once (nothing of it had reached
// the printer, so resending cannot print twice).
func TestReplugWhileIdle(t *testing.T) {
	z := zebra(t)
	label := label4x6()
	p := open(t, usb.Options{})
	if st, err := p.Status(t.Context()); err != nil || st.State != printer.StateReady {
		t.Fatalf("status: %+v, %v", st, err)
	}
	replug := func() {
		t.Helper()
		do(t, z, gadget.OpUnplug, 0)
		scanFor(t, false, 10*time.Second)
		do(t, z, gadget.OpPlug, 0)
		scanFor(t, true, 30*time.Second)
	}

	replug()
	if st, err := p.Status(t.Context()); err != nil || st.State != printer.StateReady {
		t.Fatalf("status after re-plug: %+v, %v", st, err)
	}

	replug()
	before := state(t, z)
	if err := p.Write(t.Context(), label); err != nil {
		t.Fatalf("write after re-plug: %v", err)
	}
	if got := received(t, z, len(label)); !bytes.Equal(got, label) {
		t.Fatalf("printer got %d bytes, want the %d-byte label once", len(got), len(label))
	}
	if s := state(t, z); s.Jobs-before.Jobs != 1 {
		t.Fatalf("printer printed %d jobs, want 1", s.Jobs-before.Jobs)
	}
}
