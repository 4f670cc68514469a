package usbvm

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"printdock/internal/testenv"
)

// TestUSBInQEMU runs the whole suite: QEMU, the printer gadget and the real printer/usb. It takes a
// minute or more, so it runs only when asked with PRINTDOCK_USB_QEMU=1 (and not with -short); the test
// command runs the same thing once through scripts/test.d/60-usb-qemu.sh, not in its `go test ./...`.
func TestUSBInQEMU(t *testing.T) {
	if os.Getenv("PRINTDOCK_USB_QEMU") != "1" {
		t.Skip("set PRINTDOCK_USB_QEMU=1 to boot the USB suite in QEMU (the test command runs it via scripts/test.d/60-usb-qemu.sh)")
	}
	if testing.Short() {
		t.Skip("-short: not booting QEMU")
	}
	testenv.RequireReal(t, "QEMU USB suite tools", CheckTools())
	w := &testLog{t: t}
	res, err := Run(t.Context(), Config{Log: w})
	w.flush()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	res.Summary(&b)
	t.Log("\n" + b.String())
}

// testLog streams the run's log into t.Log line by line; safe for concurrent writes.
type testLog struct {
	t   *testing.T
	mu  sync.Mutex
	buf []byte
}

func (l *testLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, b...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		l.t.Log(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
}

func (l *testLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.t.Log(string(l.buf))
		l.buf = nil
	}
}

func TestCPIO(t *testing.T) {
	var b bytes.Buffer
	c := newCPIO(&b)
	c.File("usr/bin/x", 0o755, []byte("hello"))
	c.Symlink("bin/sh", "busybox")
	c.CharDev("dev/console", 0o600, 5, 1)
	c.Dir("usr") // already there: once only
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw)%4 != 0 {
		t.Errorf("archive length %d not 4-aligned", len(raw))
	}
	// Walk the archive: names in order, with their sizes.
	type ent struct {
		name string
		mode int
		data string
	}
	var got []ent
	for off := 0; off < len(raw); {
		h := string(raw[off : off+110])
		if !strings.HasPrefix(h, "070701") {
			t.Fatalf("bad magic at %d: %q", off, h[:6])
		}
		hex := func(i int) int {
			var v int
			for _, c := range h[6+8*i : 14+8*i] {
				v = v*16 + strings.IndexRune("0123456789ABCDEF", c)
			}
			return v
		}
		mode, size, namesize := hex(1), hex(6), hex(11)
		name := string(raw[off+110 : off+110+namesize-1])
		off = (off + 110 + namesize + 3) &^ 3
		data := string(raw[off : off+size])
		off = (off + size + 3) &^ 3
		got = append(got, ent{name, mode, data})
		if name == "TRAILER!!!" {
			if off != len(raw) {
				t.Errorf("data after the trailer")
			}
			break
		}
	}
	var names []string
	for _, e := range got {
		names = append(names, e.name)
	}
	want := []string{"usr", "usr/bin", "usr/bin/x", "bin", "bin/sh", "dev", "dev/console", "TRAILER!!!"}
	if !slices.Equal(names, want) {
		t.Fatalf("names %q, want %q", names, want)
	}
	if got[2].data != "hello" || got[2].mode != 0o100755 || got[4].data != "busybox" || got[4].mode != 0o120777 ||
		got[0].mode != 0o040755 || got[6].mode != 0o020600 {
		t.Errorf("entries %+v", got)
	}
}

// The dependency order of the real modules.dep lines for the guest's modules (Debian 6.1).
func TestLoadOrder(t *testing.T) {
	dep := `kernel/drivers/usb/common/usb-common.ko:
kernel/drivers/usb/core/usbcore.ko: kernel/drivers/usb/common/usb-common.ko
kernel/fs/configfs/configfs.ko:
kernel/drivers/usb/gadget/udc/udc-core.ko: kernel/drivers/usb/common/usb-common.ko
kernel/drivers/usb/class/usblp.ko: kernel/drivers/usb/core/usbcore.ko kernel/drivers/usb/common/usb-common.ko
kernel/drivers/usb/gadget/libcomposite.ko: kernel/drivers/usb/gadget/udc/udc-core.ko kernel/drivers/usb/common/usb-common.ko kernel/fs/configfs/configfs.ko
kernel/drivers/usb/gadget/udc/dummy_hcd.ko: kernel/drivers/usb/gadget/udc/udc-core.ko kernel/drivers/usb/core/usbcore.ko kernel/drivers/usb/common/usb-common.ko
kernel/drivers/usb/gadget/function/usb_f_printer.ko: kernel/drivers/usb/gadget/libcomposite.ko kernel/drivers/usb/gadget/udc/udc-core.ko kernel/drivers/usb/common/usb-common.ko kernel/fs/configfs/configfs.ko
`
	order, err := loadOrder([]byte(dep), guestModules)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range order {
		names = append(names, moduleName(p))
	}
	want := []string{"usb_common", "usbcore", "udc_core", "dummy_hcd", "configfs", "libcomposite", "usb_f_printer", "usblp"}
	if !slices.Equal(names, want) {
		t.Fatalf("order %q, want %q", names, want)
	}
	if _, err := loadOrder([]byte(dep), []string{"g_nope"}); err == nil {
		t.Fatal("missing module: no error")
	}
}

func TestGuestVerdict(t *testing.T) {
	clean := []string{
		"USBVM_BOOTED uptime=1.50",
		"=== RUN   TestDiscovery",
		"--- PASS: TestDiscovery (0.20s)",
		"USBVM_TIMING label_write 3.10 MB/s (…)",
		"USBVM_TIMING hs_rtt 4.0 ms median",
		"USBVM_TIMING tspl_discovery 600 ms from the profile switch",
		"    --- PASS: TestX/sub (0.00s)",
		"USBVM_DONE uptime=9.25",
		"TEST_EXIT=0",
	}
	tests := []struct {
		name    string
		lines   []string
		wantErr string
	}{
		{"clean", clean, ""},
		{"no exit", clean[:len(clean)-1], "without TEST_EXIT"},
		{"exit 1", append(slices.Clone(clean[:len(clean)-1]), "--- FAIL: TestY (1.00s)", "TEST_EXIT=1"), "TEST_EXIT=1, failed: TestY"},
		{"skipped", append([]string{"--- SKIP: TestZ (0.00s)"}, clean...), "skipped: TestZ"},
		{"no timings", []string{"--- PASS: TestDiscovery (0.20s)", "TEST_EXIT=0"}, "no label_write timing"},
		{"no tspl timing", slices.DeleteFunc(slices.Clone(clean), func(l string) bool { return strings.Contains(l, "tspl") }),
			"no tspl_discovery timing"},
		{"nothing passed", []string{"TEST_EXIT=0"}, "no guest test passed"},
		{"insmod failed", []string{"USBVM_ERROR insmod usbcore.ko failed", "TEST_EXIT=97"}, "insmod usbcore.ko failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g guestRun
			for _, l := range tt.lines {
				g.line(l)
			}
			err := g.verdict(true)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if g.booted != 1.5 || g.done != 9.25 || len(g.passed) != 2 || len(g.timings) != 3 || g.timings[0].Name != "label_write" {
					t.Fatalf("parsed %+v", g)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestCheckToolsNamesPackages(t *testing.T) {
	err := CheckTools()
	if err == nil {
		return
	}
	if !errors.Is(err, ErrMissingTools) || !strings.Contains(err.Error(), "install-deps.sh") {
		t.Fatalf("err = %v", err)
	}
	if _, lerr := exec.LookPath("qemu-system-x86_64"); lerr != nil && !strings.Contains(err.Error(), "qemu-system-x86") {
		t.Fatalf("qemu missing but not named: %v", err)
	}
}
