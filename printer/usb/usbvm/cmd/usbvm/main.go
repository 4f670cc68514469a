// Command usbvm runs the USB-in-QEMU suite (package printdock/printer/usb/usbvm): it boots Debian's
// kernel in QEMU with a USB printer gadget on dummy_hcd and runs the real printer/usb against it. It
// exits 0 only on a clean run. With tools missing it fails when PRINTDOCK_REQUIRE_REAL=1 and otherwise
// says it skipped and why. scripts/usb-qemu.sh runs it; see docs/usb-qemu.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"printdock/printer/usb/usbvm"
)

func main() {
	var cfg usbvm.Config
	timeout := flag.Duration("timeout", 15*time.Minute, "outer timeout for the whole run (kernel download, builds, guest)")
	flag.DurationVar(&cfg.BootTimeout, "boot-timeout", 5*time.Minute, "timeout for QEMU from start to power-off")
	flag.DurationVar(&cfg.TestTimeout, "test-timeout", 3*time.Minute, "-test.timeout of the guest tests")
	flag.StringVar(&cfg.Run, "run", "", "-test.run pattern for the guest tests")
	flag.StringVar(&cfg.CacheDir, "cache", "", "cache directory (default $PRINTDOCK_USBVM_CACHE or $(go env GOCACHE)/../printdock-usbvm)")
	flag.StringVar(&cfg.Accel, "accel", "tcg", "QEMU accelerator (KVM hangs on the probed machines)")
	flag.BoolVar(&cfg.Keep, "keep", false, "keep the work directory (binaries, initramfs)")
	check := flag.Bool("check", false, "only check that the needed tools are installed")
	flag.Parse()

	if err := usbvm.CheckTools(); err != nil {
		if os.Getenv("PRINTDOCK_REQUIRE_REAL") == "1" {
			fmt.Fprintf(os.Stderr, "usbvm: FAIL: %v (PRINTDOCK_REQUIRE_REAL=1)\n", err)
			os.Exit(1)
		}
		fmt.Printf("usbvm: SKIP: %v\n", err)
		return
	}
	if *check {
		fmt.Println("usbvm: all tools present")
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	res, err := usbvm.Run(ctx, cfg)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("%w (outer timeout %v)", err, *timeout)
		}
		fmt.Fprintf(os.Stderr, "usbvm: FAIL: %v\n", err)
		os.Exit(1)
	}
	res.Summary(os.Stdout)
}
