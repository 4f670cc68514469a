// Command gadget-zebra is the printer in the USB-in-QEMU suite: run inside the guest (as root, with
// configfs mounted and libcomposite, usb_f_printer and dummy_hcd loaded), it makes a Zebra-like USB
// printer gadget, plugs it in and serves it and its control socket until killed. See package
// printdock/printer/usb/usbvm/gadget and docs/usb-qemu.md. Built with CGO_ENABLED=0.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"printdock/printer/usb/usbvm/gadget"
)

func main() {
	ctl := flag.String("ctl", "/tmp/zebra.sock", "control socket path")
	configfs := flag.String("configfs", "/sys/kernel/config/usb_gadget", "configfs usb_gadget directory")
	udc := flag.String("udc", "", "USB device controller to bind to (default: the first one)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if err := run(*ctl, *configfs, *udc, log); err != nil {
		log.Error("gadget-zebra", "err", err)
		os.Exit(1)
	}
}

func run(ctl, configfs, udc string, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	port, err := gadget.NewConfigFS(configfs, "zebra", udc, gadget.Zebra)
	if err != nil {
		return err
	}
	_ = os.Remove(ctl)
	l, err := net.Listen("unix", ctl)
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	p := gadget.New(port, log)
	ctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- p.Serve(ctx, l) }()
	log.Info("gadget-zebra: serving", "udc", port.UDC, "ctl", ctl)
	err = p.Run(ctx)
	cancel()
	<-errc
	if ctx.Err() != nil && err == ctx.Err() {
		return nil
	}
	return err
}
